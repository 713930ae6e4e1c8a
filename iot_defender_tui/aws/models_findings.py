"""Audit findings, the resources they name (`ResourceRef`, non-compliant or related) and suppressions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any, Self

from .catalogue import CHECKS
from .reply_fields import Data, arn_resource_name, epoch_millis, flag, mapping, text, timestamp
from .safe_text import safe, safe_map

SHORT_ID = 12  # enough hex digits to tell certificates apart and to search for in the console

# Which identifier member names which resource type, most specific first: an ISSUER_CERTIFICATE
# identifier also carries the device certificate it issued.
_TYPE_BY_MEMBER = (
    ("issuerCertificateIdentifier", "ISSUER_CERTIFICATE"),
    ("policyVersionIdentifier", "IOT_POLICY"),
    ("caCertificateId", "CA_CERTIFICATE"),
    ("deviceCertificateId", "DEVICE_CERTIFICATE"),
    ("deviceCertificateArn", "DEVICE_CERTIFICATE"),
    ("cognitoIdentityPoolId", "COGNITO_IDENTITY_POOL"),
    ("clientId", "CLIENT_ID"),
    ("roleAliasArn", "ROLE_ALIAS"),
    ("iamRoleArn", "IAM_ROLE"),
    ("account", "ACCOUNT_SETTINGS"),
)

# An audit of 100,000 devices repeats a handful of task ids, checks, severities, reasons and times in every
# finding: each distinct value is kept once instead of once per finding (interning would keep them forever).
_SHARED: dict[Any, Any] = {}
_SHARED_MAX = 50_000
# Most resources carry no additionalInfo: one empty dict for all of them (models are never mutated).
_NO_INFO: dict[str, str] = {}
_TIMES: dict[Any, datetime | None] = {}


def _is_map(value: Any) -> bool:
    # JSON and botocore give dicts: the exact type test skips Mapping's slow ABC check (100,000 findings).
    return type(value) is dict or isinstance(value, Mapping)


def shared(value: Any) -> Any:
    """`value`, or an equal object already seen (None stays None)."""
    if value is None:
        return None
    found = _SHARED.get(value)
    if found is None:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        _SHARED[value] = found = value
    return found


def _time(value: Any) -> datetime | None:
    """`timestamp(value)`, one datetime per distinct value: an audit's findings share a few times."""
    if value is None or type(value) is bool:  # True == 1: never look a flag up as a time
        return None
    try:
        found = _TIMES.get(value)
    except TypeError:  # not hashable: not a time either
        return None
    if found is None:
        if len(_TIMES) >= _SHARED_MAX:
            _TIMES.clear()
        _TIMES[value] = found = timestamp(value)
    return found


def _plain(value: Any) -> str:
    """The identifier is kept as AWS sent it (it goes back in requests): what is shown is made safe.

    Newlines go too: a resource is one line of a table.
    """
    return safe(str(value)).replace("\n", "\\x0a").replace("\t", "\\x09")


def _short(identifier: str) -> str:
    return identifier if len(identifier) <= SHORT_ID + 1 else f"{identifier[:SHORT_ID]}…"


def _flatten(identifier: Mapping[str, Any], prefix: str = "") -> list[str]:
    parts: list[str] = []
    for key in sorted(identifier):
        value = identifier[key]
        if isinstance(value, Mapping):
            parts.extend(_flatten(value, f"{prefix}{key}."))
        else:
            parts.append(f"{prefix}{key}={value}")
    return parts


def infer_resource_type(identifier: Mapping[str, Any]) -> str:
    for member, resource_type in _TYPE_BY_MEMBER:
        if identifier.get(member):
            return resource_type
    return "UNKNOWN"


