"""AuditStore: what goes in comes out (every field the UI shows), re-saving is harmless, suppression is
the one thing that changes, completeness says when an audit can be read from the store, prune forgets."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iot_defender_tui.history.store import AuditStore
from tests.history.helpers import (
    ACCOUNT,
    DAY,
    EXPIRING,
    POLICY,
    REGION,
    SHARED,
    cert,
    cert_finding,
    finding,
    task,
)

START = 1_700_000_000


def mixed(task_id: str) -> list:
    """Findings of every shape: related resources with additionalInfo, a nested identifier, an issuer's
    two-member identifier, a suppressed one, no reason, text that is not plain ASCII."""
    client = {
        "resourceType": "CLIENT_ID",
        "resourceIdentifier": {"clientId": "dev-ü-1"},
        "additionalInfo": {"CONNECTION_TIME": "1700000000000", "DISCONNECTION_TIME": "1700000100000"},
    }
    return [
        cert_finding("f1", task_id, 1, related=[client, {"resourceType": "CLIENT_ID",
                                                         "resourceIdentifier": {"clientId": "dev-2"}}]),
        cert_finding("f2", task_id, 2, check=EXPIRING, suppressed=True, reasonForNonCompliance=None,
                     reasonForNonComplianceCode=None, severity="MEDIUM"),
        finding("f3", task_id, POLICY, {"resourceType": "IOT_POLICY", "resourceIdentifier": {
            "policyVersionIdentifier": {"policyName": "wide [open]", "policyVersionId": "3"}}},
            reasonForNonCompliance="Policy allows broad access 'iot:*'"),
        finding("f4", task_id, "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK", {
            "resourceType": "ISSUER_CERTIFICATE", "resourceIdentifier": {
                "deviceCertificateArn": f"arn:aws:iot:eu-west-1:{ACCOUNT}:cert/{cert(4)}",
                "issuerCertificateIdentifier": {"issuerCertificateSubject": "CN=Intermediate",
                                                "issuerId": "abc", "issuerCertificateSerialNumber": "10"}}},
            findingTime=None),
    ]  # fmt: skip


def test_tasks_round_trip_newest_first(store: AuditStore) -> None:
    older = task("t-old", START, {SHARED: 2, EXPIRING: 0})
    newer = task("t-new", START + DAY, {SHARED: 1})
    store.save_task(ACCOUNT, REGION, older)
    store.save_task(ACCOUNT, REGION, newer)
    store.save_task(ACCOUNT, "us-east-1", task("t-elsewhere", START + 2 * DAY, {SHARED: 1}))

    assert store.tasks(ACCOUNT, REGION) == [newer, older]
    assert store.task(ACCOUNT, REGION, "t-old") == older
    assert store.task(ACCOUNT, REGION, "t-elsewhere") is None  # keyed by region too
    assert older.start_time == datetime.fromtimestamp(START, UTC)
    assert older.statistics is not None and older.statistics.total == 2


def test_resaving_a_task_updates_it_and_a_list_item_keeps_its_details(store: AuditStore) -> None:
    running = task("t1", START, {SHARED: 0}, status="IN_PROGRESS")
    store.save_task(ACCOUNT, REGION, running)
    done = task("t1", START, {SHARED: 3})
    store.save_task(ACCOUNT, REGION, done)
    assert store.task(ACCOUNT, REGION, "t1") == done
    # ListAuditTasks' item: id, status and type only; what DescribeAuditTask told is kept.
    store.save_task(ACCOUNT, REGION, replace(done, start_time=None, statistics=None, checks=(),
                                             scheduled_audit_name=None))  # fmt: skip
    assert store.task(ACCOUNT, REGION, "t1") == done
    assert len(store.tasks(ACCOUNT, REGION)) == 1


def test_findings_round_trip_every_field(store: AuditStore) -> None:
    store.save_task(ACCOUNT, REGION, task("t1", START, {SHARED: 1, EXPIRING: 1, POLICY: 1}))
    saved = mixed("t1")
    assert store.save_findings(ACCOUNT, REGION, "t1", saved) == 4

    read = [f for batch in store.findings(ACCOUNT, REGION, "t1") for f in batch]
    assert sorted(read, key=lambda f: f.finding_id) == saved  # equal dataclasses: every field
    by_id = {f.finding_id: f for f in read}
    assert by_id["f1"].related[0].connected_at == datetime.fromtimestamp(1_700_000_000, UTC)
    assert by_id["f1"].resource.readable == saved[0].resource.readable
    assert by_id["f3"].resource.readable == "wide [open] v3"
    assert by_id["f4"].resource.full_id == "abc" and by_id["f4"].finding_time is None
    assert by_id["f2"].is_suppressed and by_id["f2"].reason is None
    # The values an audit repeats are one object each, as Finding.from_api makes them.
    assert by_id["f1"].check_name is saved[0].check_name
    assert by_id["f1"].task_start_time is by_id["f3"].task_start_time


def test_order_is_stable_and_pages_and_batches_agree(store: AuditStore) -> None:
    findings = [cert_finding(f"f{n:03d}", "t1", n, check=(SHARED, EXPIRING)[n % 2]) for n in range(230)]
    store.save_findings(ACCOUNT, REGION, "t1", findings)

    batches = list(store.findings(ACCOUNT, REGION, "t1", batch=50))
    assert [len(b) for b in batches] == [50, 50, 50, 50, 30]
    everything = [f for b in batches for f in b]
    assert [f.check_name for f in everything] == [EXPIRING] * 115 + [SHARED] * 115  # by check
    assert store.findings_page(ACCOUNT, REGION, "t1", None, 100, 20) == everything[100:120]
    assert everything == [f for b in store.findings(ACCOUNT, REGION, "t1") for f in b]

    shared = [f for b in store.findings(ACCOUNT, REGION, "t1", SHARED, batch=40) for f in b]
    assert shared == everything[115:]
    assert store.findings_page(ACCOUNT, REGION, "t1", SHARED, 110, 20) == shared[110:]
    assert store.count(ACCOUNT, REGION, "t1") == 230
    assert store.count(ACCOUNT, REGION, "t1", SHARED) == 115
    assert store.counts_by_check(ACCOUNT, REGION, "t1") == {SHARED: 115, EXPIRING: 115}
    assert store.count(ACCOUNT, REGION, "nope") == 0
    assert list(store.findings(ACCOUNT, REGION, "nope")) == []


def test_resaving_findings_is_idempotent(store: AuditStore) -> None:
    first = mixed("t1")
    store.save_findings(ACCOUNT, REGION, "t1", first)
    store.save_findings(ACCOUNT, REGION, "t1", first)  # a resumed sync reads a page again
    changed = [replace(first[0], is_suppressed=True), *first[1:]]
    store.save_findings(ACCOUNT, REGION, "t1", changed)
    assert store.count(ACCOUNT, REGION, "t1") == 4
    read = [f for b in store.findings(ACCOUNT, REGION, "t1") for f in b]
    assert sorted(read, key=lambda f: f.finding_id) == changed


def test_suppression_is_updated_in_place(store: AuditStore) -> None:
    store.save_findings(ACCOUNT, REGION, "t1", mixed("t1"))
    assert store.set_suppressed(ACCOUNT, REGION, ["f1", "f3", "missing"], True) == 2
    assert store.set_suppressed(ACCOUNT, REGION, ["f2"], False) == 1
    assert store.set_suppressed(ACCOUNT, "us-east-1", ["f1"], False) == 0  # another region's store
    states = {f.finding_id: f.is_suppressed for b in store.findings(ACCOUNT, REGION, "t1") for f in b}
    assert states == {"f1": True, "f2": False, "f3": True, "f4": False}


def test_completeness_and_resume(store: AuditStore) -> None:
    store.save_task(ACCOUNT, REGION, task("t1", START, {SHARED: 2, EXPIRING: 1, POLICY: 0}))
    store.save_findings(ACCOUNT, REGION, "t1", [cert_finding("a", "t1", 1), cert_finding("b", "t1", 2)])
    store.mark_check_complete(ACCOUNT, REGION, "t1", SHARED)
    store.mark_check_complete(ACCOUNT, REGION, "t1", SHARED)
    assert store.complete_checks(ACCOUNT, REGION, "t1") == {SHARED}
    assert not store.is_complete(ACCOUNT, REGION, "t1")  # EXPIRING's finding is not stored yet

    store.save_findings(ACCOUNT, REGION, "t1", [cert_finding("c", "t1", 3, check=EXPIRING)])
    store.mark_check_complete(ACCOUNT, REGION, "t1", EXPIRING)
    assert store.is_complete(ACCOUNT, REGION, "t1")  # POLICY found nothing: nothing to store

    store.save_task(ACCOUNT, REGION, task("t2", START, {SHARED: 0}, status="IN_PROGRESS"))
    assert not store.is_complete(ACCOUNT, REGION, "t2")
    assert not store.is_complete(ACCOUNT, REGION, "unknown")


def test_findings_before_their_task(store: AuditStore) -> None:
    store.save_findings(ACCOUNT, REGION, "t1", [cert_finding("a", "t1", 1)])
    store.save_task(ACCOUNT, REGION, task("t1", START, {SHARED: 1}))
    assert store.count(ACCOUNT, REGION, "t1") == 1
    assert [t.task_id for t in store.tasks(ACCOUNT, REGION)] == ["t1"]


def test_prune_deletes_old_audits_with_their_findings(store: AuditStore) -> None:
    now = datetime.fromtimestamp(START + 100 * DAY, UTC)
    for name, age in (("old", 95), ("edge", 89), ("new", 1)):
        store.save_task(ACCOUNT, REGION, task(name, START + (100 - age) * DAY, {SHARED: 1}))
        store.save_findings(ACCOUNT, REGION, name, [cert_finding(f"{name}-f", name, 1)])
        store.mark_check_complete(ACCOUNT, REGION, name, SHARED)
    store.save_findings(ACCOUNT, REGION, "no-start", [cert_finding("x", "no-start", 1)])

    assert store.prune(90, now=now) == 1
    assert {t.task_id for t in store.tasks(ACCOUNT, REGION)} == {"edge", "new", "no-start"}
    assert store.count(ACCOUNT, REGION, "old") == 0
    assert store.set_suppressed(ACCOUNT, REGION, ["old-f"], True) == 0
    assert store.prune(90, now=now) == 0
    assert store.count(ACCOUNT, REGION, "edge") == 1


def test_default_path_is_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOT_DEFENDER_TUI_HOME", str(tmp_path))
    with AuditStore.open() as store:
        assert store.path == tmp_path / "data" / "audit-history.sqlite3"
    assert (tmp_path / "data" / "audit-history.sqlite3").stat().st_mode & 0o777 == 0o600


def test_usable_from_threads(store: AuditStore) -> None:
    def save(n: int) -> None:
        store.save_findings(ACCOUNT, REGION, "t1", [cert_finding(f"{n}-{k}", "t1", k) for k in range(200)])

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count(ACCOUNT, REGION, "t1") == 800
