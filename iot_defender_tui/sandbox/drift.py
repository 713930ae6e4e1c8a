"""Drift: a generated fleet changes from one sandbox day to the next, so audits have a trend to show.

Each step fixes a share of the problems an audit would find in the generated part of the fleet now
(`--drift`) and introduces as many again times `--drift-new`, the way the fleet's owners would:

- a device certificate with problems (old, expiring or expired, revoked, weak key, issued by the revoked
  intermediate, shared by two devices) is rotated: every device on it gets a fresh certificate of its
  own, the old one is deactivated;
- a conflicting client id is fixed by the intruder going away (its connections leave the log, as they
  would leave the audit's 31-day window);
- an overly permissive or misconfigured policy gets a new, well-scoped default version.

New problems: a device re-provisioned with an old, a short-lived or a Factory B certificate, a device
certificate revoked by its issuer or found weak, a new device cloning another's certificate, a device's
client id used with another certificate, a policy given a broad or misconfigured default version.

Only resources of the generated fleet are touched (things `fleet-device-*`, their certificates,
policies `fleet-policy-*`, their connections): the lab's resources, CAs, role aliases, Cognito pools and
logging stay as they were. Each step's random numbers come from the seed and the step's number alone, so
the same seed and the same days give the same changes, whatever the traffic.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from moto.iot.models import FakeCertificate, FakeThing, iot_backends

from . import pki
from .engine import certificates, connections, keys, policies
from .engine.certinfo import active, stamp, to_naive_utc
from .engine.context import AuditContext
from .fleet_generated import GeneratedFleet, _problem_policies, _scoped_policy
from .runtime import runtime
from .state import Connection, DefenderState

DAY = 86400.0
HOUR = 3600.0
DEVICE = "fleet-device-"
POLICY = "fleet-policy-"
MAX_CATCH_UP = 31  # days drifted at most in one tick (a clock moved years ahead must not stall)
MAX_POLICY_VERSIONS = 5  # AWS's limit (moto enforces it too)
DEBIAN = "CVE-2008-0166"
# Weights of the problems introduced, close to the generated fleet's own mix (fleet_generated.RATES).
INTRODUCE = {
    "old": 6,
    "expiring": 3,
    "revoked": 2,
    "shared": 2,
    "weak": 1,
    "intermediate": 1,
    "conflict": 1,
    "permissive": 1,
    "misconfigured": 1,
}
_DEVICE_CHECKS = (
    certificates.device_age,
    certificates.device_expiring,
    certificates.revoked_device,
    certificates.intermediate_revoked,
    keys.device_key_quality,
    connections.shared_certificates,
)


@dataclass
class Report:
    """What drifting did: counts by kind of problem fixed and introduced."""

    days: int = 0
    fixed: Counter[str] = field(default_factory=Counter)
    introduced: Counter[str] = field(default_factory=Counter)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (fixed|introduced, kind, name)

    def as_json(self) -> dict[str, Any]:
        return {"days": self.days, "fixed": dict(self.fixed), "introduced": dict(self.introduced)}


def shares() -> tuple[float, float]:
    opts = runtime().options
    return opts.drift, opts.drift if opts.drift_new is None else opts.drift_new


def advance(state: DefenderState, now: float) -> None:
    """Drift once per sandbox day crossed since the last call (the scheduler's calendar)."""
    fix, new = shares()
    fleet: GeneratedFleet | None = state.generated
    day_seconds = runtime().options.day_seconds
    if fleet is None or (fix <= 0 and new <= 0) or day_seconds <= 0:
        return
    today = int((now - runtime().started) // day_seconds)
    with state.lock:
        if fleet.drift_day is None or today < fleet.drift_day:
            fleet.drift_day = today  # the first look (or a calendar moved back) starts the count
            return
        days = min(today - fleet.drift_day, MAX_CATCH_UP)
        fleet.drift_day = today
        # Still under the lock: a scheduler running in another thread (an admin `advance`) waits for
        # the day's fleet rather than audit it half drifted.
        drift(state, days, fix, new, now)


def drift(state: DefenderState, days: int, fix: float, new: float, now: float) -> Report:
    """Apply `days` drift steps to `state`'s generated fleet now (nothing without one)."""
    report = Report()
    fleet: GeneratedFleet | None = state.generated
    if fleet is None:
        return report
    for _ in range(days):
        with state.lock:  # a step at a time: requests waiting for the lock get in between steps
            rng = random.Random(f"drift:{runtime().options.seed}:{fleet.drift_steps}")
            fleet.drift_steps += 1
            _Step(state, fleet, now, rng, report).run(fix, new)
            report.days += 1
    return report


def _deactivate(cert: Any, now: float) -> None:
    """What UpdateCertificate --new-status INACTIVE does (moto's own looks the certificate up in O(n))."""
    cert.status = "INACTIVE"
    cert.last_modified_date = to_naive_utc(now)


def _count(amount: float, rng: random.Random) -> int:
    """`amount` rounded up or down at random, so small shares of small fleets still happen on average."""
    whole = int(amount)
    return whole + (rng.random() < amount - whole)


class _Step:
    def __init__(
        self, state: DefenderState, fleet: GeneratedFleet, now: float, rng: random.Random, report: Report
    ):
        self.state, self.fleet, self.now, self.rng, self.report = state, fleet, now, rng, report
        self.iot = iot_backends[state.account_id][state.region]
        self.scoped = _scoped_policy(state.account_id, state.region)
        self.problem_documents = _problem_policies(state.account_id, state.region)
        self.things_of: dict[str, list[str]] = defaultdict(list)  # certificate ARN -> thing names
        self.certs_of: dict[str, list[Any]] = defaultdict(list)  # thing name -> certificates
        self.policies_of: dict[str, list[Any]] = defaultdict(list)  # certificate ARN -> policies
        for (arn, thing), (cert, _thing) in list(self.iot.principal_things.items()):
            self.things_of[arn].append(thing)
            self.certs_of[thing].append(cert)
        for (arn, _name), (_cert, policy) in list(self.iot.principal_policies.items()):
            self.policies_of[arn].append(policy)
        self.gone: set[str] = set()  # client ids whose intruder goes away
        self._by_client: dict[str, list[Connection]] | None = None  # built on first use

    def _connections_of(self, client: str) -> list[Connection]:
        if self._by_client is None:
            self._by_client = defaultdict(list)
            for conn in self.state.connections:
                self._by_client[conn.client_id].append(conn)
        return self._by_client[client]

    def _connect(self, conn: Connection) -> None:
        self.state.connections.append(conn)
        if self._by_client is not None:
            self._by_client[conn.client_id].append(conn)

    def run(self, fix: float, new: float) -> None:
        problems = self._problems()
        total = len(problems)
        ordered = sorted(problems)
        for key in self.rng.sample(ordered, min(total, _count(total * fix, self.rng))):
            self._fix(key, problems[key])
        if self.gone:
            self.state.connections[:] = [
                c for c in self.state.connections if not (c.client_id in self.gone and c.thing_name is None)
            ]
            self._by_client = None
        self._introduce(_count(total * new, self.rng), problems)

    # --- what an audit would find now, in the generated fleet -----------------------------------------

    def _fleet_cert(self, cert: Any) -> bool:
        things = self.things_of.get(cert.arn)
        return bool(things) and all(t.startswith(DEVICE) for t in things)

    def _problems(self) -> dict[tuple[str, str], Any]:
        """Problem -> what to fix, keyed by names (certificate ids differ from run to run)."""
        ctx = AuditContext.of(self.state, self.now)
        found: dict[tuple[str, str], Any] = {}
        for check in _DEVICE_CHECKS:
            for draft in check(ctx).findings:
                cert = self.iot.certificates.get(draft.resource_identifier.get("deviceCertificateId"))
                if cert is not None and self._fleet_cert(cert):
                    found[("certificate", min(self.things_of[cert.arn]))] = cert
        for draft in connections.conflicting_client_ids(ctx).findings:
            client = draft.resource_identifier["clientId"]
            if client.startswith(DEVICE):
                found[("client", client)] = client
        for check in (policies.overly_permissive, policies.potential_misconfiguration):
            for draft in check(ctx).findings:
                name = draft.resource_identifier["policyVersionIdentifier"]["policyName"]
                if name.startswith(POLICY):
                    found[("policy", name)] = name
        return found

    # --- fixes ---------------------------------------------------------------------------------------

    def _fix(self, key: tuple[str, str], target: Any) -> None:
        kind, name = key
        if kind == "certificate":
            for thing in sorted(self.things_of[target.arn]):
                self._rotate(thing, target)
            _deactivate(target, self.now)
        elif kind == "client":
            self.gone.add(target)
        else:
            self._new_version(target, self.scoped)
        self.report.fixed[kind] += 1
        self.report.changes.append(("fixed", kind, name))

    def _rotate(self, thing: str, old: Any, kind: str = "healthy") -> Any:
        """Give `thing` a new certificate of `kind` in place of `old`, with old's policies."""
        cas, now, rng = self.fleet.cas, self.now, self.rng
        ca = cas.factory_b if kind == "intermediate" else cas.factory_a
        if kind == "old":
            not_before = now - rng.uniform(370, 1500) * DAY
            not_after = not_before + 3650 * DAY
        elif kind == "expiring":
            not_after = now + rng.uniform(1, 25) * DAY
            not_before = not_after - 365 * DAY
        else:
            not_before, not_after = now - HOUR, now + 3650 * DAY
        pem, info = pki.issue(ca, thing, not_before, not_after, serial=rng.getrandbits(63) + 1)
        state, iot = self.state, self.iot
        cert = FakeCertificate(pem, "ACTIVE", state.account_id, state.region, cas.ids[ca.subject])
        cert.creation_date = cert.last_modified_date = to_naive_utc(now)
        stamp(cert, info)
        iot.certificates[cert.certificate_id] = cert
        state.cert_issuer[cert.certificate_id] = cas.ids[ca.subject]
        thing_object = iot.principal_things.pop((old.arn, thing))[1]
        iot.principal_things[(cert.arn, thing)] = (cert, thing_object)
        for policy in self.policies_of.get(old.arn, []):
            iot.principal_policies[(cert.arn, policy.name)] = (cert, policy)
        # The device reconnects with its new certificate a minute after its connections on the old one
        # end. One begun this very instant (a clock moved several days drifts them all at one time) goes
        # on with the new certificate instead: ending it as another begins would read as a takeover of
        # its client id (engine.connections).
        reconnected = False
        for conn in self._connections_of(thing):
            if conn.certificate_id == old.certificate_id and conn.disconnected is None:
                if conn.connected >= now:
                    conn.certificate_id, reconnected = cert.certificate_id, True
                else:
                    conn.disconnected = max(conn.connected, now - 60)
        if not reconnected:
            self._connect(Connection(thing, cert.certificate_id, now, None, thing))
        return cert

    def _new_version(self, name: str, document: str) -> None:
        policy = self.iot.policies[name]
        if len(policy.versions) >= MAX_POLICY_VERSIONS:
            oldest = min((v for v in policy.versions if not v.is_default), key=lambda v: int(v.version_id))
            self.iot.delete_policy_version(name, oldest.version_id)
        self.iot.create_policy_version(name, document, True)

    # --- new problems --------------------------------------------------------------------------------

    def _introduce(self, count: int, problems: dict[tuple[str, str], Any]) -> None:
        if count <= 0:
            return
        healthy = self._healthy_devices(problems)
        spare_policies = sorted(
            {p.name for ps in self.policies_of.values() for p in ps if p.name.startswith(POLICY)}
            - {name for kind, name in problems if kind == "policy"}
        )
        kinds, weights = list(INTRODUCE), list(INTRODUCE.values())
        for _ in range(count):
            kind = self.rng.choices(kinds, weights)[0]
            if kind in ("permissive", "misconfigured"):
                if not spare_policies:
                    continue
                name = spare_policies.pop(self.rng.randrange(len(spare_policies)))
                documents = self.problem_documents
                self._new_version(
                    name, documents[0] if kind == "permissive" else self.rng.choice(documents[2:])
                )
            else:
                name = self._degrade(kind, healthy)
                if name is None:
                    continue
            self.report.introduced[kind] += 1
            self.report.changes.append(("introduced", kind, name))

    def _healthy_devices(self, problems: dict[tuple[str, str], Any]) -> list[str]:
        """Fleet devices with one active certificate of their own and no problem, by name."""
        troubled = {name for kind, name in problems if kind in ("certificate", "client")}
        found = []
        for thing, certs in self.certs_of.items():
            if not thing.startswith(DEVICE) or thing in troubled or len(certs) != 1:
                continue
            cert = certs[0]
            if active(cert) and self.things_of[cert.arn] == [thing]:
                found.append(thing)
        return sorted(found)

    def _take(self, pool: list[str]) -> str | None:
        if not pool:
            return None
        i = self.rng.randrange(len(pool))
        pool[i], pool[-1] = pool[-1], pool[i]
        return pool.pop()

    def _degrade(self, kind: str, healthy: list[str]) -> str | None:
        thing = self._take(healthy)
        if thing is None:
            return None
        cert = self.certs_of[thing][0]
        state, now = self.state, self.now
        if kind in ("old", "expiring", "intermediate"):
            self._rotate(thing, cert, kind)
            _deactivate(cert, now)
        elif kind == "revoked":
            state.revoked_device_certs.add(cert.certificate_id)
        elif kind == "weak":
            state.weak_keys[cert.certificate_id] = DEBIAN
        elif kind == "shared":
            clone = f"{DEVICE}{self.fleet.next_device:06d}"
            self.fleet.next_device += 1
            model = FakeThing(clone, None, {"model": "TH-100"}, state.account_id, state.region)
            self.iot.things[model.arn] = model
            self.iot.principal_things[(cert.arn, clone)] = (cert, model)
            # The clone connects while the original is online, long enough ago for an audit now to see it
            # (AWS reads the log up to 2 hours before the check). A second session of the original's own
            # would read as a takeover of its client id.
            if not any(
                c.certificate_id == cert.certificate_id and c.disconnected is None
                for c in self._connections_of(thing)
            ):
                self._connect(Connection(thing, cert.certificate_id, now - 3 * HOUR, None, thing))
            self._connect(Connection(clone, cert.certificate_id, now - 2.5 * HOUR, None, clone))
            return f"{thing}+{clone}"
        else:  # conflict: another device's certificate connects with this device's client id
            other = self._quiet_device(healthy)
            if other is None:
                return None
            other_cert = self.certs_of[other][0].certificate_id
            # It knocks the device off now (the device's session ends as the intruder's begins), so that a
            # scheduled audit starting now sees it too: it reads the log since its last run, with no lag.
            knocked_off = now
            online = [
                c
                for c in self._connections_of(thing)
                if c.certificate_id == cert.certificate_id
                and c.connected <= knocked_off
                and (c.disconnected is None or c.disconnected > knocked_off)
            ]
            for conn in online:
                conn.disconnected = knocked_off
            if not online:
                self._connect(Connection(thing, cert.certificate_id, now - 6 * HOUR, knocked_off, thing))
            self._connect(Connection(thing, other_cert, knocked_off, now + HOUR, None))
            return thing
        return thing

    def _quiet_device(self, healthy: list[str]) -> str | None:
        """A healthy device not online in the last two hours, so lending its certificate does not make
        it look shared too."""
        for _ in range(20):
            other = self._take(healthy)
            if other is None:
                return None
            # A healthy device's certificate is used by that device only, under its own client id.
            cert_id = self.certs_of[other][0].certificate_id
            if not any(
                c.certificate_id == cert_id
                and (c.disconnected is None or c.disconnected > self.now - 2 * HOUR)
                for c in self._connections_of(other)
            ):
                return other
        return None