@dataclass(frozen=True, slots=True, init=False)
class ResourceRef:
    """A resource a finding is about (or related to).

    `identifier` is AWS's ResourceIdentifier unchanged, so it can be sent back as is (suppressions,
    related resources); `readable` is what a table shows, `full_id` what to copy or search for.
    """

    resource_type: str
    # The identifier as a flat (key, value, key, value…) tuple: 100,000 findings hold about 160,000 of
    # them, and as dicts they were ~35 MB of an app held to 250 MB (tests/perf/bench.py).
    _pairs: tuple[Any, ...]
    additional_info: dict[str, str]

    def __init__(
        self, resource_type: str, identifier: Mapping[str, Any], additional_info: dict[str, str] | None = None
    ) -> None:
        object.__setattr__(self, "resource_type", resource_type)
        object.__setattr__(self, "_pairs", tuple(chain.from_iterable(identifier.items())))
        object.__setattr__(self, "additional_info", additional_info or _NO_INFO)

    @property
    def identifier(self) -> dict[str, Any]:
        """A new dict each time: callers may change it, and it goes to AWS as a ResourceIdentifier."""
        pairs = self._pairs
        return dict(zip(pairs[::2], pairs[1::2], strict=True))

    @classmethod
    def from_api(cls, data: Data, resource_type: str | None = None) -> Self:
        """`resource_type`: what to assume when the data names none (a finding's check knows it)."""
        identifier = data.get("resourceIdentifier")
        if not _is_map(identifier):
            identifier = _NO_INFO
        info = data.get("additionalInfo")
        return cls(
            resource_type=shared(
                text(data, "resourceType") or resource_type or infer_resource_type(identifier)
            ),
            identifier=identifier,  # not kept: its pairs are copied into a tuple
            additional_info=safe_map(info) if info and _is_map(info) else _NO_INFO,
        )

    @classmethod
    def from_identifier(cls, identifier: Mapping[str, Any], resource_type: str | None = None) -> Self:
        return cls(resource_type or infer_resource_type(identifier), dict(identifier))

    def _id(self, member: str) -> str | None:
        pairs = self._pairs
        for n in range(0, len(pairs), 2):
            if pairs[n] == member:
                return str(pairs[n + 1]) if pairs[n + 1] else None
        return None

    @property
    def device_certificate_id(self) -> str | None:
        arn = self._id("deviceCertificateArn")
        return self._id("deviceCertificateId") or (arn.rsplit("/", 1)[-1] if arn else None)

    @property
    def full_id(self) -> str:
        """The untruncated identifier an engineer pastes into the console's search."""
        kind = self.resource_type
        ident = self.identifier
        if kind == "DEVICE_CERTIFICATE":
            value = self.device_certificate_id
        elif kind == "CA_CERTIFICATE":
            value = self._id("caCertificateId")
        elif kind == "IOT_POLICY":
            value = mapping(ident, "policyVersionIdentifier").get("policyName")
        elif kind == "CLIENT_ID":
            value = self._id("clientId")
        elif kind == "COGNITO_IDENTITY_POOL":
            value = self._id("cognitoIdentityPoolId")
        elif kind == "ROLE_ALIAS":
            value = self._id("roleAliasArn")
        elif kind == "ACCOUNT_SETTINGS":
            value = self._id("account")
        elif kind == "IAM_ROLE":
            value = self._id("iamRoleArn")
        elif kind == "ISSUER_CERTIFICATE":
            issuer = mapping(ident, "issuerCertificateIdentifier")
            value = issuer.get("issuerId") or self.device_certificate_id
        else:
            value = None
        return _plain(value if value else " ".join(_flatten(ident)))

    @property
    def readable(self) -> str:
        """One line of plain text per resource type (never markup: AWS's text may hold brackets)."""
        return _plain(self._readable())

    def _readable(self) -> str:
        kind = self.resource_type
        if kind == "DEVICE_CERTIFICATE" and self.device_certificate_id:
            return f"cert {_short(self.device_certificate_id)}"
        if kind == "CA_CERTIFICATE" and self._id("caCertificateId"):
            return f"CA cert {_short(self._id('caCertificateId') or '')}"
        if kind == "IOT_POLICY" and mapping(self.identifier, "policyVersionIdentifier").get("policyName"):
            version = mapping(self.identifier, "policyVersionIdentifier")
            suffix = f" v{version['policyVersionId']}" if version.get("policyVersionId") else ""
            return f"{version['policyName']}{suffix}"
        if kind == "CLIENT_ID" and self._id("clientId"):
            return f"client {self._id('clientId')}"
        if kind == "COGNITO_IDENTITY_POOL" and self._id("cognitoIdentityPoolId"):
            return f"identity pool {self._id('cognitoIdentityPoolId')}"
        if kind == "ROLE_ALIAS" and self._id("roleAliasArn"):
            return f"role alias {arn_resource_name(self._id('roleAliasArn'))}"
        if kind == "ACCOUNT_SETTINGS" and self._id("account"):
            return f"account {self._id('account')}"
        if kind == "IAM_ROLE" and self._id("iamRoleArn"):
            return f"IAM role {arn_resource_name(self._id('iamRoleArn'))}"
        if kind == "ISSUER_CERTIFICATE" and self._id("issuerCertificateIdentifier"):
            return self._issuer_readable()
        return " ".join([kind, *_flatten(self.identifier)])

    def _issuer_readable(self) -> str:
        issuer = mapping(self.identifier, "issuerCertificateIdentifier")
        subject = issuer.get("issuerCertificateSubject") or f"id {_short(str(issuer.get('issuerId', '?')))}"
        parts = [f"issuer {subject}"]
        if issuer.get("issuerCertificateSerialNumber"):
            parts.append(f"serial {issuer['issuerCertificateSerialNumber']}")
        if self.device_certificate_id:
            parts.append(f"(cert {_short(self.device_certificate_id)})")
        return " ".join(parts)

    @property
    def connected_at(self) -> datetime | None:
        """When a related client connected (shared-certificate and conflicting-client-id findings)."""
        return epoch_millis(self.additional_info.get("CONNECTION_TIME"))

    @property
    def disconnected_at(self) -> datetime | None:
        return epoch_millis(self.additional_info.get("DISCONNECTION_TIME"))


