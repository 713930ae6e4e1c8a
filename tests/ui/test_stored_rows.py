"""A stored list's table model (ui/panes/stored_rows.py) shows what the in-memory TableModel shows for the
same findings: the same rows for a filter, the same order for a sort, the same cells."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from iot_defender_tui.aws.catalogue import check_info, severity_rank
from iot_defender_tui.aws.models_findings import Finding
from iot_defender_tui.history.browse import StoredList
from iot_defender_tui.history.generate import generate
from iot_defender_tui.history.store import AuditStore
from iot_defender_tui.ui.format import short_time
from iot_defender_tui.ui.panes.results_views import ALL_FINDING_COLUMNS, ALL_FINDING_ROLES, all_finding_row
from iot_defender_tui.ui.panes.stored_rows import StoredRows
from iot_defender_tui.ui.widgets.table_model import TableModel
from tests.history.helpers import ACCOUNT, REGION, cert_finding, finding

NOW = datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
START = 1_700_000_000  # the hand-made findings' audit start: other times than the generated ones
COLUMNS = [column.label for column in ALL_FINDING_COLUMNS]


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuditStore, str]]:
    """A generated audit of ~2000 findings, and hand-made ones in it: other found times (one none), a
    mixed-case client id with a non-ASCII letter, three suppressed."""
    path = tmp_path_factory.mktemp("stored_rows") / "history.sqlite3"
    with AuditStore.open(path) as store:
        task_id = generate(store, ACCOUNT, REGION, findings=2000, tasks=1, now=NOW)[0]
        client = {"resourceType": "CLIENT_ID", "resourceIdentifier": {"clientId": "Pump-ÄB-7"}}
        store.save_findings(ACCOUNT, REGION, task_id, [
            *(cert_finding(f"h{n}", task_id, n, findingTime=START + n * 3600, suppressed=n % 3 == 0)
              for n in range(8)),
            cert_finding("h-none", task_id, 99, findingTime=None),
            finding("h-client", task_id, "CONFLICTING_CLIENT_IDS_CHECK", client, severity="HIGH",
                    reasonForNonComplianceCode="DUPLICATE_CLIENT_ID", reasonForNonCompliance=None),
        ])  # fmt: skip
        yield store, task_id


@pytest.fixture
def stored(audit: tuple[AuditStore, str]) -> Iterator[StoredList]:
    store, task_id = audit
    listed = StoredList(store.path, ACCOUNT, REGION, task_id, None)
    listed.load()
    yield listed
    listed.close()


@pytest.fixture
def everything(stored: StoredList) -> list[Finding]:
    """The list's findings by position."""
    return stored.findings(range(len(stored)))


def models(stored: StoredList, everything: list[Finding]) -> tuple[StoredRows, TableModel]:
    rows = StoredRows(ALL_FINDING_COLUMNS, ALL_FINDING_ROLES, stored, all_finding_row)
    memory = TableModel(ALL_FINDING_COLUMNS)
    memory.append((f.finding_id, all_finding_row(f)) for f in everything)
    return rows, memory


def shown(rows: StoredRows, everything: list[Finding]) -> list[str]:
    return [everything[p].finding_id for p in rows.visible_keys()]


NEEDLES = [
    "critical", "medium", "certificate sh", "mqtt client", "client device-00001", "cert ", "pump-äb",
    "PUMP-Äb-7", "CeRt 00000", "fleet-policy-1", "duplicate_client", short_time(NOW)[:5],
    short_time(datetime.fromtimestamp(START + 5 * 3600, UTC))[-5:], "-", "yes", "es", "nothing matches this",
]  # fmt: skip


@pytest.mark.parametrize("needle", NEEDLES)
def test_a_filter_shows_the_rows_the_memory_table_shows(
    stored: StoredList, everything: list[Finding], needle: str
) -> None:
    rows, memory = models(stored, everything)
    rows.set_filter(needle)
    memory.set_filter(needle)
    assert shown(rows, everything) == memory.visible_keys()
    if needle != "nothing matches this":
        assert 0 < len(rows.visible_keys()) < len(everything) or needle in ("-", "es")
    rows.set_filter("")
    assert len(rows.visible_keys()) == len(everything)


def sort_key(column: int) -> Callable[[Finding], Any]:
    """What each column sorts by: its cell's text, as TableModel does, but Found by time (none last)."""
    if COLUMNS[column] == "Found":
        return lambda f: math.inf if f.finding_time is None else f.finding_time.timestamp()
    if COLUMNS[column] == "Severity":
        return lambda f: severity_rank(f.severity)
    return lambda f: all_finding_row(f)[column].lower()


