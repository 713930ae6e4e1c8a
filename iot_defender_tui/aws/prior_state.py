"""What a mitigation task is about to replace, read just before it starts and journaled with it (issue 15).

AWS records what a mitigation did (each execution) but not what was there before: which things already
were in the thing groups an ADD_THINGS_TO_THING_GROUP action adds to, and which v2 logging options an
ENABLE_IOT_LOGGING action replaced. Read here, kept in the start's journal entry (`prior`), they let
`revert` remove only the things the task added and put the logging options back, instead of guessing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Protocol

from .errors import AwsError
from .models import LoggingOptions, MitigationAction
from .models_params import AddThingsToThingGroupParams

ADD_TO_GROUPS = "ADD_THINGS_TO_THING_GROUP"
ENABLE_LOGGING = "ENABLE_IOT_LOGGING"
# Members recorded per group. A quarantine group is small; one bigger than this is not recorded, and a
# revert says it cannot tell which of its things the task added.
GROUP_LIMIT = 10_000


class Reads(Protocol):
    """What of the client this needs (the client's mitigation start calls `read`)."""

    async def describe_mitigation_action(self, name: str) -> MitigationAction: ...
    async def list_things_in_thing_group(
        self, group: str, *, limit: int | None = None
    ) -> tuple[str, ...]: ...
    async def get_logging_options(self) -> LoggingOptions: ...


async def read(dd: Reads, action_names: Iterable[str]) -> dict[str, Any] | None:
    """{"thingGroups": {group: [thing, …] or None (too big)}, "v2Logging": {...}} for the actions that
    need it; None when no action replaces anything AWS does not record."""
    actions = await asyncio.gather(*(dd.describe_mitigation_action(n) for n in dict.fromkeys(action_names)))
    groups = sorted({g for a in actions if a.action_type == ADD_TO_GROUPS for g in _groups(a)})
    prior: dict[str, Any] = {}
    if groups:
        members = await asyncio.gather(*(_members(dd, g) for g in groups))
        prior["thingGroups"] = dict(zip(groups, members, strict=True))
    if any(a.action_type == ENABLE_LOGGING for a in actions):
        prior["v2Logging"] = await v2_logging(dd)
    return prior or None


def _groups(action: MitigationAction) -> tuple[str, ...]:
    return action.params.thing_group_names if isinstance(action.params, AddThingsToThingGroupParams) else ()


async def _members(dd: Reads, group: str) -> list[str] | None:
    try:
        things = await dd.list_things_in_thing_group(group, limit=GROUP_LIMIT + 1)
    except AwsError as err:
        if err.code == "ResourceNotFoundException":
            return []  # the action will fail on it: nothing of it to undo
        raise
    return None if len(things) > GROUP_LIMIT else sorted(things)


async def v2_logging(dd: Reads) -> dict[str, Any]:
    """The v2 options as SetV2LoggingOptions takes them; {} when v2 logging was never configured."""
    now = await dd.get_logging_options()
    if not now.v2_configured:
        return {}
    return {
        "roleArn": now.v2_role_arn,
        "defaultLogLevel": now.v2_default_level,
        "disableAllLogs": now.v2_disable_all,
    }
