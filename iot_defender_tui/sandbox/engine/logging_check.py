"""LOGGING_DISABLED_CHECK: neither v1 nor v2 IoT logging sends anything to CloudWatch."""

from __future__ import annotations

from typing import Any

from .context import AuditContext, CheckOutcome, FindingDraft


def _v1_enabled(options: dict[str, Any] | None) -> bool:
    return bool(options) and options.get("logLevel", "DISABLED") != "DISABLED"


def _v2_enabled(options: dict[str, Any] | None) -> bool:
    if not options or options.get("disableAllLogs"):
        return False
    return options.get("defaultLogLevel", "DISABLED") != "DISABLED"


def logging_disabled(ctx: AuditContext) -> CheckOutcome:
    with ctx.state.lock:
        enabled = _v1_enabled(ctx.state.logging_v1) or _v2_enabled(ctx.state.logging_v2)
    if enabled:
        return CheckOutcome(1)
    return CheckOutcome(
        1,
        [
            FindingDraft(
                "ACCOUNT_SETTINGS",
                {"account": ctx.state.account_id},
                "LOGGING_DISABLED",
                "Logging to CloudWatch Logs is disabled for AWS IoT.",
            )
        ],
    )
