"""The audit engine: each of the 17 checks evaluated from the sandbox's real state.

`evaluate_check(name, ctx)` returns a `CheckOutcome`. Evaluators are registered per check name with
`@check("NAME")` in the modules imported at the bottom; a check with no evaluator FAILS with a message
rather than ever reporting compliant.
"""

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
_EVALUATORS: dict[str, Evaluator] = {}


def check(name: str) -> Callable[[Evaluator], Evaluator]:
    def register(fn: Evaluator) -> Evaluator:
        _EVALUATORS[name] = fn
        return fn

    return register


def evaluate_check(name: str, ctx: AuditContext) -> CheckOutcome:
    evaluator = _EVALUATORS.get(name)
    if evaluator is None:
        return CheckOutcome(0, error=f"The sandbox cannot evaluate {name}.")
    try:
        return evaluator(ctx)
    except Exception as err:  # a check that breaks says so instead of passing
        return CheckOutcome(0, error=f"The sandbox failed to evaluate {name}: {err}")


from . import certificates, connections, keys, logging_check, policies, roles  # noqa: E402, F401
