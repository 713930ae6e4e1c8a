"""Input rules shared by several operations (AWS's documented constraints)."""

from __future__ import annotations

import re
from typing import Any

from ..checks import CHECKS
from ..errors import InvalidRequest

# `\Z`, not `$` (which also matches before a final newline); ASCII classes, not `\d`/`\w` (every script).
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::([0-9]{12}):role/[A-Za-z0-9_+=,.@/-]{1,512}\Z")
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}\Z")
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def require_role_arn(arn: str, account_id: str | None = None) -> None:
    match = ROLE_ARN.match(arn or "")
    if not match:
        raise InvalidRequest(f"Invalid role ARN: {arn}")
    if account_id and match.group(1) != account_id:
        raise InvalidRequest(f"The role {arn} does not belong to account {account_id}.")


def require_name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise InvalidRequest(f"{what} must be 1-128 characters of letters, digits, '_' or '-': {value!r}")
    return value


def require_checks(names: Any) -> list[str]:
    if not names:
        raise InvalidRequest("At least one audit check is required.")
    for name in names:
        if name not in CHECKS:
            raise InvalidRequest(f"Unknown audit check: {name}")
    return list(dict.fromkeys(names))


def validate_check_configuration(name: str, configuration: dict[str, str] | None) -> None:
    """Thresholds of the certificate age/expiry checks: whole days within AWS's range."""
    if not configuration:
        return
    allowed = CHECKS[name].parameters
    for key, value in configuration.items():
        if key not in allowed:
            raise InvalidRequest(f"{name} has no configuration parameter {key}.")
        _, low, high = allowed[key]
        if not isinstance(value, str) or not WHOLE_NUMBER.fullmatch(value):
            raise InvalidRequest(f"{key} must be a whole number of days: {value!r}")
        days = int(value)
        if not low <= days <= high:
            raise InvalidRequest(f"{key} must be between {low} and {high} days: {days}")
