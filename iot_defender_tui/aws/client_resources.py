"""Logging options, and the resources the screens show around findings (certificates, policies, things,
thing groups) and pick from (IAM roles, SNS topics)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from . import pagination, roles
from .client_core import ClientCore
from .errors import AwsError, InvalidRequestError
from .models import Certificate, LoggingOptions, LogLevelTarget, Policy, Role, Topic
from .models_params import ActionParams
from .reply_fields import Data, text, timestamp


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One version of an IoT policy (ListPolicyVersions); fetch its document with get_policy_version."""

    version_id: str
    is_default: bool
    created: datetime | None

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(
            version_id=text(data, "versionId") or "",
            is_default=data.get("isDefaultVersion") is True,
            created=timestamp(data.get("createDate")),
        )


class RoleWithoutPermissionsError(AwsError):
    """CreateRole succeeded but PutRolePolicy did not: the role exists and allows nothing."""

    def __init__(self, role: Role, cause: AwsError):
        self.role = role
        self.cause = cause
        super().__init__(
            cause.code,
            f"The role {role.name} was created but has NO permissions: adding them failed ({cause.message}).",
            "PutRolePolicy",
            f"Add policy {roles.POLICY_NAME} to it in IAM, or delete the role and create it again."
            + (f" {cause.hint}" if cause.hint else ""),
        )


