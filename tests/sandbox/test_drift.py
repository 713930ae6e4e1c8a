"""Fleet drift (`--drift`): a generated fleet changes from one sandbox day to the next, the lab never."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from iot_defender_tui.cli import build_parser
from iot_defender_tui.sandbox import audits, drift, scheduler
from iot_defender_tui.sandbox.checks import CHECKS
from iot_defender_tui.sandbox.fleet import LAB_POLICY, LAB_THINGS, seed_fleet
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.sandbox.state import AuditConfig, CheckConfig
from tests.support.factories import audit_role, configure_audit, defender_state

Key = tuple[str, str]  # (check, resource identifier): the same finding across audits


def audit() -> set[Key]:
    """Every check's findings of a new audit now, each as (check, resource)."""
    state = defender_state()
    with state.lock:
        if state.audit_config is None:  # an `empty` fleet: every check, as configure_audit would
            state.audit_config = AuditConfig(
                role_arn=audit_role(), checks={name: CheckConfig(enabled=True) for name in CHECKS}
            )
        task = audits.start_audit(state, sorted(CHECKS), runtime().clock.now())
    audits.run_to_completion(state, task)
    found = (state.findings[f] for f in task.finding_ids)
    return {(f.check_name, audits.resource_key(f.resource_identifier)) for f in found}


def reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))


def post(url: str, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url + path, method="POST")) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_drift_is_off_by_default(sandbox_url) -> None:
    seed_fleet("empty", devices=300, seed=2)
    before = audit()
    state = defender_state()
    rt = runtime()
    rt.options.day_seconds = 60
    for _day in range(5):
        rt.clock.advance(60)
        drift.advance(state, rt.clock.now())
    assert state.generated.drift_steps == 0
    assert audit() == before


def test_a_drifting_day_fixes_and_introduces_about_the_configured_shares(sandbox_url) -> None:
    seed_fleet("empty", devices=2000, seed=7)
    before = audit()
    report = drift.drift(defender_state(), 1, 0.2, 0.1, runtime().clock.now())
    after = audit()
    resolved, new, persisting = before - after, after - before, before & after
    # Role aliases, Cognito pools and CAs do not drift: shares of all findings are a little lower.
    assert 0.1 * len(before) < len(resolved) < 0.25 * len(before)
    assert 0.04 * len(before) < len(new) < 0.13 * len(before)
    assert len(persisting) > 0.7 * len(before)
    assert report.fixed["certificate"] > 0
    assert len(report.introduced) >= 5
    # Every fix and every new problem is one finding or more.
    assert len(resolved) >= sum(report.fixed.values())
    assert len(new) >= sum(report.introduced.values()) - report.introduced["shared"]
    for check in ("DEVICE_CERTIFICATE_AGE_CHECK", "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"):
        assert any(c == check for c, _ in resolved | new)


ACCOUNT_CHECKS = {  # what drift leaves alone: CAs, role aliases, Cognito pools, logging
    "CA_CERTIFICATE_EXPIRING_CHECK",
    "CA_CERTIFICATE_KEY_QUALITY_CHECK",
    "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK",
    "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK",
    "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK",
    "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
    "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
    "LOGGING_DISABLED_CHECK",
}
# The check each kind of new problem shows up in.
INTRODUCED_IN = {
    "old": "DEVICE_CERTIFICATE_AGE_CHECK",
    "expiring": "DEVICE_CERTIFICATE_EXPIRING_CHECK",
    "revoked": "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
    "shared": "DEVICE_CERTIFICATE_SHARED_CHECK",
    "weak": "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
    "intermediate": "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK",
    "conflict": "CONFLICTING_CLIENT_IDS_CHECK",
    "permissive": "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    "misconfigured": "IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK",
}


def test_a_full_share_fixes_every_generated_problem(sandbox_url) -> None:
    seed_fleet("empty", devices=1000, seed=9)
    assert {check for check, _ in audit()} == set(CHECKS)
    report = drift.drift(defender_state(), 1, 1.0, 0.0, runtime().clock.now())
    assert set(report.fixed) == {"certificate", "client", "policy"} and not report.introduced
    assert {check for check, _ in audit()} == ACCOUNT_CHECKS


