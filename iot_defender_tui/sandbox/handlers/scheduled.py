"""Create/Describe/Update/Delete/ListScheduledAudit(s)."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequest, LimitExceeded, ResourceAlreadyExists, ResourceNotFound
from ..scheduler import WEEKDAYS
from ..state import DefenderState, ScheduledAudit, now
from .base import DefenderResponse, page
from .validate import require_checks, require_name

MAX_SCHEDULED_AUDITS = 5
FREQUENCIES = ("DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY")
DAYS_OF_MONTH = {str(d) for d in range(1, 32)} | {"LAST"}


def validate_schedule(frequency: Any, day_of_week: Any, day_of_month: Any) -> None:
    """AWS's day rules: weekly schedules name a weekday, monthly ones a day of the month, daily neither."""
    if frequency not in FREQUENCIES:
        raise InvalidRequest(f"frequency must be one of {', '.join(FREQUENCIES)}: {frequency!r}")
    if frequency in ("WEEKLY", "BIWEEKLY"):
        if day_of_week is None:
            raise InvalidRequest(f"dayOfWeek is required when frequency is {frequency}.")
        if day_of_month is not None:
            raise InvalidRequest(f"dayOfMonth cannot be set when frequency is {frequency}.")
    elif frequency == "MONTHLY":
        if day_of_month is None:
            raise InvalidRequest("dayOfMonth is required when frequency is MONTHLY.")
        if day_of_week is not None:
            raise InvalidRequest("dayOfWeek cannot be set when frequency is MONTHLY.")
    elif day_of_week is not None or day_of_month is not None:
        raise InvalidRequest("dayOfWeek and dayOfMonth cannot be set when frequency is DAILY.")
    if day_of_week is not None and day_of_week not in WEEKDAYS:
        raise InvalidRequest(f"dayOfWeek must be one of SUN, MON, TUE, WED, THU, FRI, SAT: {day_of_week!r}")
    if day_of_month is not None and day_of_month not in DAYS_OF_MONTH:
        raise InvalidRequest(f'dayOfMonth must be "1" through "31" or "LAST": {day_of_month!r}')


def validate_targets(state: DefenderState, names: Any) -> list[str]:
    checks = require_checks(names)
    config = state.audit_config
    if config is None:
        raise InvalidRequest("Audit is not configured for this account: set the audit configuration first.")
    disabled = [c for c in checks if not (c in config.checks and config.checks[c].enabled)]
    if disabled:
        raise InvalidRequest(f"These checks are not enabled for the account: {', '.join(disabled)}")
    return checks


def validate_tags(tags: Any) -> None:
    for tag in tags or []:
        key = tag.get("Key") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise InvalidRequest(f"Each tag needs a Key of 1-128 characters: {tag!r}")
        value = tag.get("Value")
        if value is not None and (not isinstance(value, str) or len(value) > 256):
            raise InvalidRequest(f"Tag values are at most 256 characters: {key}")


class ScheduledAuditsMixin(DefenderResponse):
    def _scheduled(self, name: str) -> ScheduledAudit:
        schedule = self.state.scheduled.get(name)
        if schedule is None:
            raise ResourceNotFound(f"Scheduled audit {name} does not exist.")
        return schedule

    def create_scheduled_audit(self) -> str:
        name = require_name(self.args.get("scheduledAuditName"), "scheduledAuditName")
        frequency = self.args.get("frequency")
        day_of_week = self.args.get("dayOfWeek")
        day_of_month = self.args.get("dayOfMonth")
        validate_schedule(frequency, day_of_week, day_of_month)
        validate_tags(self.args.get("tags"))
        state = self.state
        with state.lock:
            checks = validate_targets(state, self.args.get("targetCheckNames"))
            if name in state.scheduled:
                raise ResourceAlreadyExists(f"Scheduled audit {name} already exists.")
            if len(state.scheduled) >= MAX_SCHEDULED_AUDITS:
                raise LimitExceeded(f"An account may have at most {MAX_SCHEDULED_AUDITS} scheduled audits.")
            arn = f"arn:aws:iot:{self.region}:{self.current_account}:scheduledaudit/{name}"
            state.scheduled[name] = ScheduledAudit(
                name=name,
                arn=arn,
                frequency=frequency,
                day_of_month=day_of_month,
                day_of_week=day_of_week,
                checks=checks,
                created=now(),
            )
        return self.reply({"scheduledAuditArn": arn})

    def describe_scheduled_audit(self) -> str:
        with self.state.lock:
            schedule = self._scheduled(self.args.get("scheduledAuditName", ""))
            return self.reply(
                {
                    "frequency": schedule.frequency,
                    "dayOfMonth": schedule.day_of_month,
                    "dayOfWeek": schedule.day_of_week,
                    "targetCheckNames": list(schedule.checks),
                    "scheduledAuditName": schedule.name,
                    "scheduledAuditArn": schedule.arn,
                }
            )

    def update_scheduled_audit(self) -> str:
        args = self.args
        state = self.state
        with state.lock:
            schedule = self._scheduled(args.get("scheduledAuditName", ""))
            frequency = args.get("frequency", schedule.frequency)
            day_of_week = args.get("dayOfWeek")
            day_of_month = args.get("dayOfMonth")
            # A day carried over from the old schedule is dropped when the new frequency has no use for
            # it (WEEKLY -> MONTHLY); a day sent in this request is always checked against the rules.
            if day_of_week is None and frequency in ("WEEKLY", "BIWEEKLY"):
                day_of_week = schedule.day_of_week
            if day_of_month is None and frequency == "MONTHLY":
                day_of_month = schedule.day_of_month
            validate_schedule(frequency, day_of_week, day_of_month)
            checks = schedule.checks
            if "targetCheckNames" in args:
                checks = validate_targets(state, args["targetCheckNames"])
            schedule.frequency = frequency
            schedule.day_of_week = day_of_week
            schedule.day_of_month = day_of_month
            schedule.checks = checks
            return self.reply({"scheduledAuditArn": schedule.arn})

    def delete_scheduled_audit(self) -> str:
        with self.state.lock:
            schedule = self._scheduled(self.args.get("scheduledAuditName", ""))
            del self.state.scheduled[schedule.name]
        return self.reply({})

    def list_scheduled_audits(self) -> str:
        with self.state.lock:
            schedules = sorted(self.state.scheduled.values(), key=lambda s: s.name)
        items, token = page(schedules, self.args.get("nextToken"), self.args.get("maxResults"), 25)
        return self.reply(
            {
                "scheduledAudits": [
                    {
                        "scheduledAuditName": s.name,
                        "scheduledAuditArn": s.arn,
                        "frequency": s.frequency,
                        "dayOfMonth": s.day_of_month,
                        "dayOfWeek": s.day_of_week,
                    }
                    for s in items
                ],
                "nextToken": token,
            }
        )