class ResourcesMixin(ClientCore):
    # -- logging ------------------------------------------------------------------------------------
    async def get_logging_options(self) -> LoggingOptions:
        """v1 and v2 logging together: LOGGING_DISABLED_CHECK looks at both."""
        v1 = await self._read("iot", "GetLoggingOptions")
        try:
            v2: dict[str, Any] | None = await self._read("iot", "GetV2LoggingOptions")
        except AwsError as err:
            # An account that never set v2 logging answers NotConfiguredException: "not configured".
            if err.code != "NotConfiguredException":
                raise
            v2 = None
        return LoggingOptions.from_replies(v1, v2)

    async def set_logging_options_v1(self, role_arn: str, level: str) -> None:
        await self._mutate(
            "iot", "SetLoggingOptions", {"loggingOptionsPayload": {"roleArn": role_arn, "logLevel": level}}
        )

    async def set_v2_logging_options(
        self,
        *,
        role_arn: str | None = None,
        default_level: str | None = None,
        disable_all: bool | None = None,
    ) -> None:
        await self._mutate(
            "iot",
            "SetV2LoggingOptions",
            {"roleArn": role_arn, "defaultLogLevel": default_level, "disableAllLogs": disable_all},
        )

    async def set_v2_logging_level(self, target_type: str, target_name: str | None, level: str) -> None:
        target = {"targetType": target_type, "targetName": target_name}
        await self._mutate(
            "iot",
            "SetV2LoggingLevel",
            {"logTarget": {k: v for k, v in target.items() if v is not None}, "logLevel": level},
        )

    async def delete_v2_logging_level(self, target_type: str, target_name: str) -> None:
        await self._mutate(
            "iot", "DeleteV2LoggingLevel", {"targetType": target_type, "targetName": target_name}
        )

    async def list_v2_logging_levels(self, target_type: str | None = None) -> tuple[LogLevelTarget, ...]:
        found = await self._all(
            "iot",
            "ListV2LoggingLevels",
            {"targetType": target_type},
            pagination.iot("logTargetConfigurations"),
        )
        return tuple(LogLevelTarget.from_api(item) for item in found)

    # -- certificates and policies ------------------------------------------------------------------
    async def describe_certificate(self, cert_id: str) -> Certificate:
        return Certificate.from_api(
            await self._read("iot", "DescribeCertificate", {"certificateId": cert_id})
        )

    async def describe_ca_certificate(self, cert_id: str) -> Certificate:
        data = await self._read("iot", "DescribeCACertificate", {"certificateId": cert_id})
        return Certificate.from_api(data)

    async def get_policy(self, name: str) -> Policy:
        """The policy with its default version's document."""
        return Policy.from_api(await self._read("iot", "GetPolicy", {"policyName": name}))

    async def get_policy_version(self, name: str, version_id: str) -> Policy:
        """The document of one version (the one an IOT_POLICY finding names may not be the default)."""
        data = await self._read(
            "iot", "GetPolicyVersion", {"policyName": name, "policyVersionId": version_id}
        )
        return Policy.from_api(data)

    async def update_certificate(self, cert_id: str, status: str) -> None:
        """Undoing a mitigation that deactivated it (aws/revert.py); the app never deactivates one itself."""
        await self._mutate("iot", "UpdateCertificate", {"certificateId": cert_id, "newStatus": status})

    async def update_ca_certificate(self, cert_id: str, status: str) -> None:
        await self._mutate("iot", "UpdateCACertificate", {"certificateId": cert_id, "newStatus": status})

    async def set_default_policy_version(self, name: str, version_id: str) -> None:
        params = {"policyName": name, "policyVersionId": version_id}
        await self._mutate("iot", "SetDefaultPolicyVersion", params)

    async def list_policy_versions(self, name: str) -> tuple[PolicyVersion, ...]:
        data = await self._read("iot", "ListPolicyVersions", {"policyName": name})
        return tuple(PolicyVersion.from_api(v) for v in data.get("policyVersions") or ())

    # -- things and groups --------------------------------------------------------------------------
    async def list_thing_principals(self, thing_name: str) -> tuple[str, ...]:
        """ARNs of the certificates (and other principals) attached to a thing."""
        found = await self._all(
            "iot", "ListThingPrincipals", {"thingName": thing_name}, pagination.iot("principals")
        )
        return tuple(str(p) for p in found)

    async def list_principal_things(self, principal: str) -> tuple[str, ...]:
        """Names of the things a certificate (by ARN) is attached to."""
        found = await self._all(
            "iot", "ListPrincipalThings", {"principal": principal}, pagination.iot("things")
        )
        return tuple(str(t) for t in found)

    async def list_things_in_thing_group(self, group: str, *, limit: int | None = None) -> tuple[str, ...]:
        """Names of the things directly in a group; stops after `limit` (enough to know it is more)."""
        found: list[str] = []
        params = {"thingGroupName": group, "recursive": False}
        async for page in self._pages("iot", "ListThingsInThingGroup", params, pagination.iot("things")):
            found.extend(str(t) for t in page)
            if limit is not None and len(found) >= limit:
                break
        return tuple(found)

    async def remove_thing_from_thing_group(self, group: str, thing: str) -> None:
        await self._mutate("iot", "RemoveThingFromThingGroup", {"thingGroupName": group, "thingName": thing})

    async def list_thing_groups(self, name_prefix: str | None = None) -> tuple[str, ...]:
        found = await self._all(
            "iot", "ListThingGroups", {"namePrefixFilter": name_prefix}, pagination.iot("thingGroups")
        )
        return tuple(str(g.get("groupName", "")) for g in found)

    # -- pickers ------------------------------------------------------------------------------------
    async def list_roles(self, path_prefix: str | None = None) -> tuple[Role, ...]:
        found = await self._all("iam", "ListRoles", {"PathPrefix": path_prefix}, pagination.IAM_ROLES)
        return tuple(Role.from_api(r) for r in found)

    async def get_role(self, name: str) -> Role:
        return Role.from_api(await self._read("iam", "GetRole", {"RoleName": name}))

    async def get_role_policy(self, role_name: str, policy_name: str) -> dict[str, Any]:
        """An inline policy of a role (GetRolePolicy's reply: RoleName, PolicyName, PolicyDocument)."""
        return await self._read("iam", "GetRolePolicy", {"RoleName": role_name, "PolicyName": policy_name})

    async def create_mitigation_role(
        self, name: str, action_type: str, params: ActionParams | None = None
    ) -> Role:
        """A role AWS IoT may assume, allowing what an action of `action_type` (with `params`) does.

        Two requests: CreateRole, then PutRolePolicy. If the second fails the role is left in place (the
        caller may lack iam:DeleteRole too) and RoleWithoutPermissionsError says so.
        """
        problem = roles.role_name_problem(name)
        if problem is not None:
            raise InvalidRequestError("InvalidRoleName", problem, "CreateRole")
        if action_type not in roles.ACTIONS:
            unknown = f"Unknown mitigation action type {action_type}."
            raise InvalidRequestError("InvalidActionType", unknown, "CreateRole")
        created = await self._mutate(
            "iam",
            "CreateRole",
            {
                "RoleName": name,
                "AssumeRolePolicyDocument": json.dumps(roles.trust_policy()),
                "Description": roles.description(action_type),
            },
        )
        role = Role.from_api(created)
        try:
            await self._mutate(
                "iam",
                "PutRolePolicy",
                {
                    "RoleName": name,
                    "PolicyName": roles.POLICY_NAME,
                    "PolicyDocument": json.dumps(roles.permission_policy(action_type, params)),
                },
            )
        except AwsError as err:
            raise RoleWithoutPermissionsError(role, err) from err
        return role

    async def list_topics(self) -> tuple[Topic, ...]:
        found = await self._all("sns", "ListTopics", {}, pagination.SNS_TOPICS)
        return tuple(Topic.from_api(t) for t in found)
