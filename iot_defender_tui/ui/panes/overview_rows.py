"""The Fleet overview's rows: one context's posture, or its error, as table cells (plain data, no widgets).

At 80 columns every fixed column is as narrow as its content allows; the context name and the status
share what is left, and the line under the table gives the row under the cursor whole.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from ...aws.contexts import Context
from ...aws.errors import AccessDeniedError, AwsError, UnknownRegionError
from ...aws.posture import Posture
from ...aws.safe_text import safe
from ...history.drift import drift, previous_covering
from ...history.store import AuditStore
from ..format import leading_number, when
from ..widgets.fast_table import Column

READING = "reading…"
NO_CONFIGURATION = "no audit configuration"
NO_DRIFT = "—"  # not known: both audits are not whole in the local history
SEVERITY_STYLE = ("bold red", "red", "yellow", "cyan")  # C, H, M, L
_UNITS = {"m": 60, "h": 3600, "d": 86400}
# Credentials AWS does not know in one region but does in others: the usual sign of an opt-in region
# that is not enabled for the account.
_REGION_OFF_CODES = frozenset({"UnrecognizedClientException", "InvalidClientTokenId"})


def age_key(text: str) -> float:
    """ "now", "5m", "3h", "2d" as seconds; anything else (no audit) last."""
    if text == "now":
        return 0.0
    if text[:-1].isdigit() and text[-1:] in _UNITS:
        return float(int(text[:-1]) * _UNITS[text[-1]])
    return float("inf")


def count_key(text: str) -> int:
    """Counts as numbers ("1k" is 1000), empty cells first."""
    if text.endswith("k") and text[:-1].isdigit():
        return int(text[:-1]) * 1000
    return leading_number(text)


COLUMNS = (
    Column("Context", fraction=3),
    Column("Account", width=12),
    Column("Region", width=10),
    Column("Last", width=4, sort_key=age_key),
    Column("NC", width=2, sort_key=count_key),
    Column("C", width=3, sort_key=count_key),
    Column("H", width=3, sort_key=count_key),
    Column("M", width=3, sort_key=count_key),
    Column("L", width=3, sort_key=count_key),
    Column("Run", width=3, sort_key=count_key),
    Column("Drift", width=5),
    Column("Status", fraction=2),
)


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in at most 4 characters: "now", "42m", "5h", "12d"; "-" for none."""
    if moment is None:
        return "-"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def compact(count: int) -> str:
    return str(count) if count < 1000 else f"{count // 1000}k"


def short_error(error: AwsError) -> str:
    """What the row says: AWS's code and the gist; the line under the table says it whole."""
    if isinstance(error, AccessDeniedError):
        return f"AccessDenied: {error.permission}"
    if isinstance(error, UnknownRegionError):
        return f"region not available: {error.message}"
    if error.code in _REGION_OFF_CODES:
        return f"region not enabled? {error.code}"
    return f"{error.code}: {error.message}"


def waiting_row(context: Context, previous: tuple[Text, ...] | None = None) -> tuple[Text, ...]:
    """A context not read yet (or being read again: its last figures stay, the status says so)."""
    if previous is not None:
        return (*previous[:-1], Text(READING, style="dim"))
    return (
        _name(context),
        Text(safe(context.account_id or "")),
        Text(safe(context.region or "")),
        *(Text("") for _ in range(8)),
        Text(READING, style="dim"),
    )


def error_row(context: Context, error: AwsError) -> tuple[Text, ...]:
    return (
        _name(context),
        Text(safe(context.account_id or "")),  # an organization's account is known without reaching it
        Text(safe(context.region or "")),
        *(Text("") for _ in range(8)),
        Text(short_error(error), style="red"),
    )


def posture_row(
    context: Context, posture: Posture, drift_counts: tuple[int, int] | None, now: datetime | None = None
) -> tuple[Text, ...]:
    severities = (posture.critical, posture.high, posture.medium, posture.low)
    running = posture.running_audits + posture.running_mitigations
    audited = posture.latest_task_id is not None  # without an audit, a count of 0 would say "clean"
    counts = [
        Text(compact(n), style=style if n else "dim") if audited else Text("")
        for n, style in zip(severities, SEVERITY_STYLE, strict=True)
    ]
    checks = posture.non_compliant_checks
    return (
        _name(context),
        Text(safe(posture.account)),
        Text(safe(posture.region or context.region or "")),
        Text(age(posture.latest_time, now)),
        Text(str(checks) if audited else "", style="red" if checks else ""),
        *counts,
        Text(f"{posture.running_audits}/{posture.running_mitigations}" if running else ""),
        Text(drift_text(drift_counts) if audited else ""),
        status_text(posture),
    )


def drift_text(counts: tuple[int, int] | None) -> str:
    """New and resolved findings since the previous audit: "+3-1"."""
    return NO_DRIFT if counts is None else f"+{counts[0]}-{counts[1]}"


def status_text(posture: Posture) -> Text:
    if not posture.audit_configured:
        return Text(NO_CONFIGURATION, style="yellow")
    if posture.latest_status is None:
        if posture.running_audits:
            return Text("first audit running", style="yellow")
        return Text("no audit in 90 days", style="yellow")
    style = "" if posture.latest_status == "COMPLETED" else "red"
    failed = f", {posture.failed_checks} failed" if posture.failed_checks else ""
    return Text(f"{safe(posture.latest_status)}{failed}", style=style)


def detail(context: Context, result: Posture | AwsError | None) -> str:
    """The row under the cursor whole, for the line under the table."""
    who = f"role {context.role_arn}" if context.role_arn else context.profile or "default profile"
    where = f"{context.name} ({who}, {context.region or 'default region'})"
    if result is None:
        return f"{where}: {READING}"
    if isinstance(result, AwsError):
        return f"{where}: {result.code}: {result.text}"
    if result.latest_task_id is None:
        return f"{where}: account {result.account}, {status_text(result).plain}"
    kind = result.latest_kind or "audit"
    return (
        f"{where}: account {result.account}; latest {kind} audit {result.latest_task_id} "
        f"{when(result.latest_time)}, {result.findings:,} findings; running: {result.running_audits} "
        f"audits, {result.running_mitigations} mitigation tasks"
        + ("" if result.audit_configured else f"; {NO_CONFIGURATION}")
    )


def stored_drift(store: AuditStore, account: str, region: str, task_id: str) -> tuple[int, int] | None:
    """(new, resolved) findings from the previous audit of the same checks to `task_id`, when the local
    history holds both whole (as `d` in Results compares them); None otherwise. Blocking: on a thread."""
    if not store.is_complete(account, region, task_id):
        return None
    before = previous_covering(store, account, region, task_id)
    if before is None or not store.is_complete(account, region, before):
        return None
    found = drift(store, account, region, before, task_id)
    return sum(len(c.new) for c in found.checks), sum(len(c.resolved) for c in found.checks)


def _name(context: Context) -> Text:
    return Text(safe(context.name), style="bold" if context.read_only else "")
