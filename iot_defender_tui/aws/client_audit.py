"""Audit configuration, scheduled audits, audit tasks and suppressions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from . import pagination
from .client_core import ClientCore
from .models import (
    AuditConfiguration,
    AuditTask,
    CheckConfiguration,
    ResourceRef,
    ScheduledAudit,
    SnsTarget,
    Suppression,
)

CheckSettings = Mapping[str, bool] | Iterable[CheckConfiguration]


def check_configurations(checks: CheckSettings) -> dict[str, dict[str, Any]]:
    """auditCheckConfigurations from {name: enabled} or CheckConfiguration objects."""
    if isinstance(checks, Mapping):
        return {name: {"enabled": bool(enabled)} for name, enabled in checks.items()}
    return {check.name: check.to_api() for check in checks}


def resource_identifier(resource: ResourceRef | Mapping[str, Any]) -> dict[str, Any]:
    return dict(resource.identifier if isinstance(resource, ResourceRef) else resource)


class AuditMixin(ClientCore):
    # -- account audit configuration ----------------------------------------------------------------
    async def describe_audit_configuration(self) -> AuditConfiguration:
        return AuditConfiguration.from_api(await self._read("iot", "DescribeAccountAuditConfiguration"))

    async def update_audit_configuration(
        self,
        *,
        role_arn: str | None = None,
        sns_target: SnsTarget | None = None,
        checks: CheckSettings | None = None,
    ) -> None:
        """Change only what is given; AWS keeps the other parts of the configuration as they are."""
        params: dict[str, Any] = {"roleArn": role_arn}
        if sns_target is not None:
            params["auditNotificationTargetConfigurations"] = {"SNS": sns_target.to_api()}
        if checks is not None:
            params["auditCheckConfigurations"] = check_configurations(checks)
        await self._mutate("iot", "UpdateAccountAuditConfiguration", params)

    async def delete_audit_configuration(self, *, delete_scheduled_audits: bool = False) -> None:
        await self._mutate(
            "iot", "DeleteAccountAuditConfiguration", {"deleteScheduledAudits": delete_scheduled_audits}
        )

    # -- scheduled audits ---------------------------------------------------------------------------
    async def create_scheduled_audit(
        self,
        name: str,
        frequency: str,
        check_names: Iterable[str],
        *,
        day_of_week: str | None = None,
        day_of_month: str | None = None,
    ) -> str:
        """Returns the scheduled audit's ARN."""
        response = await self._mutate(
            "iot",
            "CreateScheduledAudit",
            {
                "scheduledAuditName": name,
                "frequency": frequency,
                "targetCheckNames": list(check_names),
                "dayOfWeek": day_of_week,
                "dayOfMonth": day_of_month,
            },
        )
        return str(response.get("scheduledAuditArn", ""))

    async def describe_scheduled_audit(self, name: str) -> ScheduledAudit:
        data = await self._read("iot", "DescribeScheduledAudit", {"scheduledAuditName": name})
        return ScheduledAudit.from_api(data)

    async def update_scheduled_audit(
        self,
        name: str,
        *,
        frequency: str | None = None,
        check_names: Iterable[str] | None = None,
        day_of_week: str | None = None,
        day_of_month: str | None = None,
    ) -> str:
        response = await self._mutate(
            "iot",
            "UpdateScheduledAudit",
            {
                "scheduledAuditName": name,
                "frequency": frequency,
                "targetCheckNames": None if check_names is None else list(check_names),
                "dayOfWeek": day_of_week,
                "dayOfMonth": day_of_month,
            },
        )
        return str(response.get("scheduledAuditArn", ""))

    async def delete_scheduled_audit(self, name: str) -> None:
        await self._mutate("iot", "DeleteScheduledAudit", {"scheduledAuditName": name})

    async def list_scheduled_audits(self) -> tuple[ScheduledAudit, ...]:
        """Name, ARN and timing of each (ListScheduledAudits omits the checks: describe one for them)."""
        found = await self._all("iot", "ListScheduledAudits", {}, pagination.iot("scheduledAudits"))
        return tuple(ScheduledAudit.from_api(item) for item in found)

    # -- audit tasks --------------------------------------------------------------------------------
    async def start_audit(self, check_names: Iterable[str]) -> str:
        """Start an on-demand audit of `check_names`; returns its task id."""
        response = await self._mutate(
            "iot", "StartOnDemandAuditTask", {"targetCheckNames": list(check_names)}
        )
        return str(response["taskId"])

    async def list_audit_tasks(
        self,
        start: datetime,
        end: datetime,
        *,
        task_type: str | None = None,
        status: str | None = None,
    ) -> tuple[AuditTask, ...]:
        params = {"startTime": start, "endTime": end, "taskType": task_type, "taskStatus": status}
        found = await self._all("iot", "ListAuditTasks", params, pagination.iot("tasks"))
        return tuple(AuditTask.from_api(item) for item in found)

    async def describe_audit_task(self, task_id: str) -> AuditTask:
        data = await self._read("iot", "DescribeAuditTask", {"taskId": task_id})
        return AuditTask.from_describe(task_id, data)

    async def cancel_audit_task(self, task_id: str) -> None:
        await self._mutate("iot", "CancelAuditTask", {"taskId": task_id})

    # -- suppressions -------------------------------------------------------------------------------
    async def create_suppression(
        self,
        check_name: str,
        resource: ResourceRef | Mapping[str, Any],
        *,
        expiration: datetime | None = None,
        indefinitely: bool | None = None,
        description: str | None = None,
    ) -> None:
        """Suppress `check_name` findings on `resource` until `expiration`, or for good."""
        # clientRequestToken is left to botocore, which fills idempotency tokens itself.
        await self._mutate(
            "iot",
            "CreateAuditSuppression",
            {
                "checkName": check_name,
                "resourceIdentifier": resource_identifier(resource),
                "expirationDate": expiration,
                "suppressIndefinitely": indefinitely,
                "description": description,
            },
        )

    async def describe_suppression(
        self, check_name: str, resource: ResourceRef | Mapping[str, Any]
    ) -> Suppression:
        data = await self._read(
            "iot",
            "DescribeAuditSuppression",
            {"checkName": check_name, "resourceIdentifier": resource_identifier(resource)},
        )
        return Suppression.from_api(data)

    async def update_suppression(
        self,
        check_name: str,
        resource: ResourceRef | Mapping[str, Any],
        *,
        expiration: datetime | None = None,
        indefinitely: bool | None = None,
        description: str | None = None,
    ) -> None:
        await self._mutate(
            "iot",
            "UpdateAuditSuppression",
            {
                "checkName": check_name,
                "resourceIdentifier": resource_identifier(resource),
                "expirationDate": expiration,
                "suppressIndefinitely": indefinitely,
                "description": description,
            },
        )

    async def delete_suppression(self, check_name: str, resource: ResourceRef | Mapping[str, Any]) -> None:
        await self._mutate(
            "iot",
            "DeleteAuditSuppression",
            {"checkName": check_name, "resourceIdentifier": resource_identifier(resource)},
        )

    async def list_suppressions(
        self,
        *,
        check_name: str | None = None,
        resource: ResourceRef | Mapping[str, Any] | None = None,
        ascending: bool = True,
    ) -> tuple[Suppression, ...]:
        params = {
            "checkName": check_name,
            "resourceIdentifier": None if resource is None else resource_identifier(resource),
            "ascendingOrder": ascending,
        }
        found = await self._all("iot", "ListAuditSuppressions", params, pagination.iot("suppressions"))
        return tuple(Suppression.from_api(item) for item in found)
