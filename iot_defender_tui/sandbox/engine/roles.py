"""Checks of IAM roles that devices obtain credentials from: IoT role aliases and Cognito identity pools."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from ..iam_eval import role_documents
from .context import AuditContext, CheckOutcome, FindingDraft
from .iot_actions import (
    THING_ADMIN_READ,
    Stmt,
    allowed_anywhere,
    brackets,
    broad_data_plane,
    broad_thing_read,
    covers_action,
    non_thing_admin,
    statements,
    thing_write,
)

USED_WINDOW = 365 * 86400.0
COGNITO_WINDOW = 31 * 86400.0
SECURITY_AUDITING = ("iam", "cloudtrail", "guardduty", "inspector", "inspector2", "trustedadvisor")
_WILDCARD = re.compile(r"[*?]")


def _roles_by_arn(ctx: AuditContext) -> dict[str, Any]:
    return {role.arn: role for role in list(ctx.iam.roles.values())}


def _services(stmts: list[Stmt]) -> set[str]:
    """Service prefixes the Allow statements name ("*" when a pattern spans services)."""
    services = set()
    for stmt in stmts:
        if not stmt.allow:
            continue
        if stmt.not_actions:
            services.add("*")
        for action in stmt.actions:
            prefix = action.split(":", 1)[0].lower() if ":" in action else action
            services.add("*" if _WILDCARD.search(prefix) else prefix)
    return services


def _grants_service(stmts: list[Stmt], service: str) -> bool:
    for stmt in stmts:
        if not stmt.allow:
            continue
        if stmt.not_actions:
            return True
        for action in stmt.actions:
            prefix = action.split(":", 1)[0] if ":" in action else action
            regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in prefix)
            if re.fullmatch(regex, service, re.IGNORECASE):
                return True
    return False


def _admin_of(stmts: list[Stmt], service: str) -> bool:
    """Does an Allow grant every action of `service` ("svc:*" or "*")?"""
    return any(s.allow and not s.conditional and covers_action(s, f"{service}:*") for s in stmts)


@lru_cache(maxsize=1024)
def _iot_problems(text: str, account: str, region: str) -> dict[str, list[str]]:
    stmts = statements(json.loads(text))
    write, others = thing_write(stmts), non_thing_admin(stmts)
    any_read = [a for a in THING_ADMIN_READ if allowed_anywhere(stmts, a)]
    return {
        # Unauthenticated identities may not use any admin action, on any resource.
        "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS": write + any_read + others,
        "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS": write,
        "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS": others,
        "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS": broad_thing_read(stmts, account, region),
        "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS": broad_data_plane(stmts, account, region),
    }


_IOT_REASONS = {
    "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS": "Policy allows access to IoT thing admin write actions",
    "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS": "Policy allows access to IoT non-thing admin actions",
    "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS": "Policy allows broad access to IoT thing admin "
    "read actions",
    "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS": "Policy allows broad access to IoT data plane actions",
    "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS": "Policy allows access to IoT admin actions",
}


def _iot_finding(problems: dict[str, list[str]], codes: tuple[str, ...]) -> tuple[str, str] | None:
    for code in codes:
        actions = problems[code]
        if actions:
            shown = actions[:8] + (["…"] if len(actions) > 8 else [])  # iot:* names hundreds
            return code, f"{_IOT_REASONS[code]}: {brackets(shown)}."
    return None


def _documents_text(role: Any) -> str:
    return json.dumps(role_documents(role), sort_keys=True)


def role_alias_overly_permissive(ctx: AuditContext) -> CheckOutcome:
    aliases = list(ctx.iot.role_aliases.values())
    roles = _roles_by_arn(ctx)
    with ctx.state.lock:
        last_used = {k: dict(v) for k, v in ctx.state.service_last_accessed.items()}
    account, region = ctx.state.account_id, ctx.state.region
    findings = []
    for alias in aliases:
        role = roles.get(alias.role_arn)
        if role is None:
            continue  # a role alias whose role is gone grants nothing
        text = _documents_text(role)
        stmts = statements(json.loads(text))
        problem: tuple[str, str] | None = None
        auditing = [s for s in SECURITY_AUDITING if _grants_service(stmts, s)]
        used = sorted(s for s, t in last_used.get(alias.role_arn, {}).items() if t >= ctx.now - USED_WINDOW)
        admin = [s for s in used if _admin_of(stmts, s)]
        if auditing:
            problem = (
                "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES",
                f"Policy allows access to security auditing services: {brackets(auditing)}.",
            )
        elif admin:
            problem = (
                "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES",
                f"Policy allows administrative access to services used in the past year: {brackets(admin)}.",
            )
        else:
            problem = _iot_finding(
                _iot_problems(text, account, region),
                (
                    "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS",
                    "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
                    "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS",
                    "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
                ),
            )
        if problem is not None:
            findings.append(FindingDraft("ROLE_ALIAS", {"roleAliasArn": alias.arn}, *problem))
    return CheckOutcome(len(aliases), findings)


def role_alias_unused_services(ctx: AuditContext) -> CheckOutcome:
    aliases = list(ctx.iot.role_aliases.values())
    roles = _roles_by_arn(ctx)
    with ctx.state.lock:
        last_used = {k: dict(v) for k, v in ctx.state.service_last_accessed.items()}
    findings = []
    for alias in aliases:
        role = roles.get(alias.role_arn)
        if role is None:
            continue
        granted = _services(statements(role_documents(role)))
        used = {s.lower() for s, t in last_used.get(alias.role_arn, {}).items() if t >= ctx.now - USED_WINDOW}
        unused = sorted(granted - used)
        if unused:
            findings.append(
                FindingDraft(
                    "ROLE_ALIAS",
                    {"roleAliasArn": alias.arn},
                    "ALLOWS_ACCESS_TO_UNUSED_SERVICES",
                    f"Policy allows access to services not used in the past year: {brackets(unused)}.",
                )
            )
    return CheckOutcome(len(aliases), findings)


def _used_with_iot(ctx: AuditContext, pools: list[str]) -> list[str]:
    """The pools an identity connected to AWS IoT from in the 31 days before the audit: "AWS IoT Device
    Defender audits all Amazon Cognito identity pools that have been used to connect to the AWS IoT message
    broker during the 31 days before the audit execution"
    (https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-auth-cognito-role-permissive.html,
    and audit-chk-unauth-cognito-role-permissive.html likewise)."""
    with ctx.state.lock:
        use = dict(ctx.state.identity_pool_iot_use)
    since = ctx.now - COGNITO_WINDOW

    def used(pool_id: str) -> bool:
        if pool_id not in use:
            return False  # never used with AWS IoT
        last = use[pool_id]
        return last is None or since <= last <= ctx.now

    return [p for p in pools if used(p)]


def _cognito(ctx: AuditContext, kind: str, codes: tuple[str, ...]) -> CheckOutcome:
    pools = _used_with_iot(ctx, list(ctx.cognito.identity_pools))
    with ctx.state.lock:
        pool_roles = {k: dict(v) for k, v in ctx.state.identity_pool_roles.items()}
    roles = _roles_by_arn(ctx)
    account, region = ctx.state.account_id, ctx.state.region
    findings = []
    for pool_id in pools:
        role = roles.get(pool_roles.get(pool_id, {}).get(kind, ""))
        if role is None:
            continue
        problem = _iot_finding(_iot_problems(_documents_text(role), account, region), codes)
        if problem is not None:
            findings.append(
                FindingDraft("COGNITO_IDENTITY_POOL", {"cognitoIdentityPoolId": pool_id}, *problem)
            )
    return CheckOutcome(len(pools), findings)


def cognito_authenticated(ctx: AuditContext) -> CheckOutcome:
    return _cognito(
        ctx,
        "authenticated",
        (
            "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS",
            "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
            "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS",
        ),
    )


def cognito_unauthenticated(ctx: AuditContext) -> CheckOutcome:
    return _cognito(
        ctx,
        "unauthenticated",
        ("ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS", "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"),
    )
