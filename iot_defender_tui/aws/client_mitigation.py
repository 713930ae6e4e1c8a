"""Mitigation actions, mitigation tasks and their executions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from . import guard, pagination
from .client_core import ClientCore
from .errors import ConflictError
from .models import MitigationAction, MitigationExecution, MitigationTask
from .models_params import ActionParams


def action_params(params: ActionParams | Mapping[str, Any]) -> dict[str, Any]:
    """MitigationActionParams from a typed params object or the API structure itself."""
    if isinstance(params, Mapping):
        return dict(params)
    return params.to_api()


def check_to_actions(mapping: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    return {str(check): [str(a) for a in actions] for check, actions in mapping.items()}


class MitigationMixin(ClientCore):
    # -- actions ------------------------------------------------------------------------------------
    async def create_mitigation_action(
        self, name: str, role_arn: str, params: ActionParams | Mapping[str, Any]
    ) -> MitigationAction:
        """Create the action; returns it with the ARN and id AWS assigned."""
        request = {"actionName": name, "roleArn": role_arn, "actionParams": action_params(params)}
        response = await self._mutate("iot", "CreateMitigationAction", request)
        return MitigationAction.from_api({**request, **response})

    async def describe_mitigation_action(self, name: str) -> MitigationAction:
        data = await self._read("iot", "DescribeMitigationAction", {"actionName": name})
        return MitigationAction.from_api(data)

    async def update_mitigation_action(
        self,
        name: str,
        *,
        role_arn: str | None = None,
        params: ActionParams | Mapping[str, Any] | None = None,
    ) -> None:
        request = {
            "actionName": name,
            "roleArn": role_arn,
            "actionParams": None if params is None else action_params(params),
        }
        await self._mutate("iot", "UpdateMitigationAction", request)

    async def delete_mitigation_action(self, name: str) -> None:
        await self._mutate("iot", "DeleteMitigationAction", {"actionName": name})

    async def list_mitigation_actions(self, action_type: str | None = None) -> tuple[MitigationAction, ...]:
        """Name, ARN and creation date of each action (describe one for its role and parameters)."""
        found = await self._all(
            "iot",
            "ListMitigationActions",
            {"actionType": action_type},
            pagination.iot("actionIdentifiers"),
        )
        return tuple(MitigationAction.from_api(item) for item in found)

    # -- tasks --------------------------------------------------------------------------------------
    async def start_mitigation_task(
        self,
        target: Mapping[str, Any],
        mapping: Mapping[str, Iterable[str]],
        *,
        attempt: int = 0,
    ) -> MitigationTask:
        """Apply the mapped actions to the target's findings; the same request always gives the same task.

        `target` is AWS's AuditMitigationActionsTaskTarget (findingIds, or auditTaskId with an optional
        auditCheckToReasonCodeFilter); `mapping` is check name → action names. The task id and
        clientRequestToken are derived from the request, so a repeated key press or a retry after a
        timeout finds the task already started instead of starting another. `attempt` > 0 runs the same
        mitigation again deliberately.
        """
        actions = check_to_actions(mapping)
        target_api = {k: v for k, v in dict(target).items() if v is not None}
        task_id, token = guard.mitigation_request_identity(target_api, actions, attempt=attempt)
        try:
            await self._mutate(
                "iot",
                "StartAuditMitigationActionsTask",
                {
                    "taskId": task_id,
                    "target": target_api,
                    "auditCheckToActionsMapping": actions,
                    "clientRequestToken": token,
                },
            )
        except ConflictError as err:
            # Same derived id means same request: the task we want exists already (e.g. AWS's idempotency
            # window passed). Anything else is a real conflict.
            if err.code != "TaskAlreadyExistsException":
                raise
        return await self.describe_mitigation_task(task_id)

    async def describe_mitigation_task(self, task_id: str) -> MitigationTask:
        data = await self._read("iot", "DescribeAuditMitigationActionsTask", {"taskId": task_id})
        return MitigationTask.from_describe(task_id, data)

    async def list_mitigation_tasks(
        self,
        start: datetime,
        end: datetime,
        *,
        audit_task_id: str | None = None,
        finding_id: str | None = None,
        status: str | None = None,
    ) -> tuple[MitigationTask, ...]:
        params = {
            "startTime": start,
            "endTime": end,
            "auditTaskId": audit_task_id,
            "findingId": finding_id,
            "taskStatus": status,
        }
        found = await self._all("iot", "ListAuditMitigationActionsTasks", params, pagination.iot("tasks"))
        return tuple(MitigationTask.from_api(item) for item in found)

    async def cancel_mitigation_task(self, task_id: str) -> None:
        await self._mutate("iot", "CancelAuditMitigationActionsTask", {"taskId": task_id})

    async def list_mitigation_executions(
        self, task_id: str, finding_id: str, *, status: str | None = None
    ) -> tuple[MitigationExecution, ...]:
        params = {"taskId": task_id, "findingId": finding_id, "actionStatus": status}
        found = await self._all(
            "iot", "ListAuditMitigationActionsExecutions", params, pagination.iot("actionsExecutions")
        )
        return tuple(MitigationExecution.from_api(item) for item in found)
