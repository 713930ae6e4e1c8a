"""The cross-context mitigation's `c`: create the chosen action in the contexts that lack it, with the same
parameters and a role (issue 17).

IAM is global to an account: a context of the account the action's role belongs to reuses that role; in
another account a role named as the Mitigation pane's "Create role" names it is created with exactly the
permissions the action's type needs (aws/roles.py), once per account, or reused if the account has a role
of that name. Everything to be created is listed in one confirmation before anything is sent; each
request goes through the context's own client (journaled, read-only guarded), and a context that refuses
says so in its line of the plan while the others go on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text

from ..aws import roles
from ..aws.errors import AwsError, ConflictError
from ..aws.guard import ReadOnlyError
from ..aws.models import MitigationAction
from ..aws.reply_fields import arn_resource_name

if TYPE_CHECKING:
    from .cross_plan import ContextPlan


def arn_account(arn: str | None) -> str:
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 4 else ""


def role_plan(plan: ContextPlan, source: MitigationAction) -> tuple[str | None, str]:
    """(the role ARN reused, or None) and the role's name: the source's role in its own account, else a new
    role named for the action."""
    if source.role_arn and arn_account(source.role_arn) == plan.account:
        return source.role_arn, arn_resource_name(source.role_arn) or ""
    return None, roles.default_role_name(source.name, source.action_type or "")


def create_body(source: MitigationAction, missing: list[ContextPlan]) -> Text:
    effect = getattr(source.params, "summary", None) or source.action_type or ""
    body = Text(f"Create mitigation action {source.name} ({effect}) with the same parameters in:\n")
    new_roles: set[str] = set()
    for plan in missing:
        reused, name = role_plan(plan, source)
        body.append(f"{plan.label}\n", style="bold")
        if reused:
            body.append(f"  role {name} (exists in the account)\n")
        else:
            body.append(f"  role {name}: created in account {plan.account} unless it exists there\n")
            new_roles.add(name)
    if new_roles:
        params = source.params if not isinstance(source.params, dict) else None
        body.append("\n" + roles.preview(sorted(new_roles)[0], source.action_type or "", params) + "\n")
    body.append("ARNs in the parameters (a topic, a role for logging) are copied as they are.")
    return body


async def create_missing(
    source: MitigationAction, missing: list[ContextPlan], changed: Callable[[], None]
) -> None:
    """Create `source` (with its role) in each context of `missing`; each context's line says how it went
    (`changed` redraws it)."""
    made: dict[str, str] = {}  # account → role ARN, so a second region of the account reuses it
    params = source.params if source.params is not None else {}
    for plan in missing:  # one after the other: the first context of an account makes its role
        dd = plan.client
        assert dd is not None  # its actions were listed
        try:
            reused, name = role_plan(plan, source)
            arn = reused or made.get(plan.account)
            note = ""
            if arn is None:
                arn, note = await _role(plan, source, name)
                made[plan.account] = arn
            action = await dd.create_mitigation_action(source.name, arn, params)
        except (AwsError, ReadOnlyError) as error:
            plan.outcome = f"create refused: {error}"
        else:
            assert plan.actions is not None
            plan.actions[source.name] = action
            plan.outcome = f"created {source.name}{note}"
        changed()


async def _role(plan: ContextPlan, source: MitigationAction, name: str) -> tuple[str, str]:
    dd = plan.client
    assert dd is not None
    params = source.params if not isinstance(source.params, dict) else None
    try:
        role = await dd.create_mitigation_role(name, source.action_type or "", params)
    except ConflictError:
        return (await dd.get_role(name)).arn, f" (role {name} reused)"
    except AwsError as error:
        if error.code != "EntityAlreadyExists":
            raise
        return (await dd.get_role(name)).arn, f" (role {name} reused)"
    return role.arn, f" and role {name}"
