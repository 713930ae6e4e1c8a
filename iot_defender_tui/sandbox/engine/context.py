"""What an audit check is given (`AuditContext`) and what it gives back (`CheckOutcome`, `FindingDraft`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.cognitoidentity.models import cognitoidentity_backends
from moto.iam.models import iam_backends
from moto.iot.models import iot_backends

from ..state import AuditConfig, DefenderState


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
    now: float
    iot: Any  # moto IoTBackend
    iam: Any  # moto IAMBackend
    cognito: Any  # moto CognitoIdentityBackend

    @classmethod
    def of(cls, state: DefenderState, now: float) -> AuditContext:
        account, region = state.account_id, state.region
        return cls(
            state=state,
            now=now,
            iot=iot_backends[account][region],
            iam=iam_backends[account]["global"],
            cognito=cognitoidentity_backends[account][region],
        )

    @property
    def config(self) -> AuditConfig:
        return self.state.audit_config or AuditConfig()


Evaluator = Callable[[AuditContext], CheckOutcome]
