"""Describe/Update/DeleteAccountAuditConfiguration."""

from __future__ import annotations

from ..checks import CHECKS
from ..errors import InvalidRequest, ResourceNotFound
from ..state import AuditConfig, CheckConfig
from .base import DefenderResponse
from .validate import require_role_arn, validate_check_configuration


class AuditConfigMixin(DefenderResponse):
    def describe_account_audit_configuration(self) -> str:
        with self.state.lock:
            config = self.state.audit_config
            if config is None:
                # A fresh account: AWS answers with every check disabled and nothing else.
                return self.reply(
                    {"auditCheckConfigurations": {name: {"enabled": False} for name in sorted(CHECKS)}}
                )
            return self.reply(
                {
                    "roleArn": config.role_arn,
                    "auditNotificationTargetConfigurations": dict(config.notifications) or None,
                    "auditCheckConfigurations": {
                        name: {
                            "enabled": check.enabled,
                            "configuration": check.configuration or None,
                        }
                        for name, check in sorted(config.checks.items())
                    },
                }
            )

    def update_account_audit_configuration(self) -> str:
        role_arn = self.args.get("roleArn")
        notifications = self.args.get("auditNotificationTargetConfigurations") or {}
        checks = self.args.get("auditCheckConfigurations") or {}
        with self.state.lock:
            current = self.state.audit_config
            if current is None and not role_arn:
                raise InvalidRequest("roleArn is required the first time the audit configuration is set.")
            # API_UpdateAccountAuditConfiguration: "On the first call ..., this parameter is required and
            # must specify at least one enabled check."
            if current is None and not any(c.get("enabled") for c in checks.values()):
                raise InvalidRequest(
                    "auditCheckConfigurations must enable at least one check the first time the audit "
                    "configuration is set."
                )
            if role_arn:
                require_role_arn(role_arn, self.current_account)
            for target_type, target in notifications.items():
                if target_type != "SNS":
                    raise InvalidRequest(f"Unsupported notification target type: {target_type}")
                if target.get("enabled") and not (target.get("targetArn") and target.get("roleArn")):
                    raise InvalidRequest("An enabled SNS target needs targetArn and roleArn.")
            in_use = {c for s in self.state.scheduled.values() for c in s.checks}
            for name, check in checks.items():
                if name not in CHECKS:
                    raise InvalidRequest(f"Unknown audit check: {name}")
                if check.get("enabled") is False and name in in_use:
                    users = sorted(s.name for s in self.state.scheduled.values() if name in s.checks)
                    raise InvalidRequest(
                        f"{name} cannot be disabled: it is used by scheduled audit(s) {', '.join(users)}."
                    )
                validate_check_configuration(name, check.get("configuration"))
            config = current or AuditConfig(checks={name: CheckConfig(enabled=False) for name in CHECKS})
            if role_arn:
                config.role_arn = role_arn
            for target_type, target in notifications.items():
                config.notifications[target_type] = {
                    k: target[k] for k in ("targetArn", "roleArn", "enabled") if k in target
                }
            for name, check in checks.items():
                entry = config.checks.setdefault(name, CheckConfig(enabled=False))
                if "enabled" in check:
                    entry.enabled = bool(check["enabled"])
                if check.get("configuration") is not None:
                    entry.configuration = dict(check["configuration"])
            self.state.audit_config = config
        return self.reply({})

    def delete_account_audit_configuration(self) -> str:
        delete_scheduled = bool(self.args.get("deleteScheduledAudits"))
        with self.state.lock:
            if self.state.audit_config is None:
                raise ResourceNotFound("The account has no audit configuration.")
            if self.state.scheduled and not delete_scheduled:
                raise InvalidRequest(
                    "The account has scheduled audits; set deleteScheduledAudits to delete them too."
                )
            self.state.scheduled.clear()
            self.state.audit_config = None
        return self.reply({})
