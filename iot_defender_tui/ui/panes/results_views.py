"""Columns and rows of the Results pane's three lists (tasks, checks, findings), as plain Text."""

from __future__ import annotations

from rich.text import Text

from ...aws.catalogue import check_info, severity_rank
from ...aws.models import AuditTask, CheckResult, Finding
from ..format import leading_number, short_time
from ..widgets.fast_table import Column
from .suppressed_now import supp_cell

SEVERITY_STYLE = {"CRITICAL": "bold red", "HIGH": "red", "MEDIUM": "yellow", "LOW": "cyan"}
STATUS_STYLE = {"IN_PROGRESS": "bold yellow", "FAILED": "red", "CANCELED": "dim"}
CHECK_STATUS = {"COMPLETED_NON_COMPLIANT": "non-compliant", "COMPLETED_COMPLIANT": "compliant"}
# A FAILED check's errorCode (API_AuditCheckDetails: one of these two), as short as the Status column.
FAILED_SHORT = {"INSUFFICIENT_PERMISSIONS": "failed: perms", "AUDIT_CHECK_DISABLED": "failed: off"}
ALL = "__all__"  # the checks list's first row: every finding of the audit in one list
ALL_TITLE = "All findings"


def _severity_rank_key(text: str) -> int:
    return severity_rank(text)


def _severity_style(text: str) -> str:
    return SEVERITY_STYLE.get(text, "")


TASK_COLUMNS = (
    Column("Started", width=11),
    Column("Type", fraction=1),
    Column("Status", width=11),
    Column("Checks", width=7, sort_key=leading_number),
    Column("Non-compliant", width=13, sort_key=leading_number),
)
CHECK_COLUMNS = (
    Column("Check", fraction=1),
    Column("Severity", width=8, sort_key=_severity_rank_key),
    Column("Status", width=13),
    Column("Non-c", width=5, sort_key=leading_number),
    Column("Total", width=6, sort_key=leading_number),
    Column("Supp", width=4, sort_key=leading_number),
)
FINDING_COLUMNS = (
    Column("Severity", width=8, sort_key=_severity_rank_key, style=_severity_style),
    Column("Resource", fraction=2),
    Column("Reason", fraction=3),
    Column("Found", width=11),
    Column("Supp", width=4),
)
# What each column shows, for a list read from the history (stored_rows.py filters and sorts by it).
FINDING_ROLES = ("severity", "resource", "reason", "found", "supp")
ALL_FINDING_ROLES = ("check", *FINDING_ROLES)
ALL_FINDING_COLUMNS = (
    Column("Check", fraction=2),
    Column("Severity", width=8, sort_key=_severity_rank_key, style=_severity_style),
    Column("Resource", fraction=2),
    Column("Reason", fraction=2),
    Column("Found", width=11),
    Column("Supp", width=4),
)


def task_type(task: AuditTask) -> str:
    if task.scheduled_audit_name:
        return f"scheduled {task.scheduled_audit_name}"
    return {"ON_DEMAND_AUDIT_TASK": "on demand", "SCHEDULED_AUDIT_TASK": "scheduled"}.get(
        task.task_type or "", task.task_type or "-"
    )


def task_row(task: AuditTask, *, stored: bool = False) -> tuple[Text, ...]:
    """`stored`: an audit only the local history still has (AWS keeps 90 days)."""
    stats = task.statistics
    progress = f"{stats.done}/{stats.total}" if stats else "-"
    return (
        Text(short_time(task.start_time)),
        Text(("(history) " if stored else "") + task_type(task)),
        Text(task.status, style=STATUS_STYLE.get(task.status, "")),
        Text(progress),
        Text(
            str(stats.non_compliant) if stats else "-", style="red" if stats and stats.non_compliant else ""
        ),
    )


def sorted_tasks(tasks: list[AuditTask]) -> list[AuditTask]:
    """Newest first."""
    return sorted(tasks, key=lambda t: t.start_time.timestamp() if t.start_time else 0.0, reverse=True)


def check_order(check: CheckResult) -> tuple:
    """Non-compliant first, then failed (their results are missing), then by severity, then by title."""
    info = check_info(check.check_name)
    return (check.non_compliant == 0, check.status != "FAILED", info.severity_rank, info.title)


def check_status(check: CheckResult) -> str:
    """The Status cell: a FAILED check says why in short (the whole reason is `check_reason`)."""
    status = check.status or "-"
    if status == "FAILED" and check.error_code:
        return FAILED_SHORT.get(check.error_code, f"failed: {check.error_code}")
    return CHECK_STATUS.get(status, status.lower())


def check_reason(check: CheckResult) -> Text | None:
    """Why a check FAILED, as AWS says it (errorCode and message: data, never markup); None otherwise."""
    if check.status != "FAILED":
        return None
    reason = Text("Failed", style="bold red")
    if check.error_code:
        reason.append(f": {check.error_code}")
    if check.message:
        reason.append(f" · {check.message}")
    return reason


def check_row(check: CheckResult) -> tuple[Text, ...]:
    info = check_info(check.check_name)
    failed = check.status == "FAILED"
    return (
        Text(info.title),
        Text(info.severity, style=SEVERITY_STYLE.get(info.severity, "")),
        Text(check_status(check), style="red" if check.non_compliant or failed else ""),
        Text(str(check.non_compliant)),
        Text(str(check.total_resources)),
        Text(str(check.suppressed_non_compliant)),
    )


def all_row(checks: list[CheckResult]) -> tuple[Text, ...]:
    """The "All findings" row: the sums over the task's checks."""
    non_compliant = sum(c.non_compliant for c in checks)
    return (
        Text(ALL_TITLE, style="bold"),
        Text(""),
        Text("non-compliant" if non_compliant else "", style="red" if non_compliant else ""),
        Text(str(non_compliant)),
        Text(str(sum(c.total_resources for c in checks))),
        Text(str(sum(c.suppressed_non_compliant for c in checks))),
    )


def with_findings(checks: list[CheckResult]) -> list[str]:
    """The checks "All findings" fetches: those that found something (suppressed findings count)."""
    return [c.check_name for c in checks if c.non_compliant or c.suppressed_non_compliant]


# Plain str cells (styled by their column when drawn): 100,000 rows of Text objects cost ~150 MB.
# `now`: whether a suppression covers the finding now (None: not known); see suppressed_now.supp_cell.
def all_finding_row(finding: Finding, now: bool | None = None) -> tuple[str, ...]:
    return (check_info(finding.check_name).title, *finding_row(finding, now))


def finding_row(finding: Finding, now: bool | None = None) -> tuple[str, ...]:
    return (
        finding.severity,
        finding.resource.readable,
        finding.reason or finding.reason_code or "",
        short_time(finding.finding_time),
        supp_cell(finding.is_suppressed, now),
    )
