"""Reading the members of a reply as botocore parsed it: the helpers every model's `from_api` uses.

Members AWS adds later are ignored and optional members may be missing, so a newer service never breaks
the app; every string comes out through `safe_text.safe`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .safe_text import safe, safe_str

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


def text(data: Data, key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is not str:
        value = str(value)
    # `safe`'s test inlined: every member of 100,000 findings comes through here.
    return value if value.isprintable() else safe(value)


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


def arn_resource_name(arn: str | None) -> str | None:
    """The last path segment of an ARN's resource: `...:rolealias/Name` and `...:role/path/Name` give Name."""
    if not arn:
        return None
    resource = arn.split(":", 5)[-1]
    return resource.rsplit("/", 1)[-1] or resource
