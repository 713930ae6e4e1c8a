"""Mitigation actions, mitigation tasks and their executions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from . import guard, pagination, prior_state
from .client_core import ClientCore
from .errors import ConflictError, InvalidRequestError, NotFoundError
from .models import MitigationAction, MitigationExecution, MitigationTask
from .models_params import ActionParams


def action_params(params: ActionParams | Mapping[str, Any]) -> dict[str, Any]:
    """MitigationActionParams from a typed params object or the API structure itself."""
    if isinstance(params, Mapping):
        return dict(params)
    return params.to_api()


# A mitigation task in one of these states is over: applying the same request again starts a new task.
TASK_ENDED = frozenset({"COMPLETED", "FAILED", "CANCELED"})
# Earlier runs of one request are probed one by one; past this many, something else is wrong.
MAX_TASK_ATTEMPTS = 50
# How far back a still running task is looked for (the Mitigation pane lists as many days).
RUNNING_TASK_DAYS = 90


@dataclass(frozen=True, slots=True)
class MitigationStart:
    """What start_mitigation_task did: started `task`, or found it already running (`reused`)."""

    task: MitigationTask
    reused: bool = False
    previous: MitigationTask | None = None  # the latest earlier task of the same request, which had ended

    @property
    def task_id(self) -> str:
        return self.task.task_id


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
        self, target: Mapping[str, Any], mapping: Mapping[str, Iterable[str]]
    ) -> MitigationStart:
        """Apply the mapped actions to the target's findings, unless the same request is running already.

        `target` is AWS's AuditMitigationActionsTaskTarget (findingIds, or auditTaskId with an optional
        auditCheckToReasonCodeFilter); `mapping` is check name → action names. The task id and
        clientRequestToken are derived from the request and its `attempt`: attempt 0, 1, 2… are looked up
        until one that does not exist (started now) or one still running (returned, `reused`). So a
        repeated key press while it runs, or a retry after a timeout, finds the running task, and applying
        again after it ended (a certificate re-activated since, a failed or canceled task) runs it again.
        """
        self._ensure_writable("StartAuditMitigationActionsTask")
        actions = check_to_actions(mapping)
        target_api = {k: v for k, v in dict(target).items() if v is not None}
        previous: MitigationTask | None = None
        for attempt in range(MAX_TASK_ATTEMPTS):
            task_id, token = guard.mitigation_request_identity(target_api, actions, attempt=attempt)
            try:
                existing = await self.describe_mitigation_task(task_id)
            except NotFoundError:
                break
            if existing.status not in TASK_ENDED:
                return MitigationStart(existing, reused=True, previous=previous)
            previous = existing
        else:
            raise InvalidRequestError(
                "TooManyAttempts",
                f"These actions were applied to these findings {MAX_TASK_ATTEMPTS} times already; "
                "start a task from the AWS console or CLI if it must run again.",
                "StartAuditMitigationActionsTask",
            )
        # What the actions will replace that AWS does not record, journaled with the start for `revert`.
        prior = await prior_state.read(self, (a for names in actions.values() for a in names))
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
                prior=prior,
            )
        except ConflictError as err:
            # Started under this id since we looked (another window of the app): that task is the one.
            if err.code != "TaskAlreadyExistsException":
                raise
            return MitigationStart(await self.describe_mitigation_task(task_id), True, previous)
        return MitigationStart(await self.describe_mitigation_task(task_id), False, previous)

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

    async def running_tasks_using(self, action_name: str) -> tuple[MitigationTask, ...]:
        """The IN_PROGRESS mitigation tasks whose auditCheckToActionsMapping names `action_name`.

        A listed task carries no mapping, so each running one is described (few run at once: AWS allows 10).
        """
        now = datetime.now(UTC)
        running = await self.list_mitigation_tasks(
            now - timedelta(days=RUNNING_TASK_DAYS), now + timedelta(minutes=5), status="IN_PROGRESS"
        )
        described = await asyncio.gather(*(self.describe_mitigation_task(t.task_id) for t in running))
        return tuple(
            t
            for t in described
            if t.status == "IN_PROGRESS" and any(action_name in names for names in t.mapping.values())
        )

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