def runs(keys: list[Any], ids: list[str]) -> list[tuple[Any, frozenset[str]]]:
    """Rows grouped by equal sort key, in order: ties may come in any order within a group."""
    out: list[tuple[Any, frozenset[str]]] = []
    start = 0
    for n in range(1, len(keys) + 1):
        if n == len(keys) or keys[n] != keys[start]:
            out.append((keys[start], frozenset(ids[start:n])))
            start = n
    return out


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("column", range(len(COLUMNS)), ids=COLUMNS)
@pytest.mark.parametrize("needle", ["", "cert"])
def test_a_sort_orders_rows_as_the_memory_table(
    stored: StoredList, everything: list[Finding], column: int, reverse: bool, needle: str
) -> None:
    rows, _memory = models(stored, everything)
    by_id = {f.finding_id: f for f in everything}
    rows.set_filter(needle)
    rows.sort_by(column, reverse)
    key = sort_key(column)
    got = shown(rows, everything)
    expected = sorted((f for f in everything if needle in " ".join(all_finding_row(f)).lower()),
                      key=key, reverse=reverse)  # fmt: skip
    assert runs([key(by_id[i]) for i in got], got) == runs(
        [key(f) for f in expected], [f.finding_id for f in expected]
    )
    if COLUMNS[column] != "Found":  # the memory table sorts by text: the same groups in the same order
        _rows, memory = models(stored, everything)
        memory.set_filter(needle)
        memory.sort_by(column, reverse)
        assert runs([key(by_id[i]) for i in got], got) == runs(
            [key(by_id[i]) for i in memory.visible_keys()], memory.visible_keys()
        )
        assert got == memory.visible_keys()  # ties in the list's order, both ways
    rows.sort_by(column)  # the same column again: the other direction
    again = shown(rows, everything)
    assert rows.sort == (column, not reverse)
    assert runs([key(by_id[i]) for i in again], again) == runs([key(by_id[i]) for i in got], got)[::-1]


def test_found_sorts_by_time_not_by_text(stored: StoredList, everything: list[Finding]) -> None:
    rows, _memory = models(stored, everything)
    rows.set_filter("cert 00000")
    rows.sort_by(COLUMNS.index("Found"))
    times = [stored.time[p] for p in rows.visible_keys()]
    known = [t for t in times if not math.isnan(t)]
    assert known == sorted(known) and len(set(known)) > 2
    assert math.isnan(times[-1])  # a finding without a time last


@pytest.mark.parametrize(
    "steps",
    [
        ["cl", "cli", "client"],
        ["c", "cl", "client device-0001"],
        ["pu", "PUMP", "pump-äb-7"],
        ["yes", "ye", "yes"],
        ["cert", "cert 0000"],
    ],
)
def test_narrowing_a_filter_is_typing_it_at_once(
    stored: StoredList, everything: list[Finding], steps: list[str]
) -> None:
    typed, _memory = models(stored, everything)
    for step in steps:
        typed.set_filter(step)
    at_once, memory = models(stored, everything)
    at_once.set_filter(steps[-1])
    memory.set_filter(steps[-1])
    assert shown(typed, everything) == shown(at_once, everything) == memory.visible_keys()


def test_a_suppression_shows_in_filter_and_cells(stored: StoredList, everything: list[Finding]) -> None:
    rows, _memory = models(stored, everything)
    deep = len(everything) - 5
    assert rows.cells_at(deep)[-1] == ""  # read (and kept) before the change
    positions = np.array([3, 700, deep])
    rows.set_filter("yes")
    before = rows.visible_keys()
    rows.suppressed_changed(positions, True)
    changed = [dataclasses.replace(f, is_suppressed=True) if n in positions else f
               for n, f in enumerate(everything)]  # fmt: skip
    _rows, memory = models(stored, changed)
    memory.set_filter("yes")
    # With the filter on, as when typed after the change.
    assert shown(rows, everything) == memory.visible_keys()
    assert set(rows.visible_keys()) == set(before) | set(positions.tolist())
    # Shown so though the file is not written yet (the history's thread does that, maybe later).
    assert [f.is_suppressed for f in rows.findings(positions.tolist())] == [True] * 3
    rows.set_filter("")
    rows.set_filter("yes")
    assert shown(rows, everything) == memory.visible_keys()
    assert rows.cells_of(deep)[-1] == "yes"  # its cells read again
    rows.suppressed_changed(positions, False)
    assert rows.visible_keys() == before


def test_position_and_key_round_trip(stored: StoredList, everything: list[Finding]) -> None:
    rows, _memory = models(stored, everything)
    rows.set_filter("device")
    rows.sort_by(COLUMNS.index("Resource"), True)
    n = len(rows.visible_keys())
    for p in (0, 1, n // 2, n - 1):
        assert rows.position(rows.key_at(p)) == p
    hidden = next(k for k in range(len(everything)) if k not in set(rows.visible_keys()))
    assert rows.position(hidden) is None
    assert rows.position(len(everything)) is None
    assert rows.position("h1") is None and not rows.has_key("h1")


def test_cells_deep_in_the_list_are_the_findings_cells(stored: StoredList, everything: list[Finding]) -> None:
    rows, memory = models(stored, everything)
    for model in (rows, memory):
        model.sort_by(COLUMNS.index("Resource"))
    n = len(everything)
    for p in (n - 1, n // 2, 1500, 0, n - 2):  # out of order: each read around a row not read yet
        key = rows.key_at(p)
        assert rows.cells_at(p) == all_finding_row(everything[key])
        assert rows.cells_at(p) == memory.cells_at(p)  # resources are unique here: no ties
        assert rows.cells_of(key) == rows.cells_at(p)
    assert rows.cells_at(0)[0] == check_info(everything[rows.key_at(0)].check_name).title
