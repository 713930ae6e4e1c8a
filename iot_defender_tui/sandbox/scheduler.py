"""Scheduled audits fire on the sandbox calendar (a day lasts `--day-seconds`).

Day index k covers [started + k * day_seconds, started + (k + 1) * day_seconds) of the sandbox clock,
and its calendar date is the UTC date of `runtime().started` plus k days, so a demo with a short day
still walks through real weekdays and month ends. A schedule fires at the first tick of a matching day,
at most once that day, and never on the day it was created. Days the sandbox did not tick through (a
clock moved forward by several days at once) are not caught up: only the current day can fire, as a
machine that was switched off does not run yesterday's cron jobs.
"""

from __future__ import annotations

import calendar
import logging
import math
from datetime import UTC, date, datetime, timedelta

from . import audits
from .errors import DefenderError
from .runtime import runtime
from .state import DefenderState, ScheduledAudit

log = logging.getLogger(__name__)

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")  # date.weekday() order


def day_index(when: float) -> int:
    rt = runtime()
    return math.floor((when - rt.started) / rt.options.day_seconds)


def day_date(index: int) -> date:
    return datetime.fromtimestamp(runtime().started, UTC).date() + timedelta(days=index)


def matches(schedule: ScheduledAudit, day: date, created: date) -> bool:
    """Whether `schedule` runs on calendar date `day` (ignoring the once-a-day and creation-day rules)."""
    if schedule.frequency == "DAILY":
        return True
    if schedule.frequency in ("WEEKLY", "BIWEEKLY"):
        if WEEKDAYS[day.weekday()] != schedule.day_of_week:
            return False
        if schedule.frequency == "WEEKLY":
            return True
        # Every other week, counted from the first matching day after creation.
        first = created + timedelta(days=(WEEKDAYS.index(schedule.day_of_week or "") - created.weekday()) % 7)
        if first <= created:
            first += timedelta(days=7)
        return (day - first).days % 14 == 0
    if schedule.frequency == "MONTHLY":
        last = calendar.monthrange(day.year, day.month)[1]
        if schedule.day_of_month == "LAST":
            return day.day == last
        # AWS: "If days 29 to 31 are specified, and the month doesn't have that many days, the audit
        # takes place on the LAST day of the month."
        return day.day == min(int(schedule.day_of_month or 0), last)
    return False


def advance(state: DefenderState, now: float) -> None:
    """Start a SCHEDULED_AUDIT_TASK for every schedule due on the current sandbox day."""
    if runtime().options.day_seconds <= 0 or not state.scheduled:
        return
    today = day_index(now)
    today_date = day_date(today)
    with state.lock:
        config = state.audit_config
        if config is None:
            return
        for schedule in list(state.scheduled.values()):
            if schedule.last_run_day is not None and schedule.last_run_day >= today:
                continue
            created = day_index(schedule.created)
            if today <= created or not matches(schedule, today_date, day_date(created)):
                continue
            schedule.last_run_day = today
            enabled = [c for c in schedule.checks if c in config.checks and config.checks[c].enabled]
            if not enabled:
                continue
            try:
                audits.start_audit(state, enabled, now, "SCHEDULED_AUDIT_TASK", schedule.name)
            except DefenderError as err:  # one schedule that cannot start must not stop the others
                log.warning("scheduled audit %s did not start: %s", schedule.name, err.message)
