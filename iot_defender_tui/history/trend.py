"""The posture trend: non-compliant findings per check and per severity across every stored completed
audit, and the same series as rows for `history trend --csv|--json`."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

from ..aws.catalogue import SEVERITY_ORDER, check_info
from .models import Trend, TrendPoint
from .store import AuditStore

UNKNOWN_SEVERITY = "UNKNOWN"  # a check this version's catalogue does not know
COLUMNS = ("start_time", "task_id", "task_type", "check", "severity", "findings")


def trend(store: AuditStore, account: str, region: str) -> Trend:
    """Oldest first. A check's count is AWS's statistic (nonCompliantResourcesCount, suppressed included)
    when the audit's check results are stored, else its findings counted in the store; audits with no
    start time are left out (they have no place on a time axis)."""
    points = []
    for task in reversed(store.tasks(account, region)):
        if task.status != "COMPLETED" or task.start_time is None:
            continue
        if task.checks:
            by_check = {c.check_name: c.non_compliant for c in task.checks}
        else:
            by_check = store.counts_by_check(account, region, task.task_id)
        by_severity: Counter[str] = Counter(dict.fromkeys(SEVERITY_ORDER, 0))
        for name, count in by_check.items():
            by_severity[check_info(name).severity or UNKNOWN_SEVERITY] += count
        points.append(
            TrendPoint(task.task_id, task.start_time, task.task_type or "", dict(by_check), dict(by_severity))
        )
    return Trend(account, region, tuple(points))


def trend_rows(trend: Trend) -> list[dict[str, Any]]:
    """One row per (audit, check), audits oldest first and checks by name."""
    return [
        {
            "start_time": point.start_time.isoformat(),
            "task_id": point.task_id,
            "task_type": point.task_type,
            "check": name,
            "severity": check_info(name).severity or UNKNOWN_SEVERITY,
            "findings": point.by_check[name],
        }
        for point in trend.points
        for name in sorted(point.by_check)
    ]


def to_csv(trend: Trend) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(trend_rows(trend))
    return out.getvalue()


def to_json(trend: Trend) -> str:
    return json.dumps({"account": trend.account, "region": trend.region, "rows": trend_rows(trend)}, indent=2)
