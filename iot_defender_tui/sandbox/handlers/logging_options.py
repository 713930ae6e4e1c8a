"""Get/SetLoggingOptions (v1), Get/SetV2LoggingOptions, Set/Delete/ListV2LoggingLevel(s).

The options live in `state.logging_v1` / `state.logging_v2` (shapes documented in state.py), which
LOGGING_DISABLED_CHECK reads. The DEFAULT log target is v2's defaultLogLevel, so listing the levels
shows it first, as AWS does; the other targets live in `state.log_levels`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ..errors import DefenderError, InvalidRequest, LimitExceeded
from .base import DefenderResponse, page
from .mitigation_actions import LOG_LEVELS
from .validate import require_role_arn

TARGET_TYPES = ("DEFAULT", "THING_GROUP", "CLIENT_ID", "SOURCE_IP", "PRINCIPAL_ID")
MAX_LOG_TARGETS = 1000  # resource-specific logging levels per account (AWS IoT quotas)
V2_DEFAULT_LEVEL = "ERROR"  # what AWS logs at when SetV2LoggingOptions names no level


class NotConfigured(DefenderError):
    code = "NotConfiguredException"
    status = 404


def _require_level(level: Any, member: str) -> str:
    if level not in LOG_LEVELS:
        raise InvalidRequest(f"{member} must be one of {', '.join(LOG_LEVELS)}: {level!r}")
    return level


def _require_target_type(target_type: Any) -> str:
    if target_type not in TARGET_TYPES:
        raise InvalidRequest(f"targetType must be one of {', '.join(TARGET_TYPES)}: {target_type!r}")
    return target_type


class LoggingOptionsMixin(DefenderResponse):
    def _v2(self) -> dict[str, Any]:
        options = self.state.logging_v2
        if options is None:
            raise NotConfigured(
                "V2 logging is not configured for this account: call SetV2LoggingOptions first."
            )
        return options

    # -- v1 -------------------------------------------------------------------------------------
    def get_logging_options(self) -> str:
        with self.state.lock:
            options = dict(self.state.logging_v1 or {})  # never set: AWS answers with no members
        return self.reply(options)

    def set_logging_options(self) -> str:
        payload = self.args.get("loggingOptionsPayload")
        if not isinstance(payload, dict) or not payload.get("roleArn"):
            raise InvalidRequest("loggingOptionsPayload.roleArn is required.")
        require_role_arn(payload["roleArn"], self.current_account)
        options = {"roleArn": payload["roleArn"]}
        if payload.get("logLevel") is not None:
            options["logLevel"] = _require_level(payload["logLevel"], "logLevel")
        with self.state.lock:
            self.state.logging_v1 = options
        return self.reply({})

    # -- v2 -------------------------------------------------------------------------------------
    def get_v2_logging_options(self) -> str:
        with self.state.lock:
            options = dict(self._v2())
        events = options.pop("eventConfigurations", None)
        if self.args.get("verbose") and events:
            options["eventConfigurations"] = events
        return self.reply(options)

    def set_v2_logging_options(self) -> str:
        role_arn = self.args.get("roleArn")
        if role_arn is not None:
            require_role_arn(role_arn, self.current_account)
        level = self.args.get("defaultLogLevel")
        if level is not None:
            _require_level(level, "defaultLogLevel")
        disable_all = self.args.get("disableAllLogs")
        if disable_all is not None and not isinstance(disable_all, bool):
            raise InvalidRequest("disableAllLogs must be a boolean.")
        events = self.args.get("eventConfigurations")
        for event in events or []:
            if not isinstance(event, dict) or not event.get("eventType"):
                raise InvalidRequest("Each event configuration needs an eventType.")
            if event.get("logLevel") is not None:
                _require_level(event["logLevel"], "eventConfigurations.logLevel")
        with self.state.lock:
            current = self.state.logging_v2 or {}
            role_arn = role_arn or current.get("roleArn")
            if not role_arn:
                raise InvalidRequest("roleArn is required the first time V2 logging options are set.")
            options: dict[str, Any] = {
                "roleArn": role_arn,
                "defaultLogLevel": level or current.get("defaultLogLevel") or V2_DEFAULT_LEVEL,
                "disableAllLogs": bool(disable_all),
            }
            if events is not None:
                options["eventConfigurations"] = [dict(e) for e in events]
            elif current.get("eventConfigurations"):
                options["eventConfigurations"] = current["eventConfigurations"]
            self.state.logging_v2 = options
        return self.reply({})

    # -- v2 levels ------------------------------------------------------------------------------
    def _target_name(self, target_type: str, name: Any) -> str:
        if not isinstance(name, str) or not name:
            raise InvalidRequest(f"A {target_type} log target needs a targetName.")
        if target_type == "THING_GROUP":
            groups = {g.thing_group_name for g in list(self.backend.thing_groups.values())}
            if name not in groups:
                raise InvalidRequest(f"Thing group {name} does not exist.")
        elif target_type == "SOURCE_IP":
            try:
                ipaddress.ip_address(name)
            except ValueError as err:
                raise InvalidRequest(f"{name!r} is not an IP address.") from err
        return name

    def set_v2_logging_level(self) -> str:
        target = self.args.get("logTarget")
        if not isinstance(target, dict):
            raise InvalidRequest("logTarget is required.")
        target_type = _require_target_type(target.get("targetType"))
        level = _require_level(self.args.get("logLevel"), "logLevel")
        name = None if target_type == "DEFAULT" else self._target_name(target_type, target.get("targetName"))
        with self.state.lock:
            options = self._v2()
            if name is None:
                options["defaultLogLevel"] = level
                return self.reply({})
            levels = self.state.log_levels
            if (target_type, name) not in levels and len(levels) >= MAX_LOG_TARGETS:
                raise LimitExceeded(f"At most {MAX_LOG_TARGETS} resource-specific logging levels may be set.")
            levels[(target_type, name)] = level
        return self.reply({})

    def delete_v2_logging_level(self) -> str:
        target_type = _require_target_type(self.args.get("targetType"))
        if target_type == "DEFAULT":
            raise InvalidRequest(
                "The DEFAULT logging level cannot be deleted; change it with SetV2LoggingOptions."
            )
        name = self.args.get("targetName")
        if not name:
            raise InvalidRequest("targetName is required.")
        with self.state.lock:
            self.state.log_levels.pop((target_type, name), None)
        return self.reply({})

    def list_v2_logging_levels(self) -> str:
        target_type = self.args.get("targetType")
        if target_type is not None:
            _require_target_type(target_type)
        with self.state.lock:
            options = self._v2()
            rows: list[dict[str, Any]] = []
            if target_type in (None, "DEFAULT") and options.get("defaultLogLevel"):
                rows.append({"logTarget": {"targetType": "DEFAULT"}, "logLevel": options["defaultLogLevel"]})
            rows += [
                {"logTarget": {"targetType": kind, "targetName": name}, "logLevel": level}
                for (kind, name), level in sorted(self.state.log_levels.items())
                if target_type in (None, kind)
            ]
        items, token = page(rows, self.args.get("nextToken"), self.args.get("maxResults"))
        return self.reply({"logTargetConfigurations": list(items), "nextToken": token})
