"""Read an IAM role's policies from moto and decide whether they allow an action.

Used by the mitigation executor (may AWS IoT assume the action's role, and does it allow what the action
does?) and by the audit engine (may AWS IoT assume the audit role and read what a check needs; what do role
aliases and Cognito roles grant?). Deny wins over Allow; action and resource patterns use IAM's `*`/`?`
wildcards, case-insensitive for actions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote


@dataclass(frozen=True, slots=True)
class Statement:
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    has_condition: bool


def find_role(iam_backend: Any, role_arn: str) -> Any | None:
    for role in list(iam_backend.roles.values()):
        if role.arn == role_arn:
            return role
    return None


def role_documents(role: Any) -> list[dict[str, Any]]:
    """The role's inline and attached managed policy documents, parsed."""
    docs = [_parse(doc) for doc in list(role.policies.values())]
    for policy in list(role.managed_policies.values()):
        version = next((v for v in policy.versions if v.is_default), None)
        if version is not None:
            docs.append(_parse(version.document))
    return [d for d in docs if d]


def trusts_service(role: Any, service: str) -> bool:
    """Does the role's trust policy let `service` (e.g. "iot.amazonaws.com") call sts:AssumeRole?

    A role AWS IoT is to assume must name it as a trusted service principal; conditions on the trust
    statement (aws:SourceAccount, aws:SourceArn…) are taken as met, as AWS IoT acting for this account
    would meet them.
    """
    allowed = False
    for stmt in _trust_statements(role):
        acts = action_matches(_as_tuple(stmt.get("Action")), "sts:AssumeRole")
        if not acts or not _names_service(stmt.get("Principal"), service):
            continue
        if stmt.get("Effect") == "Deny" and not stmt.get("Condition"):
            return False
        allowed = allowed or stmt.get("Effect") == "Allow"
    return allowed


def trusts_account(role: Any, account_id: str) -> bool:
    """Does the role's trust policy let principals of `account_id` call sts:AssumeRole (the account's
    root, its id or "*" named as an AWS principal)? A Deny naming them wins; conditions are taken as met."""
    names = {account_id, f"arn:aws:iam::{account_id}:root", "*"}
    allowed = False
    for stmt in _trust_statements(role):
        principal = stmt.get("Principal")
        aws = (
            ("*",)
            if principal == "*"
            else _as_tuple(principal.get("AWS"))
            if isinstance(principal, dict)
            else ()
        )
        if not action_matches(_as_tuple(stmt.get("Action")), "sts:AssumeRole") or not names & set(aws):
            continue
        if stmt.get("Effect") == "Deny":
            return False
        allowed = allowed or stmt.get("Effect") == "Allow"
    return allowed


def _trust_statements(role: Any) -> list[dict[str, Any]]:
    raw = _parse(getattr(role, "assume_role_policy_document", "")).get("Statement", [])
    return [s for s in ([raw] if isinstance(raw, dict) else raw) if isinstance(s, dict)]


def _names_service(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return service in _as_tuple(principal.get("Service")) or "*" in _as_tuple(principal.get("AWS"))


def _parse(document: Any) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    text = str(document)
    for candidate in (text, unquote(text)):
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return {}


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def statements(documents: list[dict[str, Any]]) -> list[Statement]:
    found = []
    for doc in documents:
        raw = doc.get("Statement", [])
        for stmt in [raw] if isinstance(raw, dict) else raw:
            if not isinstance(stmt, dict):
                continue
            found.append(
                Statement(
                    effect=str(stmt.get("Effect", "")),
                    actions=_as_tuple(stmt.get("Action")),
                    not_actions=_as_tuple(stmt.get("NotAction")),
                    resources=_as_tuple(stmt.get("Resource")) or ("*",),
                    has_condition=bool(stmt.get("Condition")),
                )
            )
    return found


@lru_cache(maxsize=4096)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{regex}$", re.IGNORECASE if ignore_case else 0)


def action_matches(patterns: tuple[str, ...], action: str) -> bool:
    return any(_pattern(p, True).match(action) for p in patterns)


def resource_matches(patterns: tuple[str, ...], resource: str) -> bool:
    return any(_pattern(p, False).match(resource) for p in patterns)


def _covers(stmt: Statement, action: str, resource: str) -> bool:
    if stmt.not_actions:
        acts = not action_matches(stmt.not_actions, action)
    else:
        acts = action_matches(stmt.actions, action)
    return acts and resource_matches(stmt.resources, resource)


def allows(documents: list[dict[str, Any]], action: str, resource: str = "*") -> bool:
    """True if some Allow covers `action` on `resource` and no unconditional Deny does."""
    stmts = statements(documents)
    if any(s.effect == "Deny" and not s.has_condition and _covers(s, action, resource) for s in stmts):
        return False
    return any(s.effect == "Allow" and _covers(s, action, resource) for s in stmts)


def missing_permissions(iam_backend: Any, role_arn: str, actions: list[str]) -> list[str] | None:
    """Actions the role does not allow; None if the role does not exist."""
    role = find_role(iam_backend, role_arn)
    if role is None:
        return None
    docs = role_documents(role)
    return [a for a in actions if not allows(docs, a)]
