"""Drift: per check, new / resolved / persisting by check + resource identity (finding ids differ per
audit); the previous audit that covered the same checks."""

from __future__ import annotations

from typing import Any

import pytest

from iot_defender_tui.aws.models_findings import Finding
from iot_defender_tui.history.drift import drift, previous_covering
from iot_defender_tui.history.models import CheckDrift
from iot_defender_tui.history.store import AuditStore, HistoryError
from tests.history.helpers import ACCOUNT, DAY, EXPIRING, POLICY, REGION, SHARED, cert_finding, finding, task

START = 1_700_000_000


def policy(finding_id: str, task_id: str, name: str, version: str = "1", **kw: Any) -> Finding:
    identifier = {"policyVersionIdentifier": {"policyName": name, "policyVersionId": version}}
    resource = {"resourceType": "IOT_POLICY", "resourceIdentifier": identifier}
    return finding(finding_id, task_id, POLICY, resource, **kw)


@pytest.fixture
def pair(store: AuditStore) -> AuditStore:
    """Audit e (earlier): certs 1, 2, 3 shared; cert 5 expiring; policy p1.
    Audit l (later): certs 2, 3, 4 shared; cert 1 expiring (same cert, other check); policy p1 with its
    identifier's members in another order; LOGGING ran in l only and found nothing."""
    store.save_task(ACCOUNT, REGION, task("e", START, {SHARED: 3, EXPIRING: 1, POLICY: 1}))
    store.save_task(ACCOUNT, REGION, task("l", START + DAY, {SHARED: 3, EXPIRING: 1, POLICY: 1,
                                                             "LOGGING_DISABLED_CHECK": 0}))  # fmt: skip
    store.save_findings(ACCOUNT, REGION, "e", [
        cert_finding("e1", "e", 1), cert_finding("e2", "e", 2), cert_finding("e3", "e", 3),
        cert_finding("e5", "e", 5, check=EXPIRING), policy("ep", "e", "p1"),
    ])  # fmt: skip
    reordered = {"resourceType": "IOT_POLICY", "resourceIdentifier": {
        "policyVersionIdentifier": {"policyVersionId": "1", "policyName": "p1"}}}  # fmt: skip
    store.save_findings(ACCOUNT, REGION, "l", [
        cert_finding("l4", "l", 4), cert_finding("l3", "l", 3), cert_finding("l2", "l", 2, suppressed=True),
        cert_finding("l1", "l", 1, check=EXPIRING), finding("lp", "l", POLICY, reordered),
    ])  # fmt: skip
    return store


def test_new_resolved_and_persisting_per_check(pair: AuditStore) -> None:
    result = drift(pair, ACCOUNT, REGION, "e", "l")
    assert (result.earlier_task_id, result.later_task_id) == ("e", "l")
    by_check = {c.check_name: c for c in result.checks}
    assert by_check[SHARED].new == ("l4",)
    assert by_check[SHARED].resolved == ("e1",)
    assert sorted(by_check[SHARED].persisting) == ["l2", "l3"]  # suppression does not matter
    # Cert 1 moved check: resolved in one, new in the other; identity includes the check.
    assert by_check[EXPIRING] == CheckDrift(EXPIRING, new=("l1",), resolved=("e5",), persisting=())
    assert by_check[POLICY] == CheckDrift(POLICY, persisting=("lp",))  # member order ignored
    assert by_check["LOGGING_DISABLED_CHECK"] == CheckDrift("LOGGING_DISABLED_CHECK")
    assert [c.check_name for c in result.checks] == sorted(by_check)


def test_identity_ignores_finding_ids_and_reversed_drift_swaps_new_and_resolved(pair: AuditStore) -> None:
    forward = {c.check_name: c for c in drift(pair, ACCOUNT, REGION, "e", "l").checks}
    backward = {c.check_name: c for c in drift(pair, ACCOUNT, REGION, "l", "e").checks}
    assert backward[SHARED].new == forward[SHARED].resolved
    assert backward[SHARED].resolved == forward[SHARED].new
    assert sorted(backward[SHARED].persisting) == ["e2", "e3"]  # the earlier audit's own ids
    same = drift(pair, ACCOUNT, REGION, "e", "e")
    assert all(not c.new and not c.resolved for c in same.checks)


def test_a_policy_version_is_another_resource(store: AuditStore) -> None:
    store.save_findings(ACCOUNT, REGION, "a", [policy("a1", "a", "p", "1")])
    store.save_findings(ACCOUNT, REGION, "b", [policy("b1", "b", "p", "2")])
    (check,) = drift(store, ACCOUNT, REGION, "a", "b").checks
    assert (check.new, check.resolved, check.persisting) == (("b1",), ("a1",), ())


def test_an_audit_not_stored(pair: AuditStore) -> None:
    with pytest.raises(HistoryError) as raised:
        drift(pair, ACCOUNT, REGION, "e", "missing")
    assert raised.value.reason == "audit not stored"


def test_previous_covering(store: AuditStore) -> None:
    store.save_task(ACCOUNT, REGION, task("full", START, {SHARED: 1, EXPIRING: 1, POLICY: 0}))
    store.save_task(ACCOUNT, REGION, task("narrow", START + DAY, {SHARED: 1}))
    failed = task("failed", START + 2 * DAY, {SHARED: 1, EXPIRING: 1}, status="FAILED")
    store.save_task(ACCOUNT, REGION, failed)
    store.save_task(ACCOUNT, REGION, task("now", START + 3 * DAY, {SHARED: 1, EXPIRING: 1}))
    store.save_task(ACCOUNT, REGION, task("later", START + 4 * DAY, {SHARED: 1, EXPIRING: 1}))

    assert previous_covering(store, ACCOUNT, REGION, "now") == "full"  # a superset; narrow misses a check
    assert previous_covering(store, ACCOUNT, REGION, "narrow") == "full"
    assert previous_covering(store, ACCOUNT, REGION, "later") == "now"
    assert previous_covering(store, ACCOUNT, REGION, "full") is None
    assert previous_covering(store, ACCOUNT, REGION, "unknown") is None
