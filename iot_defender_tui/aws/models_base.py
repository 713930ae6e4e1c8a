"""Parsing helpers shared by the models, and the small models of the resources around Device Defender.

Every `from_api` reads a reply (or one item of a list reply) as botocore parsed it. Members AWS adds
later are ignored and optional members may be missing, so a newer service never breaks the app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

Data = Mapping[str, Any]


def timestamp(value: Any) -> datetime | None:
    """A timezone-aware UTC datetime from what botocore, the CLI's JSON or the journal hold.

    botocore gives `tzlocal()` datetimes; the wire and AWS's JSON carry epoch seconds; naive values are
    taken as UTC, which is what every AWS timestamp is.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except ValueError:
            pass
        try:
            return timestamp(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def epoch_millis(value: Any) -> datetime | None:
    """`additionalInfo` connection times are epoch milliseconds as strings."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# What AWS's text must not bring to the user's terminal: control characters (ESC above all, which drives
# the terminal; C1's CSI too), format characters (bidi overrides that reorder what is shown, zero-width
# and tag characters that hide text), line and paragraph separators, and lone surrogates (which JSON can
# carry and no terminal encoding can write). These are Unicode's Cc, Cf, Zl, Zp and Cs code points but
# newline and tab, which free text keeps. AWS names and ids never contain any of them; a device's MQTT
# client id or a CA's subject may.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def safe(value: str) -> str:
    """`value` with the code points above shown as \\xNN, \\uNNNN or \\UNNNNNNNN (newlines and tabs kept).

    The one boundary of AWS's text: every string a model keeps from a reply passes through it.
    """
    if value.isprintable():  # none of them is printable: most text skips the regex
        return value
    return _UNSAFE.sub(_escape, value)


def safe_str(value: Any) -> str:
    """Any value of a reply (a dict key, a list item, a nested member) as safe text."""
    return safe(value if type(value) is str else str(value))


def text(data: Data, key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is not str:
        value = str(value)
    # `safe` inlined: every member of 100,000 findings comes through here.
    return value if value.isprintable() else _UNSAFE.sub(_escape, value)


def count(data: Data, key: str) -> int:
    try:
        return int(data.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def flag(data: Data, key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def mapping(data: Data, key: str) -> dict[str, Any]:
    """A copy of a structure member ({} when absent or not a structure)."""
    value = data.get(key)
    if type(value) is dict:  # what JSON and botocore give: skips the slow ABC check below
        return value.copy()
    return dict(value) if isinstance(value, Mapping) else {}


def items(data: Data, key: str) -> list[Any]:
    value = data.get(key)
    return list(value) if isinstance(value, list | tuple) else []


def strings(data: Data, key: str) -> tuple[str, ...]:
    return tuple(safe_str(v) for v in items(data, key))


def safe_map(value: Any) -> dict[str, str]:
    """A string-to-string member (additionalInfo, a check's configuration), keys and values made safe."""
    if not isinstance(value, Mapping):
        return {}
    # The fast path of `safe` inlined: a third of a big audit's findings carry additionalInfo.
    return {
        (k if type(k) is str and k.isprintable() else safe_str(k)): (
            v if type(v) is str and v.isprintable() else safe_str(v)
        )
        for k, v in value.items()
    }


def arn_resource_name(arn: str | None) -> str | None:
    """The last path segment of an ARN's resource: `...:rolealias/Name` and `...:role/path/Name` give Name."""
    if not arn:
        return None
    resource = arn.split(":", 5)[-1]
    return resource.rsplit("/", 1)[-1] or resource


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
