"""What the history hands to the UI and the CLI: plain dataclasses, never SQLite rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One stored completed audit: its non-compliant findings counted per check and per severity
    (suppressed findings included, as AWS's statistics count them)."""

    task_id: str
    start_time: datetime  # UTC
    task_type: str  # ON_DEMAND_AUDIT_TASK or SCHEDULED_AUDIT_TASK
    by_check: Mapping[str, int]  # check name -> findings; a check the audit ran with none: 0
    by_severity: Mapping[str, int]  # CRITICAL, HIGH, MEDIUM, LOW -> findings


@dataclass(frozen=True, slots=True)
class Trend:
    """Every stored completed audit of one account and region, oldest first."""

    account: str
    region: str
    points: tuple[TrendPoint, ...] = ()

    @property
    def checks(self) -> tuple[str, ...]:
        """Every check any point ran, sorted by name."""
        return tuple(sorted({name for p in self.points for name in p.by_check}))


@dataclass(frozen=True, slots=True)
class CheckDrift:
    """One check between two audits. A finding is the same across audits when check and resource identity
    match (finding ids differ per audit): `new` are ids in the later audit, `resolved` ids in the earlier
    one, `persisting` ids in the later one."""

    check_name: str
    new: tuple[str, ...] = ()
    resolved: tuple[str, ...] = ()
    persisting: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Drift:
    earlier_task_id: str
    later_task_id: str
    checks: tuple[CheckDrift, ...] = field(default_factory=tuple)