def test_every_kind_of_new_problem_shows_in_its_check(sandbox_url) -> None:
    seed_fleet("empty", devices=1000, seed=10)
    before = audit()
    report = drift.drift(defender_state(), 1, 0.0, 1.0, runtime().clock.now())
    assert set(report.introduced) == set(INTRODUCED_IN) and not report.fixed
    new = audit() - before
    assert {check for check, _ in new} == set(INTRODUCED_IN.values())
    assert len(new) >= sum(report.introduced.values())
    assert before <= audit()  # nothing was fixed


def test_the_same_seed_and_days_give_the_same_changes(sandbox_url) -> None:
    def run(seed: int) -> tuple[list[tuple[str, str, str]], dict[str, int]]:
        reset(sandbox_url)
        runtime().options.seed = seed
        seed_fleet("empty", devices=400, seed=3)
        report = drift.drift(defender_state(), 3, 0.2, 0.2, runtime().clock.now())
        counts: dict[str, int] = {}
        for check, _ in audit():
            counts[check] = counts.get(check, 0) + 1
        return report.changes, counts

    first = run(1)
    assert first[0] and first == run(1)
    assert run(2)[0] != first[0]


def lab_findings(found: set[Key]) -> set[Key]:
    state = defender_state()
    lab_cert = next(
        cert.certificate_id for (_arn, thing), (cert, _) in state_things(state) if thing == LAB_THINGS[0]
    )
    return {
        (check, resource)
        for check, resource in found
        if lab_cert in resource or LAB_POLICY in resource or check == "LOGGING_DISABLED_CHECK"
    }


def state_things(state: Any) -> list[Any]:
    from moto.iot.models import iot_backends

    return list(iot_backends[state.account_id][state.region].principal_things.items())


def test_the_lab_keeps_its_exact_behaviour_while_its_generated_devices_drift(sandbox_url, iot) -> None:
    seed_fleet("lab", devices=500, seed=4)
    before = audit()
    lab = lab_findings(before)
    assert {check for check, _ in lab} == {
        "DEVICE_CERTIFICATE_SHARED_CHECK",
        "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
        "LOGGING_DISABLED_CHECK",
    }
    principals = {t: iot.list_thing_principals(thingName=t)["principals"] for t in LAB_THINGS}
    policy = iot.get_policy(policyName=LAB_POLICY)

    report = drift.drift(defender_state(), 6, 0.5, 0.5, runtime().clock.now())
    assert sum(report.fixed.values()) > 50 and sum(report.introduced.values()) > 50
    after = audit()
    assert after != before
    assert lab_findings(after) == lab
    assert {t: iot.list_thing_principals(thingName=t)["principals"] for t in LAB_THINGS} == principals
    assert iot.get_policy(policyName=LAB_POLICY)["defaultVersionId"] == policy["defaultVersionId"]


def test_the_lab_alone_does_not_drift(sandbox_url) -> None:
    seed_fleet("lab")
    before = audit()
    assert drift.drift(defender_state(), 5, 1.0, 1.0, runtime().clock.now()).days == 0
    assert audit() == before


def test_scheduled_audits_on_short_days_see_the_fleet_drift(sandbox_url, iot) -> None:
    rt = runtime()
    rt.options.day_seconds = 60
    rt.options.drift = 0.3
    seed_fleet("empty", devices=600, seed=5)
    configure_audit(iot)
    state = defender_state()
    iot.create_scheduled_audit(scheduledAuditName="daily", frequency="DAILY", targetCheckNames=sorted(CHECKS))
    drift.advance(state, rt.clock.now())  # the day the schedule was made: nothing yet

    seen: set[str] = set()

    def next_day() -> set[Key]:
        rt.clock.advance(60)
        now = rt.clock.now()
        drift.advance(state, now)  # as the ticker does (it may be first): drift, then schedules
        scheduler.advance(state, now)
        with state.lock:
            (task,) = [
                t
                for t in state.tasks.values()
                if t.task_type == "SCHEDULED_AUDIT_TASK" and t.task_id not in seen
            ]
        seen.add(task.task_id)
        audits.run_to_completion(state, task)
        return {
            (state.findings[f].check_name, audits.resource_key(state.findings[f].resource_identifier))
            for f in task.finding_ids
        }

    first, second, third = next_day(), next_day(), next_day()
    assert state.generated.drift_steps == 3
    for earlier, later in ((first, second), (second, third)):
        assert later - earlier and earlier - later  # new and resolved findings each day
        assert len(earlier & later) > 0.5 * len(earlier)


