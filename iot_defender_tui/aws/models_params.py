"""Typed parameters of the six mitigation action types.

Each class reads and writes the MitigationActionParams structure (`{"updateDeviceCertificateParams":
{...}}`), so `Params.from_api(p.to_api()) == p`. `from_api` also accepts the inner structure alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from .reply_fields import Data, flag, strings, text


def _inner(data: Data, key: str) -> Data:
    value = data.get(key)
    return value if isinstance(value, Mapping) else data


@dataclass(frozen=True, slots=True)
class UpdateDeviceCertificateParams:
    ACTION_TYPE: ClassVar[str] = "UPDATE_DEVICE_CERTIFICATE"
    API_KEY: ClassVar[str] = "updateDeviceCertificateParams"

    action: str = "DEACTIVATE"

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(action=text(_inner(data, cls.API_KEY), "action") or "DEACTIVATE")

    def to_api(self) -> dict[str, Any]:
        return {self.API_KEY: {"action": self.action}}

    @property
    def summary(self) -> str:
        return f"{self.action.lower()} the device certificate"


@dataclass(frozen=True, slots=True)
class UpdateCaCertificateParams:
    ACTION_TYPE: ClassVar[str] = "UPDATE_CA_CERTIFICATE"
    API_KEY: ClassVar[str] = "updateCACertificateParams"

    action: str = "DEACTIVATE"

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(action=text(_inner(data, cls.API_KEY), "action") or "DEACTIVATE")

    def to_api(self) -> dict[str, Any]:
        return {self.API_KEY: {"action": self.action}}

    @property
    def summary(self) -> str:
        return f"{self.action.lower()} the CA certificate"


@dataclass(frozen=True, slots=True)
class AddThingsToThingGroupParams:
    ACTION_TYPE: ClassVar[str] = "ADD_THINGS_TO_THING_GROUP"
    API_KEY: ClassVar[str] = "addThingsToThingGroupParams"

    thing_group_names: tuple[str, ...]
    override_dynamic_groups: bool = False

    @classmethod
    def from_api(cls, data: Data) -> Self:
        inner = _inner(data, cls.API_KEY)
        return cls(
            thing_group_names=strings(inner, "thingGroupNames"),
            override_dynamic_groups=flag(inner, "overrideDynamicGroups") or False,
        )

    def to_api(self) -> dict[str, Any]:
        return {
            self.API_KEY: {
                "thingGroupNames": list(self.thing_group_names),
                "overrideDynamicGroups": self.override_dynamic_groups,
            }
        }

    @property
    def summary(self) -> str:
        override = ", overriding dynamic groups" if self.override_dynamic_groups else ""
        return f"add things to {', '.join(self.thing_group_names)}{override}"


@dataclass(frozen=True, slots=True)
class ReplaceDefaultPolicyVersionParams:
    ACTION_TYPE: ClassVar[str] = "REPLACE_DEFAULT_POLICY_VERSION"
    API_KEY: ClassVar[str] = "replaceDefaultPolicyVersionParams"

    template_name: str = "BLANK_POLICY"

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(template_name=text(_inner(data, cls.API_KEY), "templateName") or "BLANK_POLICY")

    def to_api(self) -> dict[str, Any]:
        return {self.API_KEY: {"templateName": self.template_name}}

    @property
    def summary(self) -> str:
        return f"new default policy version from {self.template_name}"


@dataclass(frozen=True, slots=True)
class EnableIotLoggingParams:
    ACTION_TYPE: ClassVar[str] = "ENABLE_IOT_LOGGING"
    API_KEY: ClassVar[str] = "enableIoTLoggingParams"

    role_arn_for_logging: str
    log_level: str

    @classmethod
    def from_api(cls, data: Data) -> Self:
        inner = _inner(data, cls.API_KEY)
        return cls(
            role_arn_for_logging=text(inner, "roleArnForLogging") or "",
            log_level=text(inner, "logLevel") or "",
        )

    def to_api(self) -> dict[str, Any]:
        return {self.API_KEY: {"roleArnForLogging": self.role_arn_for_logging, "logLevel": self.log_level}}

    @property
    def summary(self) -> str:
        return f"log at {self.log_level} with {self.role_arn_for_logging}"


@dataclass(frozen=True, slots=True)
class PublishFindingToSnsParams:
    ACTION_TYPE: ClassVar[str] = "PUBLISH_FINDING_TO_SNS"
    API_KEY: ClassVar[str] = "publishFindingToSnsParams"

    topic_arn: str

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(topic_arn=text(_inner(data, cls.API_KEY), "topicArn") or "")

    def to_api(self) -> dict[str, Any]:
        return {self.API_KEY: {"topicArn": self.topic_arn}}

    @property
    def summary(self) -> str:
        return f"publish to {self.topic_arn}"


ActionParams = (
    UpdateDeviceCertificateParams
    | UpdateCaCertificateParams
    | AddThingsToThingGroupParams
    | ReplaceDefaultPolicyVersionParams
    | EnableIotLoggingParams
    | PublishFindingToSnsParams
)

PARAMS_BY_TYPE: dict[str, type[ActionParams]] = {
    cls.ACTION_TYPE: cls
    for cls in (
        UpdateDeviceCertificateParams,
        UpdateCaCertificateParams,
        AddThingsToThingGroupParams,
        ReplaceDefaultPolicyVersionParams,
        EnableIotLoggingParams,
        PublishFindingToSnsParams,
    )
}
_TYPE_BY_KEY = {cls.API_KEY: action_type for action_type, cls in PARAMS_BY_TYPE.items()}


def action_type_of(params: Data) -> str | None:
    """The action type a MitigationActionParams structure configures (task definitions omit the type)."""
    return next((_TYPE_BY_KEY[key] for key in params if key in _TYPE_BY_KEY), None)


def parse_params(action_type: str | None, params: Data) -> ActionParams | dict[str, Any] | None:
    """Typed parameters for a known type; the raw structure for a type this app does not know yet."""
    if not params:
        return None  # list items carry no parameters
    cls = PARAMS_BY_TYPE.get(action_type or "")
    if cls is None or cls.API_KEY not in params:
        return dict(params)
    return cls.from_api(params)
