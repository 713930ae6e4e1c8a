"""What an audit check is given (`AuditContext`) and what it gives back (`CheckOutcome`, `FindingDraft`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.cognitoidentity.models import cognitoidentity_backends
from moto.iam.models import iam_backends
from moto.iot.models import iot_backends

from ..state import AuditConfig, AuditTask, DefenderState


@dataclass(slots=True)
class FindingDraft:
    resource_type: str
    resource_identifier: dict[str, Any]
    reason_code: str
    reason: str
    additional_info: dict[str, str] = field(default_factory=dict)
    related_resources: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class CheckOutcome:
    total_resources: int
    findings: list[FindingDraft] = field(default_factory=list)
    error: str | None = None  # set: the check FAILED with this message
    error_code: str = "AUDIT_CHECK_FAILED"  # AuditCheckDetails.errorCode when `error` is set


@dataclass(slots=True)
class AuditContext:
    state: DefenderState
    now: float  # when this check runs
    iot: Any  # moto IoTBackend
    iam: Any  # moto IAMBackend
    cognito: Any  # moto CognitoIdentityBackend
    started: float = 0.0  # when the audit started (checks that look back count from here)
    scheduled: bool = False
    last_run: float | None = None  # a scheduled audit's previous start; None: on demand, or its first run

    @classmethod
    def of(cls, state: DefenderState, now: float, task: AuditTask | None = None) -> AuditContext:
        """The context of one check of `task` running at `now` (no task: an on-demand audit started now)."""
        account, region = state.account_id, state.region
        scheduled = task is not None and task.task_type == "SCHEDULED_AUDIT_TASK"
        last_run = _last_run(state, task) if task is not None and scheduled else None
        return cls(
            state=state,
            now=now,
            iot=iot_backends[account][region],
            iam=iam_backends[account]["global"],
            cognito=cognitoidentity_backends[account][region],
            started=now if task is None else task.start_time,
            scheduled=scheduled,
            last_run=last_run,
        )

    @property
    def config(self) -> AuditConfig:
        return self.state.audit_config or AuditConfig()


def _last_run(state: DefenderState, task: AuditTask) -> float | None:
    """When the scheduled audit of `task` last ran before it (its latest earlier task), if ever."""
    with state.lock:
        earlier = [
            t.start_time
            for t in state.tasks.values()
            if t.task_type == "SCHEDULED_AUDIT_TASK"
            and t.scheduled_audit_name == task.scheduled_audit_name
            and t.start_time < task.start_time
        ]
    return max(earlier, default=None)


Evaluator = Callable[[AuditContext], CheckOutcome]