@dataclass(frozen=True, slots=True)
class Finding:
    """A non-compliant resource found by one check of one audit (ListAuditFindings, DescribeAuditFinding)."""

    finding_id: str
    task_id: str
    check_name: str
    task_start_time: datetime | None
    finding_time: datetime | None
    severity: str
    resource: ResourceRef
    related: tuple[ResourceRef, ...]
    reason_code: str | None
    reason: str | None
    is_suppressed: bool

    @classmethod
    def from_api(cls, data: Data) -> Self:
        check_name = text(data, "checkName") or ""
        resource = data.get("nonCompliantResource")
        known = CHECKS.get(check_name)
        related = data.get("relatedResources")
        return cls(
            finding_id=text(data, "findingId") or "",
            task_id=shared(text(data, "taskId") or ""),
            check_name=shared(check_name),
            task_start_time=_time(data.get("taskStartTime")),
            finding_time=_time(data.get("findingTime")),
            severity=shared(text(data, "severity") or (known.severity if known else "")),
            resource=ResourceRef.from_api(
                resource if _is_map(resource) else _NO_INFO,
                known.resource_type if known else None,
            ),
            related=tuple(ResourceRef.from_api(r) for r in related if _is_map(r))
            if type(related) is list or isinstance(related, list | tuple)
            else (),
            reason_code=shared(text(data, "reasonForNonComplianceCode")),
            reason=shared(text(data, "reasonForNonCompliance")),
            is_suppressed=flag(data, "isSuppressed") or False,
        )


@dataclass(frozen=True, slots=True)
class Suppression:
    """A check's findings for one resource hidden until `expiration` or indefinitely."""

    check_name: str
    resource: ResourceRef
    expiration: datetime | None
    indefinitely: bool
    description: str | None

    @classmethod
    def from_api(cls, data: Data) -> Self:
        check_name = text(data, "checkName") or ""
        # Suppressions carry no resource type: the check determines it.
        known = CHECKS[check_name].resource_type if check_name in CHECKS else None
        return cls(
            check_name=check_name,
            resource=ResourceRef.from_identifier(mapping(data, "resourceIdentifier"), known),
            expiration=timestamp(data.get("expirationDate")),
            indefinitely=flag(data, "suppressIndefinitely") or False,
            description=text(data, "description"),
        )
