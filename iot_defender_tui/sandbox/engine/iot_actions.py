"""Reading IoT and IAM policy documents the way Device Defender's permission checks do.

Broadness is decided by probing: a statement is broad for an action when its resource pattern also
matches a resource of *another* device (a probe thing, client or reserved topic). Policy variables
that bind a resource to the connected thing or certificate never match a probe, so
`${iot:Connection.Thing.ThingName}`-scoped policies are compliant; `${iot:ClientId}` in a Connect
resource is chosen by the client and counts as `*` unless the statement requires
`iot:Connection.Thing.IsAttached`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..iam_eval import action_matches, resource_matches

# Data-plane actions and the resource type they act on, in the order AWS lists them in reasons.
DATA_PLANE: dict[str, str] = {
    "iot:Subscribe": "topicfilter",
    "iot:Connect": "client",
    "iot:GetThingShadow": "thing",
    "iot:DeleteThingShadow": "thing",
    "iot:UpdateThingShadow": "thing",
    "iot:Publish": "topic",
    "iot:RetainPublish": "topic",
    "iot:ListNamedShadowsForThing": "thing",
    "iot:DescribeJobExecution": "thing",
    "iot:GetPendingJobExecutions": "thing",
    "iot:StartNextPendingJobExecution": "thing",
    "iot:UpdateJobExecution": "thing",
}
# iot:Receive is compliant on any topic: a device only receives what it may subscribe to.
RECEIVE = "iot:Receive"

PROBE_THING = "ZzSandboxProbeThing"
_PROBES: dict[str, tuple[str, ...]] = {
    "client": ("ZzSandboxProbeClient",),
    "topic": (f"$aws/things/{PROBE_THING}/shadow/update", f"$aws/things/{PROBE_THING}/jobs/notify"),
    # MQTT wildcards are literal characters in policies: a filter resource that matches "#"
    # literally lets a device subscribe to every thing's topics.
    "topicfilter": (
        f"$aws/things/{PROBE_THING}/shadow/update",
        "$aws/things/#",
        "$aws/things/+/shadow/update",
    ),
    "thing": (PROBE_THING,),
}

THING_ADMIN_WRITE = (
    "iot:AddThingToThingGroup",
    "iot:AttachThingPrincipal",
    "iot:CreateThing",
    "iot:DeleteThing",
    "iot:DetachThingPrincipal",
    "iot:ListThings",
    "iot:ListThingsInThingGroup",
    "iot:RegisterThing",
    "iot:RemoveThingFromThingGroup",
    "iot:UpdateThing",
    "iot:UpdateThingGroupsForThing",
)
THING_ADMIN_READ = (
    "iot:DescribeThing",
    "iot:ListJobExecutionsForThing",
    "iot:ListThingGroupsForThing",
    "iot:ListThingPrincipals",
)

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SCOPED = "\x00scoped\x00"  # never appears in a probe


@dataclass(frozen=True, slots=True)
class Stmt:
    allow: bool
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    conditional: bool
    thing_attached: bool  # requires iot:Connection.Thing.IsAttached = true


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def parse_document(document: Any) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    try:
        parsed = json.loads(document)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def statements(documents: list[dict[str, Any]]) -> list[Stmt]:
    found = []
    for doc in documents:
        raw = doc.get("Statement", [])
        for stmt in [raw] if isinstance(raw, dict) else raw:
            if not isinstance(stmt, dict) or stmt.get("Effect") not in ("Allow", "Deny"):
                continue
            condition = stmt.get("Condition") or {}
            text = json.dumps(condition).lower()
            found.append(
                Stmt(
                    allow=stmt["Effect"] == "Allow",
                    actions=_tuple(stmt.get("Action")),
                    not_actions=_tuple(stmt.get("NotAction")),
                    resources=_tuple(stmt.get("Resource")),
                    not_resources=_tuple(stmt.get("NotResource")),
                    conditional=bool(condition),
                    thing_attached="iot:connection.thing.isattached" in text and "true" in text,
                )
            )
    return found


def _bind(pattern: str, stmt: Stmt, action: str) -> str:
    def value(match: re.Match[str]) -> str:
        if match.group(1) == "iot:ClientId" and action == "iot:Connect" and not stmt.thing_attached:
            return "*"
        return _SCOPED

    return _VARIABLE.sub(value, pattern)


def covers_action(stmt: Stmt, action: str) -> bool:
    if stmt.not_actions:
        return not action_matches(stmt.not_actions, action)
    return action_matches(stmt.actions, action)


def covers(stmt: Stmt, action: str, resource: str) -> bool:
    if not covers_action(stmt, action):
        return False
    if stmt.not_resources:
        return not resource_matches(tuple(_bind(p, stmt, action) for p in stmt.not_resources), resource)
    return resource_matches(tuple(_bind(p, stmt, action) for p in stmt.resources), resource)


def allowed(stmts: list[Stmt], action: str, resource: str) -> bool:
    """Allowed by some statement and not denied by an unconditional Deny."""
    if any(not s.allow and not s.conditional and covers(s, action, resource) for s in stmts):
        return False
    return any(s.allow and covers(s, action, resource) for s in stmts)


def allowed_anywhere(stmts: list[Stmt], action: str) -> bool:
    """Allowed on at least one resource (a Deny only removes it if it denies on every resource)."""
    if any(
        not s.allow and not s.conditional and covers(s, action, "*") and "*" in s.resources for s in stmts
    ):
        return False
    return any(s.allow and covers_action(s, action) for s in stmts)


def arn(account: str, region: str, kind: str, name: str) -> str:
    return f"arn:aws:iot:{region}:{account}:{kind}/{name}"


def broad_data_plane(stmts: list[Stmt], account: str, region: str) -> list[str]:
    """Data-plane actions allowed on other devices' resources, in AWS's reporting order."""
    return [
        action
        for action, kind in DATA_PLANE.items()
        if any(allowed(stmts, action, arn(account, region, kind, probe)) for probe in _PROBES[kind])
    ]


def broad_thing_read(stmts: list[Stmt], account: str, region: str) -> list[str]:
    probe = arn(account, region, "thing", PROBE_THING)
    return [a for a in THING_ADMIN_READ if allowed(stmts, a, probe)]


def thing_write(stmts: list[Stmt]) -> list[str]:
    return [a for a in THING_ADMIN_WRITE if allowed_anywhere(stmts, a)]


@lru_cache(maxsize=1)
def _non_thing_admin_actions() -> tuple[str, ...]:
    # Every IoT control-plane operation botocore knows, less the thing-related ones.
    import botocore.session

    names = botocore.session.get_session().get_service_model("iot").operation_names
    thing_related = {a.split(":")[1] for a in THING_ADMIN_WRITE + THING_ADMIN_READ}
    thing_related |= {a.split(":")[1] for a in DATA_PLANE}
    return tuple(f"iot:{n}" for n in sorted(names) if n not in thing_related)


def non_thing_admin(stmts: list[Stmt]) -> list[str]:
    return [a for a in _non_thing_admin_actions() if allowed_anywhere(stmts, a)]


def brackets(items: list[str]) -> str:
    """AWS's list style in reasons: "[a, b, c]"."""
    return "[" + ", ".join(items) + "]"
