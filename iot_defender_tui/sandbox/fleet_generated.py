"""A generated fleet: N devices with a seeded, realistic mix of compliant and non-compliant resources.

Every check has something to find (and something that passes) whatever N is: each kind of problem
goes to a fixed share of the devices, at least one. Resources are built as moto model objects and
put straight into the backend; going through moto's request layer would take minutes at 100k.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from moto.cognitoidentity.models import cognitoidentity_backends
from moto.iot.models import FakeCertificate, FakePolicy, FakeThing, iot_backends

from . import pki
from .engine.certinfo import CertInfo, stamp, to_naive_utc
from .engine.connections import TAKEOVER_GAP
from .fleet_roles import seed_cognito_pools, seed_role_aliases
from .runtime import runtime
from .state import Connection, DefenderState

DAY = 86400.0
HOUR = 3600.0
DEVICES_PER_POLICY = 50

# Share of devices affected by each problem (at least one device each).
RATES = {
    "old": 0.06,
    "expiring": 0.02,
    "expired": 0.005,
    "revoked": 0.01,
    "weak": 0.003,
    "roca": 0.0005,
    "shared": 0.01,
    "conflict": 0.005,
    "inactive": 0.03,
}
MAX_RATE = 0.9  # a scaled share stays below 1: every check keeps something that passes
# Inactive certificates are skipped by every check: scaling them up would hide problems, not add them.
UNSCALED = frozenset({"inactive"})


def scaled_rates(scale: float) -> dict[str, float]:
    """RATES times `scale` (the sandbox's --problem-scale), each capped at MAX_RATE."""
    if scale < 0:
        raise ValueError("problem scale must not be negative")
    return {kind: rate if kind in UNSCALED else min(MAX_RATE, rate * scale) for kind, rate in RATES.items()}


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _scoped_policy(account: str, region: str) -> str:
    base = f"arn:aws:iot:{region}:{account}"
    thing = "${iot:Connection.Thing.ThingName}"
    return _policy(
        [
            {
                "Effect": "Allow",
                "Action": "iot:Connect",
                "Resource": f"{base}:client/{thing}",
                "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
            },
            {
                "Effect": "Allow",
                "Action": ["iot:Publish", "iot:Receive"],
                "Resource": [f"{base}:topic/$aws/things/{thing}/*", f"{base}:topic/telemetry/{thing}"],
            },
            {
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": f"{base}:topicfilter/$aws/things/{thing}/*",
            },
            {
                "Effect": "Allow",
                "Action": ["iot:GetThingShadow", "iot:UpdateThingShadow"],
                "Resource": f"{base}:thing/{thing}",
            },
        ]
    )


def _problem_policies(account: str, region: str) -> list[str]:
    base = f"arn:aws:iot:{region}:{account}"
    return [
        _policy([{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]),
        _policy(
            [
                {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{base}:client/*"},
                {
                    "Effect": "Allow",
                    "Action": "iot:Subscribe",
                    "Resource": f"{base}:topicfilter/$aws/things/#",
                },
            ]
        ),
        # Potentially misconfigured: MQTT wildcards in a Deny only match themselves.
        _policy(
            [
                {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{base}:topicfilter/building/*"},
                {
                    "Effect": "Deny",
                    "Action": "iot:Subscribe",
                    "Resource": f"{base}:topicfilter/building/control_room/#",
                },
                {"Effect": "Allow", "Action": "iot:Receive", "Resource": f"{base}:topic/building/*"},
            ]
        ),
        # Potentially misconfigured: subscribing to building/# bypasses the Deny of control_room/*.
        _policy(
            [
                {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{base}:topicfilter/building/*"},
                {
                    "Effect": "Deny",
                    "Action": "iot:Subscribe",
                    "Resource": f"{base}:topicfilter/building/control_room/*",
                },
                {"Effect": "Allow", "Action": "iot:Receive", "Resource": f"{base}:topic/building/*"},
            ]
        ),
    ]


class _Authorities:
    """The fleet's CAs: healthy ones, a revoked intermediate, an expiring, a revoked and a weak one."""

    def __init__(self, state: DefenderState, iot: Any, now: float, rng: random.Random):
        def serial() -> int:
            return rng.getrandbits(63) + 1

        self.root = pki.make_ca("Fleet Root CA", now - 900 * DAY, now + 4000 * DAY, serial=serial())
        self.factory_a = pki.make_ca(
            "Factory A Issuing CA", now - 800 * DAY, now + 2000 * DAY, self.root, serial()
        )
        self.factory_b = pki.make_ca(
            "Factory B Issuing CA", now - 700 * DAY, now + 2000 * DAY, self.root, serial()
        )
        self.legacy = pki.make_ca("Legacy Field CA", now - 3600 * DAY, now + 20 * DAY, serial=serial())
        contract = pki.make_ca("Contract Manufacturer CA", now - 300 * DAY, now + 3000 * DAY, serial=serial())
        retired = pki.make_ca("Retired Field CA", now - 2000 * DAY, now + 1000 * DAY, serial=serial())
        self.ids = {}
        for ca, status in (
            (self.root, "ACTIVE"),
            (self.factory_a, "ACTIVE"),
            (self.factory_b, "ACTIVE"),
            (self.legacy, "ACTIVE"),
            (contract, "ACTIVE"),
            (retired, "INACTIVE"),
        ):
            registered = iot.register_ca_certificate(ca.pem, status == "ACTIVE", {})
            stamp(registered, pki_info(ca))
            self.ids[ca.subject] = registered.certificate_id
        with state.lock:
            # Factory B's intermediate was revoked by the root: what it signed is still in the field.
            state.revoked_intermediates[self.ids[self.factory_b.subject]] = {
                "issuerCertificateSubject": self.factory_b.subject,
                "issuerId": self.ids[self.factory_b.subject],
                "issuerCertificateSerialNumber": self.factory_b.serial_hex,
            }
            state.revoked_ca_certs.add(self.ids[self.factory_b.subject])
            state.revoked_ca_certs.add(self.ids[retired.subject])  # revoked and already inactive
            state.weak_keys[self.ids[contract.subject]] = "CVE-2008-0166"

    def pick(self, rng: random.Random) -> pki.Authority:
        roll = rng.random()
        if roll < 0.02:
            return self.factory_b
        if roll < 0.05:
            return self.legacy
        return self.factory_a if roll < 0.65 else self.root


@dataclass(slots=True)
class GeneratedFleet:
    """What drift.py needs to change a generated fleet the way its generator built it."""

    cas: _Authorities
    next_device: int  # index of the next device to join the fleet (fleet-device-NNNNNN)
    drift_day: int | None = None  # sandbox day the fleet last drifted to (None: not yet looked at)
    drift_steps: int = 0  # drift steps applied so far: each step's random numbers derive from it


def pki_info(ca: pki.Authority) -> CertInfo:
    cert = ca.certificate
    return CertInfo(
        cert.not_valid_before_utc.timestamp(),
        cert.not_valid_after_utc.timestamp(),
        cert.issuer.rfc4514_string(),
    )


def _pick(rng: random.Random, population: range, rate: float) -> set[int]:
    if not population:
        return set()
    return set(rng.sample(population, max(1, min(len(population), round(len(population) * rate)))))


def generate(
    state: DefenderState, devices: int, seed: int, now: float, rates: dict[str, float] | None = None
) -> None:
    """`rates` (share of devices per problem kind, as RATES) overrides --problem-scale's; a kind it leaves
    out or gives 0 is on no device, so an organization's accounts can differ in posture."""
    account, region = state.account_id, state.region
    iot = iot_backends[account][region]
    rng = random.Random(seed)
    cas = _Authorities(state, iot, now, rng)
    everyone = range(devices)
    chosen = rates is not None  # --problem-scale's rates give each problem at least one device
    if rates is None:
        rates = scaled_rates(runtime().options.problem_scale)
    else:
        rates = {kind: min(MAX_RATE, rates.get(kind, 0.0)) for kind in RATES}
    picked = {
        kind: _pick(rng, everyone, rate) if rate > 0 or not chosen else set() for kind, rate in rates.items()
    }
    # A shared certificate belongs to the previous device; that device keeps its own.
    shared = {i for i in _pick(rng, range(1, devices), rates["shared"]) if i - 1 not in picked["shared"]}
    picked["shared"] = shared if devices > 1 and (rates["shared"] > 0 or not chosen) else set()

    policies = _make_policies(iot, account, region, devices, rng)
    roca_key = pki.roca_public_key(seed) if picked["roca"] else None
    certs: list[Any] = []
    log: list[Connection] = []
    revoked, weak, issuer_of = set(), {}, {}
    for i in everyone:
        name = f"fleet-device-{i:06d}"
        thing = FakeThing(name, None, {"model": rng.choice(("TH-100", "TH-200", "GW-7"))}, account, region)
        iot.things[thing.arn] = thing
        if i in picked["shared"]:
            cert = certs[i - 1]
        else:
            cert = _certificate(i, name, cas, picked, rng, now, account, region, roca_key)
            iot.certificates[cert.certificate_id] = cert
            issuer_of[cert.certificate_id] = cas.ids[cert.__dict__["_dd_issuer"]]
            if i in picked["revoked"]:
                revoked.add(cert.certificate_id)
            if i in picked["weak"]:
                weak[cert.certificate_id] = "CVE-2008-0166"
            policy = policies[i % len(policies)]
            iot.principal_policies[(cert.arn, policy.name)] = (cert, policy)
        certs.append(cert)
        iot.principal_things[(cert.arn, name)] = (cert, thing)
        log.extend(_connections(i, name, cert.certificate_id, rng, now, i in picked["shared"]))
    for i in sorted(picked["conflict"]):
        # Another device connects with this device's client id, knocking it off.
        other = certs[(i + 1) % devices].certificate_id if devices > 1 else certs[i].certificate_id
        start = now - rng.uniform(3, 20) * DAY
        name = f"fleet-device-{i:06d}"
        log.append(Connection(name, certs[i].certificate_id, start - 6 * HOUR, start, name))
        log.append(Connection(name, other, start, start + 2 * HOUR, None))
    with state.lock:
        state.revoked_device_certs |= revoked
        state.weak_keys.update(weak)
        state.cert_issuer.update(issuer_of)
        state.connections.extend(_online_once_at_a_time(log))
        state.generated = GeneratedFleet(cas, devices)
    seed_role_aliases(state, iot, now)
    seed_cognito_pools(state, cognitoidentity_backends[account][region])


def _online_once_at_a_time(log: list[Connection]) -> list[Connection]:
    """Merge a device's sessions on one certificate that overlap or nearly touch (drawn at random, or the
    session a clone's original is given): the checks would read them as a takeover of its client id by a
    clone (engine.connections), and only the problems picked are meant to be found."""
    by_session: dict[tuple[str, str], list[Connection]] = defaultdict(list)
    for conn in log:
        by_session[(conn.client_id, conn.certificate_id)].append(conn)
    merged = []
    for conns in by_session.values():
        conns.sort(key=lambda c: c.connected)
        current = conns[0]
        for conn in conns[1:]:
            if current.disconnected is None:
                continue  # still online: it absorbs every later session
            if conn.connected - current.disconnected <= TAKEOVER_GAP:
                later = conn.disconnected
                current.disconnected = None if later is None else max(current.disconnected, later)
                continue
            merged.append(current)
            current = conn
        merged.append(current)
    return merged


def _make_policies(iot: Any, account: str, region: str, devices: int, rng: random.Random) -> list[Any]:
    scoped = _scoped_policy(account, region)
    problems = _problem_policies(account, region)
    count = max(len(problems) + 2, devices // DEVICES_PER_POLICY)
    made = []
    for n in range(count):
        # The first policies carry each problem once; later ones are mostly well scoped.
        if n < len(problems):
            document = problems[n]
        else:
            document = scoped if rng.random() > 0.02 else rng.choice(problems)
        policy = FakePolicy(f"fleet-policy-{n:05d}", document, account, region)
        iot.policies[policy.name] = policy
        made.append(policy)
    # Overly broad but attached to nothing: compliant.
    spare = FakePolicy("fleet-policy-unused-admin", problems[0], account, region)
    iot.policies[spare.name] = spare
    return made


def _certificate(
    i: int,
    name: str,
    cas: _Authorities,
    picked: dict[str, set[int]],
    rng: random.Random,
    now: float,
    account: str,
    region: str,
    roca_key: Any,
) -> Any:
    if i in picked["expired"]:
        not_after = now - rng.uniform(1, 60) * DAY
        not_before = not_after - 365 * DAY
    elif i in picked["expiring"]:
        not_after = now + rng.uniform(1, 25) * DAY
        not_before = not_after - 365 * DAY
    else:
        age = rng.uniform(370, 1500) if i in picked["old"] else rng.uniform(1, 300)
        not_before = now - age * DAY
        not_after = not_before + 3650 * DAY
    ca = cas.legacy if i in picked["roca"] else cas.pick(rng)
    key = roca_key if i in picked["roca"] else None
    pem, info = pki.issue(ca, name, not_before, not_after, key, serial=rng.getrandbits(63) + 1)
    if i in picked["inactive"]:
        status = "INACTIVE"
    elif i in picked["revoked"] and rng.random() < 0.4:
        status = "REVOKED"  # already dealt with: compliant
    else:
        status = "ACTIVE"
    cert = FakeCertificate(pem, status, account, region, cas.ids[ca.subject])
    cert.creation_date = cert.last_modified_date = to_naive_utc(not_before)
    stamp(cert, info)
    cert.__dict__["_dd_issuer"] = ca.subject
    return cert


def _connections(
    i: int, name: str, cert_id: str, rng: random.Random, now: float, sharing: bool
) -> list[Connection]:
    start = now - rng.uniform(2, 28) * DAY
    end = start + rng.uniform(1, 48) * HOUR
    found = [Connection(name, cert_id, start, end, name)]
    if rng.random() < 0.6:
        found.append(Connection(name, cert_id, now - rng.uniform(0.1, 1.5) * DAY, None, name))
    if sharing:
        # The cloned device connects while the original (previous device, same certificate) is online.
        original = f"fleet-device-{i - 1:06d}"
        found.append(Connection(original, cert_id, start - HOUR, end + HOUR, original))
    return found
