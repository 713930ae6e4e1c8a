"""Mitigation actions, mitigation tasks with per-check statistics, and their executions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from .models_params import ActionParams, action_type_of, parse_params
from .reply_fields import Data, count, items, strings, text, timestamp
from .reply_fields import mapping as member_map
from .safe_text import safe_str


@dataclass(frozen=True, slots=True)
class MitigationAction:
    """A mitigation action, from DescribeMitigationAction, a ListMitigationActions item (name, ARN,
    creation date only) or an actionsDefinition item of DescribeAuditMitigationActionsTask."""

    name: str
    arn: str | None
    action_id: str | None
    role_arn: str | None
    action_type: str | None
    params: ActionParams | dict[str, Any] | None
    created: datetime | None
    modified: datetime | None

    @classmethod
    def from_api(cls, data: Data) -> Self:
        raw = member_map(data, "actionParams")
        action_type = text(data, "actionType") or action_type_of(raw)
        return cls(
            name=text(data, "actionName") or text(data, "name") or "",
            arn=text(data, "actionArn"),
            action_id=text(data, "actionId") or text(data, "id"),
            role_arn=text(data, "roleArn"),
            action_type=action_type,
            params=parse_params(action_type, raw),
            created=timestamp(data.get("creationDate")),
            modified=timestamp(data.get("lastModifiedDate")),
        )


@dataclass(frozen=True, slots=True)
class CheckMitigationStats:
    """How the findings of one check fared in a mitigation task."""

    total: int
    succeeded: int
    failed: int
    skipped: int
    canceled: int

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(
            total=count(data, "totalFindingsCount"),
            succeeded=count(data, "succeededFindingsCount"),
            failed=count(data, "failedFindingsCount"),
            skipped=count(data, "skippedFindingsCount"),
            canceled=count(data, "canceledFindingsCount"),
        )

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.skipped + self.canceled


@dataclass(frozen=True, slots=True)
class MitigationTask:
    """A mitigation task, from a ListAuditMitigationActionsTasks item or a DescribeAuditMitigationActionsTask
    reply. `target` and `mapping` are AWS's structures as sent; `actions` the definitions the task used."""

    task_id: str
    status: str
    start_time: datetime | None
    end_time: datetime | None
    target: dict[str, Any]
    mapping: dict[str, tuple[str, ...]]
    stats: dict[str, CheckMitigationStats]
    actions: tuple[MitigationAction, ...] = field(default=())

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls.from_describe(text(data, "taskId") or "", data)

    @classmethod
    def from_describe(cls, task_id: str, data: Data) -> Self:
        """DescribeAuditMitigationActionsTask's reply does not repeat the task id it was asked for."""
        actions_mapping = member_map(data, "auditCheckToActionsMapping")
        statistics = member_map(data, "taskStatistics")
        return cls(
            task_id=task_id,
            status=text(data, "taskStatus") or "",
            start_time=timestamp(data.get("startTime")),
            end_time=timestamp(data.get("endTime")),
            target=member_map(data, "target"),
            mapping={safe_str(check): strings(actions_mapping, check) for check in sorted(actions_mapping)},
            stats={
                safe_str(check): CheckMitigationStats.from_api(value)
                for check, value in sorted(statistics.items())
                if isinstance(value, Mapping)
            },
            actions=tuple(
                MitigationAction.from_api(a)
                for a in items(data, "actionsDefinition")
                if isinstance(a, Mapping)
            ),
        )

    @property
    def totals(self) -> CheckMitigationStats:
        """The statistics of every check added up, for one progress bar."""
        stats = self.stats.values()
        return CheckMitigationStats(
            total=sum(s.total for s in stats),
            succeeded=sum(s.succeeded for s in stats),
            failed=sum(s.failed for s in stats),
            skipped=sum(s.skipped for s in stats),
            canceled=sum(s.canceled for s in stats),
        )


@dataclass(frozen=True, slots=True)
class MitigationExecution:
    """One action applied to one finding (ListAuditMitigationActionsExecutions)."""

    task_id: str
    finding_id: str
    action_name: str
    action_id: str | None
    status: str
    start_time: datetime | None
    end_time: datetime | None
    error_code: str | None
    message: str | None

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(
            task_id=text(data, "taskId") or "",
            finding_id=text(data, "findingId") or "",
            action_name=text(data, "actionName") or "",
            action_id=text(data, "actionId"),
            status=text(data, "status") or "",
            start_time=timestamp(data.get("startTime")),
            end_time=timestamp(data.get("endTime")),
            error_code=text(data, "errorCode"),
            message=text(data, "message"),
        )
