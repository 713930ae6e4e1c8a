"""Helpers of the AWS model tests: the lab audit's findings, and replies with members AWS may add later."""

from __future__ import annotations

import copy
from typing import Any

from botocore.session import get_session

from iot_defender_tui.sandbox.runtime import runtime

IOT_MODEL = get_session().get_service_model("iot")


def lab_task_id(iot: Any) -> str:
    now = runtime().clock.now()
    return iot.list_audit_tasks(startTime=now - 3 * 86400, endTime=now + 60)["tasks"][0]["taskId"]


def all_findings(iot: Any, task_id: str) -> list[dict[str, Any]]:
    found, token = [], {}
    while True:
        page = iot.list_audit_findings(taskId=task_id, maxResults=250, **token)
        found += page["findings"]
        if not page.get("nextToken"):
            return found
        token = {"nextToken": page["nextToken"]}


def with_future_members(shape: Any, value: Any) -> Any:
    """`value` with a member AWS might add later in every structure of `shape`, except the identifier
    and target structures the models keep verbatim (to send them back)."""
    if shape.type_name == "structure" and isinstance(value, dict):
        if shape.name in ("ResourceIdentifier", "AuditMitigationActionsTaskTarget"):
            return value
        out = {
            k: with_future_members(shape.members[k], v) if k in shape.members else v for k, v in value.items()
        }
        return {**out, "futureMember": {"nested": [1, 2]}, "anotherNewFlag": True}
    if shape.type_name == "list" and isinstance(value, list):
        return [with_future_members(shape.member, v) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: with_future_members(shape.value, v) for k, v in value.items()}
    return value


def parses_the_same(parse: Any, operation: str, reply: dict[str, Any], path: tuple[str, ...] = ()) -> Any:
    """Parse `reply` (or the item at `path` of it) as is and with future members; both must agree."""
    reply = {k: v for k, v in reply.items() if k != "ResponseMetadata"}
    future = with_future_members(IOT_MODEL.operation_model(operation).output_shape, copy.deepcopy(reply))
    for key in path:
        reply, future = reply[key], future[key]
    parsed = parse(reply)
    assert parse(future) == parsed
    return parsed
