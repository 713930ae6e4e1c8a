"""A stored audit's list browsed on demand (history/browse.py): the same findings, in the same order, as the
store reads them the usual way; labels of version 1 rows rebuilt; damage said, not shown as wrong rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from iot_defender_tui.aws.models_findings import Finding
from iot_defender_tui.history.browse import StoredList
from iot_defender_tui.history.generate import generate
from iot_defender_tui.history.store import AuditStore, HistoryError
from tests.history.helpers import ACCOUNT, REGION, SHARED, cert_finding, task

NOW = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
CLIENTS = "CONFLICTING_CLIENT_IDS_CHECK"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuditStore, list[str]]]:
    """Two audits of ~3000 findings each (the later one is the one browsed; the earlier one shares most of
    its resources, so a list that leaked the other audit's rows would show it)."""
    path = tmp_path_factory.mktemp("browse") / "history.sqlite3"
    with AuditStore.open(path) as store:
        task_ids = generate(store, ACCOUNT, REGION, findings=3000, tasks=2, now=NOW)
        yield store, task_ids


def stored_list(store: AuditStore, task_id: str, check: str | None = None) -> StoredList:
    stored = StoredList(store.path, ACCOUNT, REGION, task_id, check)
    stored.load()
    return stored


def read_all(store: AuditStore, task_id: str, check: str | None = None) -> list[Finding]:
    return [f for batch in store.findings(ACCOUNT, REGION, task_id, check, batch=700) for f in batch]


def ids(findings: list[Finding]) -> list[str]:
    return [f.finding_id for f in findings]


def summary(f: Finding) -> tuple[object, ...]:
    """What a row shows and what an action needs of a finding."""
    return (f.finding_id, f.check_name, f.severity, f.resource.resource_type, f.resource.identifier,
            f.resource.readable, [r.identifier for r in f.related], f.reason_code, f.reason,
            f.finding_time, f.is_suppressed)  # fmt: skip


def test_lists_the_store_findings_in_the_store_order(generated: tuple[AuditStore, list[str]]) -> None:
    store, (earlier, later) = generated
    for check in (None, CLIENTS, SHARED):
        expected = read_all(store, later, check)
        stored = stored_list(store, later, check)
        try:
            assert len(stored) == len(expected) > 0
            assert ids(stored.findings(range(len(stored)))) == ids(expected)
            assert stored.label.tolist() == [f.resource.readable.lower().encode() for f in expected]
        finally:
            stored.close()
    assert set(ids(read_all(store, earlier))).isdisjoint(ids(read_all(store, later)))


def test_findings_at_positions_are_the_store_findings(generated: tuple[AuditStore, list[str]]) -> None:
    store, (_earlier, later) = generated
    expected = read_all(store, later)
    stored = stored_list(store, later)
    try:
        # Out of order, repeated, across read batches (500 a query), and the related clients of a check.
        positions = [2999, 0, 1500, 7, 7, *range(600, 1700, 3)]
        assert [summary(f) for f in stored.findings(positions)] == [summary(expected[p]) for p in positions]
        assert stored.findings([]) == []
        # Columns agree with the findings (what filter and sort read).
        picked = [0, 42, 2999]
        assert stored.suppressed[picked].tolist() == [expected[p].is_suppressed for p in picked]
        assert stored.time[picked].tolist() == [expected[p].finding_time.timestamp() for p in picked]
    finally:
        stored.close()


def test_suppression_saved_is_what_the_list_reads(generated: tuple[AuditStore, list[str]]) -> None:
    store, (_earlier, later) = generated
    chosen = read_all(store, later, CLIENTS)[3:6]
    store.set_suppressed(ACCOUNT, REGION, [f.finding_id for f in chosen], True)
    try:
        stored = stored_list(store, later, CLIENTS)
        try:
            assert np.flatnonzero(stored.suppressed).tolist() == [3, 4, 5]
            assert [f.is_suppressed for f in stored.findings(range(2, 7))] == [False, True, True, True, False]
        finally:
            stored.close()
    finally:
        store.set_suppressed(ACCOUNT, REGION, [f.finding_id for f in chosen], False)


@pytest.fixture
def small(store: AuditStore) -> AuditStore:
    """One audit of hand-made findings: certs with related clients, a second check, one suppressed; cert 2
    has two findings of the shared check (f2, f6) and one of the age check (f5)."""
    store.save_task(ACCOUNT, REGION, task("t", 1_700_000_000, {SHARED: 4, "DEVICE_CERTIFICATE_AGE_CHECK": 1}))
    related = [{"resourceType": "CLIENT_ID", "resourceIdentifier": {"clientId": "Pump-Ä"}}]
    store.save_findings(ACCOUNT, REGION, "t", [
        cert_finding("f1", "t", 1, related=related), cert_finding("f2", "t", 2, suppressed=True),
        cert_finding("f3", "t", 3), cert_finding("f4", "t", 0xABCDEF),
        cert_finding("f5", "t", 2, check="DEVICE_CERTIFICATE_AGE_CHECK"), cert_finding("f6", "t", 2),
    ])  # fmt: skip
    return store


def sql(path: Path, statement: str) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(statement)
    db.close()


def test_version_1_rows_get_their_label_rebuilt(small: AuditStore) -> None:
    expected = read_all(small, "t")
    with_labels = stored_list(small, "t")
    sql(small.path, "UPDATE finding SET label = NULL")  # as history version 1 wrote them
    rebuilt = stored_list(small, "t")
    try:
        labels = [f.resource.readable.lower().encode() for f in expected]
        assert rebuilt.label.tolist() == labels == with_labels.label.tolist()
        assert any(b"\xe2\x80\xa6" in label for label in labels)  # the short id's ellipsis, as UTF-8
        assert ids(rebuilt.findings(range(len(rebuilt)))) == ids(expected)
    finally:
        rebuilt.close()
        with_labels.close()


def test_only_some_rows_without_label(small: AuditStore) -> None:
    sql(small.path, "UPDATE finding SET label = NULL WHERE finding_id IN ('f2', 'f4')")
    stored = stored_list(small, "t")
    try:
        found = stored.findings(range(len(stored)))
        assert stored.label.tolist() == [f.resource.readable.lower().encode() for f in found]
    finally:
        stored.close()


def test_same_resource_is_every_finding_of_that_check_and_resource(small: AuditStore) -> None:
    # One suppression covers a check's findings on a resource: f2 and f6, not f5 (another check).
    stored = stored_list(small, "t")
    try:
        ids = [f.finding_id for f in stored.findings(range(len(stored)))]
        at = {finding_id: n for n, finding_id in enumerate(ids)}
        f2, f5, f1 = stored.findings([at["f2"], at["f5"], at["f1"]])
        assert stored.same_resource([f2]).tolist() == sorted([at["f2"], at["f6"]])
        assert stored.same_resource([f2, f1]).tolist() == sorted([at["f2"], at["f6"], at["f1"]])
        assert stored.same_resource([f5]).tolist() == [at["f5"]]
        assert stored.same_resource([]).tolist() == []
    finally:
        stored.close()


def same(f: Finding) -> str:
    return json.dumps([f.check_name, f.resource.resource_type, f.resource.identifier], sort_keys=True)


def test_same_resource_in_a_generated_audit(generated: tuple[AuditStore, list[str]]) -> None:
    store, (_earlier, later) = generated
    stored = stored_list(store, later)
    try:
        everything = stored.findings(range(len(stored)))
        picked = [everything[n] for n in (0, 1000, 2999)]
        wanted = {same(f) for f in picked}
        expected = [n for n, f in enumerate(everything) if same(f) in wanted]
        assert stored.same_resource(picked).tolist() == expected
    finally:
        stored.close()


def test_an_unknown_task_is_an_empty_list(generated: tuple[AuditStore, list[str]], small: AuditStore) -> None:
    store, (earlier, _later) = generated
    for stored in (
        StoredList(store.path, ACCOUNT, REGION, "no-such-task", None),
        StoredList(store.path, "999999999999", REGION, earlier, None),  # another account's
        StoredList(small.path, ACCOUNT, REGION, "t", "LOGGING_DISABLED_CHECK"),  # a check without findings
    ):
        try:
            stored.load()
            assert len(stored) == 0
            assert stored.findings([]) == []
            assert stored.same_resource([]).tolist() == []
        finally:
            stored.close()


def test_a_damaged_row_is_a_history_error(small: AuditStore) -> None:
    stored = stored_list(small, "t")
    try:
        sql(small.path, "UPDATE finding SET resources = '{' WHERE finding_id = 'f3'")
        at = list_ids(small).index("f3")
        assert len(stored.findings([p for p in range(len(stored)) if p != at])) == len(stored) - 1
        with pytest.raises(HistoryError) as raised:
            stored.findings([at])
        assert "damaged" in raised.value.reason
    finally:
        stored.close()


def list_ids(store: AuditStore) -> list[str]:
    """The list's order, read without the damaged row's JSON."""
    return [r[0] for r in store.select("SELECT finding_id FROM finding ORDER BY check_name, identity, seq")]
