"""The resources around Device Defender that the screens show and pick from: who the app acts as
(Identity), IAM roles, SNS topics, and the IoT certificates and policies a finding names.

Every `from_api` reads a reply (or one item of a list reply) as botocore parsed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Self

from .reply_fields import Data, arn_resource_name, mapping, text, timestamp


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the app acts as, from STS GetCallerIdentity."""

    account: str
    arn: str
    user_id: str

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(
            account=text(data, "Account") or "",
            arn=text(data, "Arn") or "",
            user_id=text(data, "UserId") or "",
        )


@dataclass(frozen=True, slots=True)
class Role:
    """An IAM role, from IAM ListRoles / GetRole (the role pickers)."""

    name: str
    arn: str

    @classmethod
    def from_api(cls, data: Data) -> Self:
        if isinstance(data.get("Role"), Mapping):  # GetRole wraps the role
            data = data["Role"]
        arn = text(data, "Arn") or ""
        return cls(name=text(data, "RoleName") or arn_resource_name(arn) or "", arn=arn)


@dataclass(frozen=True, slots=True)
class Topic:
    """An SNS topic, from SNS ListTopics (the topic picker)."""

    arn: str

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]

    @classmethod
    def from_api(cls, data: Data) -> Self:
        return cls(arn=text(data, "TopicArn") or "")


@dataclass(frozen=True, slots=True)
class Certificate:
    """A device or CA certificate, from Describe(CA)Certificate or List(CA)Certificates items."""

    cert_id: str
    arn: str
    status: str
    ca_id: str | None
    not_before: datetime | None
    not_after: datetime | None

    @classmethod
    def from_api(cls, data: Data) -> Self:
        if isinstance(data.get("certificateDescription"), Mapping):
            data = data["certificateDescription"]
        validity = mapping(data, "validity")
        return cls(
            cert_id=text(data, "certificateId") or "",
            arn=text(data, "certificateArn") or "",
            status=text(data, "status") or "",
            ca_id=text(data, "caCertificateId"),
            not_before=timestamp(validity.get("notBefore")),
            not_after=timestamp(validity.get("notAfter")),
        )


@dataclass(frozen=True, slots=True)
class Policy:
    """An IoT policy (GetPolicy, GetPolicyVersion, ListPolicies items); `document` is AWS's JSON text."""

    name: str
    arn: str
    default_version_id: str | None
    document: str | None

    @classmethod
    def from_api(cls, data: Data) -> Self:
        default = text(data, "defaultVersionId")
        if default is None and data.get("isDefaultVersion") is True:
            default = text(data, "policyVersionId")
        return cls(
            name=text(data, "policyName") or "",
            arn=text(data, "policyArn") or "",
            default_version_id=default,
            document=text(data, "policyDocument"),
        )
