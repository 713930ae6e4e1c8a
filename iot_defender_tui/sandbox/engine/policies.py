"""IoT policy checks: overly permissive and potentially misconfigured policies.

Only policies attached to something (a certificate, thing group or Cognito identity) are audited, and
only their default version. Analyses are cached by document text: a large fleet shares few documents.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .context import AuditContext, CheckOutcome, FindingDraft
from .iot_actions import allowed, arn, brackets, broad_data_plane, covers_action, parse_document, statements

_TOPIC_ACTIONS = ("iot:Publish", "iot:Subscribe", "iot:Receive", "iot:RetainPublish")
_PROBE_LEAF = "ZzSandboxProbeTopic"


def attached_defaults(ctx: AuditContext) -> list[tuple[str, Any]]:
    """(policy name, default version) of every attached policy."""
    names = {key[1] for key in list(ctx.iot.principal_policies)}
    found = []
    for name in sorted(names):
        policy = ctx.iot.policies.get(name)
        if policy is None:
            continue
        version = next((v for v in list(policy.versions) if v.is_default), None)
        if version is not None:
            found.append((name, version))
    return found


def _identifier(name: str, version: Any) -> dict[str, Any]:
    return {"policyVersionIdentifier": {"policyName": name, "policyVersionId": version.version_id}}


def _text(document: Any) -> str:
    return document if isinstance(document, str) else repr(document)


@lru_cache(maxsize=4096)
def _broad(text: str, account: str, region: str) -> tuple[str, ...]:
    return tuple(broad_data_plane(statements([parse_document(text)]), account, region))


def overly_permissive(ctx: AuditContext) -> CheckOutcome:
    policies = attached_defaults(ctx)
    account, region = ctx.state.account_id, ctx.state.region
    findings = []
    for name, version in policies:
        broad = _broad(_text(version.document), account, region)
        if broad:
            findings.append(
                FindingDraft(
                    "IOT_POLICY",
                    _identifier(name, version),
                    "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
                    f"Policy allows broad access to IoT data plane actions: {brackets(list(broad))}.",
                )
            )
    return CheckOutcome(len(policies), findings)


def _topic_part(resource: str) -> tuple[str, str] | None:
    """("topic" | "topicfilter", topic text) of an IoT topic resource ARN."""
    tail = resource.split(":", 5)[-1] if resource.startswith("arn:") else resource
    kind, _, topic = tail.partition("/")
    return (kind, topic) if kind in ("topic", "topicfilter") and topic else None


def _deny_wildcards(stmts: list[Any]) -> list[str]:
    found = []
    for stmt in stmts:
        if stmt.allow or not any(covers_action(stmt, a) for a in _TOPIC_ACTIONS):
            continue
        for resource in stmt.resources:
            part = _topic_part(resource)
            if part and ("#" in part[1] or "+" in part[1]):
                found.append(resource)
    return found


def _denials_bypassed(stmts: list[Any], account: str, region: str) -> list[str]:
    """Subscriptions a Deny of `prefix/*` means to stop, still allowed through an ancestor's `#`."""
    bypassed = []
    for stmt in stmts:
        if stmt.allow or not covers_action(stmt, "iot:Subscribe"):
            continue
        for resource in stmt.resources:
            part = _topic_part(resource)
            if not part or part[0] != "topicfilter" or "*" not in part[1]:
                continue
            prefix = part[1].split("*", 1)[0]
            receivable = allowed(stmts, "iot:Receive", arn(account, region, "topic", prefix + _PROBE_LEAF))
            if not receivable:
                continue
            levels = prefix.rstrip("/").split("/") if prefix.strip("/") else []
            ancestors = ["/".join([*levels[:k], "#"]) for k in range(len(levels) + 1)]
            if any(
                allowed(stmts, "iot:Subscribe", arn(account, region, "topicfilter", f)) for f in ancestors
            ):
                bypassed.append(resource)
    return bypassed


@lru_cache(maxsize=4096)
def _misconfiguration(text: str, account: str, region: str) -> tuple[str, str] | None:
    stmts = statements([parse_document(text)])
    wildcards = _deny_wildcards(stmts)
    if wildcards:
        return (
            "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT",
            "Policy contains MQTT wildcard characters (+ or #) in a deny statement, where they only "
            f"match themselves: {brackets(wildcards)}.",
        )
    bypassed = _denials_bypassed(stmts, account, region)
    if bypassed:
        return (
            "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS",
            "Policy allows subscribing with MQTT wildcards to topic filters it intends to deny: "
            f"{brackets(bypassed)}.",
        )
    return None


def potential_misconfiguration(ctx: AuditContext) -> CheckOutcome:
    policies = attached_defaults(ctx)
    account, region = ctx.state.account_id, ctx.state.region
    findings = []
    for name, version in policies:
        problem = _misconfiguration(_text(version.document), account, region)
        if problem is not None:
            findings.append(FindingDraft("IOT_POLICY", _identifier(name, version), *problem))
    return CheckOutcome(len(policies), findings)
