"""The posture trend: per check and severity across stored completed audits, and its CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from iot_defender_tui.history.store import AuditStore
from iot_defender_tui.history.trend import to_csv, to_json, trend, trend_rows
from tests.history.helpers import ACCOUNT, DAY, EXPIRING, POLICY, REGION, SHARED, cert_finding, task

START = 1_700_000_000


def test_counts_per_check_and_severity_oldest_first(store: AuditStore) -> None:
    store.save_task(ACCOUNT, REGION, task("t2", START + DAY, {SHARED: 3, EXPIRING: 0, "NEW_AWS_CHECK": 2}))
    store.save_task(ACCOUNT, REGION, task("t1", START, {SHARED: 5, EXPIRING: 40, POLICY: 1}))
    store.save_task(ACCOUNT, REGION, task("running", START + 2 * DAY, {SHARED: 9}, status="IN_PROGRESS"))
    # Statistics, not stored findings, count when both are there: AWS's counts are the whole truth.
    store.save_findings(ACCOUNT, REGION, "t1", [cert_finding("a", "t1", 1)])

    result = trend(store, ACCOUNT, REGION)
    assert (result.account, result.region) == (ACCOUNT, REGION)
    assert [p.task_id for p in result.points] == ["t1", "t2"]
    first, second = result.points
    assert first.start_time == datetime.fromtimestamp(START, UTC)
    assert first.task_type == "SCHEDULED_AUDIT_TASK"
    assert first.by_check == {SHARED: 5, EXPIRING: 40, POLICY: 1}
    assert first.by_severity == {"CRITICAL": 6, "HIGH": 0, "MEDIUM": 40, "LOW": 0}
    assert second.by_check == {SHARED: 3, EXPIRING: 0, "NEW_AWS_CHECK": 2}
    assert second.by_severity == {"CRITICAL": 3, "HIGH": 0, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 2}
    assert result.checks == tuple(sorted({SHARED, EXPIRING, POLICY, "NEW_AWS_CHECK"}))


def test_without_statistics_stored_findings_are_counted(store: AuditStore) -> None:
    store.save_findings(ACCOUNT, REGION, "t1", [cert_finding("a", "t1", 1), cert_finding("b", "t1", 2),
                                                cert_finding("c", "t1", 3, check=EXPIRING)])  # fmt: skip
    listed = task("t1", START, {})  # a ListAuditTasks item: no check results
    store.save_task(ACCOUNT, REGION, listed)
    (point,) = trend(store, ACCOUNT, REGION).points
    assert point.by_check == {SHARED: 2, EXPIRING: 1}


def test_rows_csv_and_json_are_the_same_series(store: AuditStore) -> None:
    store.save_task(ACCOUNT, REGION, task("t1", START, {SHARED: 5, EXPIRING: 0}))
    store.save_task(ACCOUNT, REGION, task("t2", START + DAY, {SHARED: 2}))
    series = trend(store, ACCOUNT, REGION)
    rows = trend_rows(series)
    assert rows == [
        {"start_time": "2023-11-14T22:13:20+00:00", "task_id": "t1", "task_type": "SCHEDULED_AUDIT_TASK",
         "check": EXPIRING, "severity": "MEDIUM", "findings": 0},
        {"start_time": "2023-11-14T22:13:20+00:00", "task_id": "t1", "task_type": "SCHEDULED_AUDIT_TASK",
         "check": SHARED, "severity": "CRITICAL", "findings": 5},
        {"start_time": "2023-11-15T22:13:20+00:00", "task_id": "t2", "task_type": "SCHEDULED_AUDIT_TASK",
         "check": SHARED, "severity": "CRITICAL", "findings": 2},
    ]  # fmt: skip
    parsed = list(csv.DictReader(io.StringIO(to_csv(series))))
    assert parsed == [{**row, "findings": str(row["findings"])} for row in rows]
    assert to_csv(series).splitlines()[0] == "start_time,task_id,task_type,check,severity,findings"
    assert json.loads(to_json(series)) == {"account": ACCOUNT, "region": REGION, "rows": rows}


def test_an_empty_history(store: AuditStore) -> None:
    empty = trend(store, ACCOUNT, REGION)
    assert empty.points == () and trend_rows(empty) == []
    assert to_csv(empty) == "start_time,task_id,task_type,check,severity,findings\n"
