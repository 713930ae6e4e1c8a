"""Audit configuration, scheduled audits and audit tasks with their progress."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from .reply_fields import Data, count, flag, mapping, strings, text, timestamp
from .safe_text import safe_map, safe_str


@dataclass(frozen=True, slots=True)
class CheckConfiguration:
    """Whether one check is enabled, and its custom configuration (threshold days, as strings)."""

    name: str
    enabled: bool
    configuration: dict[str, str]

    @classmethod
    def from_api(cls, data: Data, name: str | None = None) -> Self:
        """`data` is one value of auditCheckConfigurations, whose key (the check name) is `name`."""
        return cls(
            name=safe_str(name) if name else text(data, "checkName") or text(data, "name") or "",
            enabled=flag(data, "enabled") or False,
            configuration=safe_map(data.get("configuration")),
        )

    def to_api(self) -> dict[str, Any]:
        """The AuditCheckConfiguration of UpdateAccountAuditConfiguration."""
        body: dict[str, Any] = {"enabled": self.enabled}
        if self.configuration:
            body["configuration"] = dict(self.configuration)
        return body


@dataclass(frozen=True, slots=True)
class SnsTarget:
    """Where audit results are announced (the account's SNS notification target)."""

    target_arn: str | None
    role_arn: str | None
    enabled: bool

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(
            target_arn=text(data, "targetArn"),
            role_arn=text(data, "roleArn"),
            enabled=flag(data, "enabled") or False,
        )

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {"enabled": self.enabled}
        if self.target_arn:
            body["targetArn"] = self.target_arn
        if self.role_arn:
            body["roleArn"] = self.role_arn
        return body


@dataclass(frozen=True, slots=True)
class AuditConfiguration:
    """DescribeAccountAuditConfiguration: the audit role, SNS target and every check's configuration."""

    role_arn: str | None
    sns_target: SnsTarget | None
    checks: tuple[CheckConfiguration, ...]

    @classmethod
    def from_api(cls, data: Data) -> Self:
        targets = mapping(data, "auditNotificationTargetConfigurations")
        sns = targets.get("SNS")
        checks = mapping(data, "auditCheckConfigurations")
        return cls(
            role_arn=text(data, "roleArn"),
            sns_target=SnsTarget.from_api(sns) if isinstance(sns, Mapping) else None,
            checks=tuple(
                CheckConfiguration.from_api(value, name=name)
                for name, value in sorted(checks.items())
                if isinstance(value, Mapping)
            ),
        )

    def check(self, name: str) -> CheckConfiguration | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def enabled_checks(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if c.enabled)


@dataclass(frozen=True, slots=True)
class ScheduledAudit:
    """A scheduled audit; list items carry no check names (DescribeScheduledAudit does)."""

    name: str
    arn: str | None
    frequency: str | None
    day_of_week: str | None
    day_of_month: str | None
    check_names: tuple[str, ...]

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(
            name=text(data, "scheduledAuditName") or "",
            arn=text(data, "scheduledAuditArn"),
            frequency=text(data, "frequency"),
            day_of_week=text(data, "dayOfWeek"),
            day_of_month=text(data, "dayOfMonth"),
            check_names=strings(data, "targetCheckNames"),
        )


@dataclass(frozen=True, slots=True)
class TaskStatistics:
    """How many of an audit's checks are in each state."""

    total: int
    in_progress: int
    waiting: int
    compliant: int
    non_compliant: int
    failed: int
    canceled: int

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(
            total=count(data, "totalChecks"),
            in_progress=count(data, "inProgressChecks"),
            waiting=count(data, "waitingForDataCollectionChecks"),
            compliant=count(data, "compliantChecks"),
            non_compliant=count(data, "nonCompliantChecks"),
            failed=count(data, "failedChecks"),
            canceled=count(data, "canceledChecks"),
        )

    @property
    def done(self) -> int:
        """Checks that will not change any more."""
        return self.compliant + self.non_compliant + self.failed + self.canceled

    @property
    def fraction(self) -> float:
        """Progress from 0.0 to 1.0 for a progress bar."""
        return min(1.0, self.done / self.total) if self.total else 0.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's outcome in an audit (an auditDetails entry of DescribeAuditTask)."""

    check_name: str
    status: str | None
    compliant: bool | None
    total_resources: int
    non_compliant: int
    suppressed_non_compliant: int
    error_code: str | None
    message: str | None

    @classmethod
    def from_api(cls, data: Data, check_name: str | None = None) -> Self:
        """`data` is one value of auditDetails, whose key (the check name) is `check_name`."""
        return cls(
            check_name=safe_str(check_name) if check_name else text(data, "checkName") or "",
            status=text(data, "checkRunStatus"),
            compliant=flag(data, "checkCompliant"),
            total_resources=count(data, "totalResourcesCount"),
            non_compliant=count(data, "nonCompliantResourcesCount"),
            suppressed_non_compliant=count(data, "suppressedNonCompliantResourcesCount"),
            error_code=text(data, "errorCode"),
            message=text(data, "message"),
        )


@dataclass(frozen=True, slots=True)
class AuditTask:
    """An audit: from a ListAuditTasks item (id, status, type) or a DescribeAuditTask reply (everything)."""

    task_id: str
    status: str
    task_type: str | None
    start_time: datetime | None
    scheduled_audit_name: str | None
    statistics: TaskStatistics | None
    checks: tuple[CheckResult, ...]

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls.from_describe(text(data, "taskId") or "", data)

    @classmethod
    def from_describe(cls, task_id: str, data: Data) -> Self:
        """DescribeAuditTask's reply does not repeat the task id it was asked for."""
        statistics = data.get("taskStatistics")
        details = mapping(data, "auditDetails")
        return cls(
            task_id=task_id,
            status=text(data, "taskStatus") or "",
            task_type=text(data, "taskType"),
            start_time=timestamp(data.get("taskStartTime")),
            scheduled_audit_name=text(data, "scheduledAuditName"),
            statistics=TaskStatistics.from_api(statistics) if isinstance(statistics, Mapping) else None,
            checks=tuple(
                CheckResult.from_api(value, check_name=name)
                for name, value in sorted(details.items())
                if isinstance(value, Mapping)
            ),
        )

    def check(self, name: str) -> CheckResult | None:
        return next((c for c in self.checks if c.check_name == name), None)