def test_a_clock_moved_several_days_drifts_each_of_them(sandbox_url) -> None:
    rt = runtime()
    rt.options.day_seconds = 60
    rt.options.drift = 0.1
    seed_fleet("empty", devices=200, seed=6)
    state = defender_state()
    drift.advance(state, rt.clock.now())
    rt.clock.advance(4 * 60)
    drift.advance(state, rt.clock.now())
    drift.advance(state, rt.clock.now())  # the same day again: nothing more
    assert state.generated.drift_steps == 4


def test_admin_drift_path(sandbox_url) -> None:
    status, reply = post(sandbox_url, "/_sandbox/drift?days=2")
    assert (status, reply) == (200, {"days": 2, "fixed": {}, "introduced": {}})  # no generated fleet
    seed_fleet("empty", devices=500, seed=8)
    before = audit()
    status, reply = post(sandbox_url, "/_sandbox/drift?days=2&share=0.2")
    assert status == 200 and reply["days"] == 2
    assert sum(reply["fixed"].values()) > 5 and sum(reply["introduced"].values()) > 5
    assert defender_state().generated.drift_steps == 2
    assert audit() != before
    status, reply = post(sandbox_url, "/_sandbox/drift?share=0.3&new=0")
    assert status == 200 and reply["introduced"] == {} and reply["fixed"]
    for bad in ("days=0", "days=366", "days=x", "share=2", "new=-1", "share=nan", "speed=3"):
        status, reply = post(sandbox_url, f"/_sandbox/drift?{bad}")
        assert status == 400, bad
        assert reply["message"]


def test_cli_flags() -> None:
    args = build_parser().parse_args(["sandbox", "--drift", "0.2"])
    assert (args.drift, args.drift_new) == (0.2, None)
    args = build_parser().parse_args(["sandbox", "--drift", "0.1", "--drift-new", "0.3"])
    assert (args.drift, args.drift_new) == (0.1, 0.3)
    assert build_parser().parse_args(["sandbox"]).drift == 0.0
    for bad in ("1.5", "-0.1", "nan"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["sandbox", "--drift", bad])


def test_admin_advance_drifts_the_days_it_moves_the_clock(sandbox_url) -> None:
    runtime().options.drift = 0.2
    seed_fleet("empty", devices=200, seed=11)
    state = defender_state()
    drift.advance(state, runtime().clock.now())
    status, _ = post(sandbox_url, f"/_sandbox/advance?seconds={2 * 86400}")
    assert status == 200
    deadline = time.monotonic() + 10  # the background ticker may have been the one to take that tick
    while state.generated.drift_steps < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.generated.drift_steps == 2


def test_a_certificate_rotated_twice_at_one_instant_takes_over_no_client_id(sandbox_url) -> None:
    """A clock moved several days drifts them all at one instant: a device given a new certificate and
    then another at that instant is one device reconnecting, not a client id taken over by another
    connection (CONFLICTING_CLIENT_IDS_CHECK, "causing an already connected device to be disconnected":
    https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-conflicting-client-ids.html).
    """
    seed_fleet("empty", devices=500, seed=4)
    before = {resource for check, resource in audit() if check == "CONFLICTING_CLIENT_IDS_CHECK"}
    report = drift.drift(defender_state(), 6, 0.5, 0.5, runtime().clock.now())
    assert report.introduced["old"] + report.introduced["expiring"] > 0  # rotations by new problems too
    introduced = {
        audits.resource_key({"clientId": name}) for _, kind, name in report.changes if kind == "conflict"
    }
    after = {resource for check, resource in audit() if check == "CONFLICTING_CLIENT_IDS_CHECK"}
    assert after <= before | introduced
