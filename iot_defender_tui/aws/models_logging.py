"""The account's IoT logging: v1 (GetLoggingOptions), v2 (GetV2LoggingOptions) and v2 log levels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

from .reply_fields import Data, flag, mapping, text


@dataclass(frozen=True, slots=True)
class LoggingOptions:
    """Both generations of IoT logging options. A generation whose fields are all None is not
    configured: v1 answers with no members then, v2 with NotConfiguredException."""

    v1_role_arn: str | None
    v1_level: str | None
    v1_disabled: bool | None
    v2_role_arn: str | None
    v2_default_level: str | None
    v2_disable_all: bool | None

    @classmethod
    def from_api(cls, data: Data) -> Self:
        """`data` is `{"v1": GetLoggingOptions reply, "v2": GetV2LoggingOptions reply}` (either None)."""
        v1, v2 = data.get("v1"), data.get("v2")
        return cls.from_replies(
            v1 if isinstance(v1, Mapping) else None, v2 if isinstance(v2, Mapping) else None
        )

    @classmethod
    def from_replies(cls, v1: Data | None, v2: Data | None) -> Self:
        v1_role, v1_level = (text(v1, "roleArn"), text(v1, "logLevel")) if v1 else (None, None)
        v1_configured = bool(v1_role or v1_level)
        v2_role = text(v2, "roleArn") if v2 else None
        v2_level = text(v2, "defaultLogLevel") if v2 else None
        v2_disable_all = flag(v2, "disableAllLogs") if v2 else None
        v2_configured = bool(v2_role or v2_level or v2_disable_all is not None)
        return cls(
            v1_role_arn=v1_role,
            v1_level=v1_level,
            # A v1 configuration without a level logs nothing; LOGGING_DISABLED_CHECK reads it so too.
            v1_disabled=(v1_level or "DISABLED") == "DISABLED" if v1_configured else None,
            v2_role_arn=v2_role,
            v2_default_level=v2_level,
            v2_disable_all=(v2_disable_all or False) if v2_configured else None,
        )

    @property
    def v1_configured(self) -> bool:
        return self.v1_disabled is not None

    @property
    def v2_configured(self) -> bool:
        return self.v2_disable_all is not None

    @property
    def v1_enabled(self) -> bool:
        return self.v1_disabled is False

    @property
    def v2_enabled(self) -> bool:
        return self.v2_disable_all is False and (self.v2_default_level or "DISABLED") != "DISABLED"

    @property
    def logging_enabled(self) -> bool:
        """Whether IoT logs reach CloudWatch at all: what LOGGING_DISABLED_CHECK looks at."""
        return self.v1_enabled or self.v2_enabled

    @property
    def summary(self) -> str:
        """One plain line for the account's logging status."""
        if self.v2_enabled:
            return f"enabled (v2, default level {self.v2_default_level})"
        if self.v1_enabled:
            return f"enabled (v1, level {self.v1_level})"
        if self.v2_configured or self.v1_configured:
            return "disabled"
        return "disabled (never configured)"


@dataclass(frozen=True, slots=True)
class LogLevelTarget:
    """A v2 log level for one target (ListV2LoggingLevels); the DEFAULT target has no name."""

    target_type: str
    target_name: str | None
    level: str | None

    @classmethod
    def from_api(cls, data: Data) -> Self:
        target = mapping(data, "logTarget")
        return cls(
            target_type=text(target, "targetType") or "",
            target_name=text(target, "targetName"),
            level=text(data, "logLevel"),
        )
