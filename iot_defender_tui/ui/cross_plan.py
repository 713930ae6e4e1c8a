"""One context's part of a cross-context mitigation (cross_mitigation.py, cross_create.py): its marked
findings, its mitigation actions once listed, and what happened there; and its lines in the plan."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text

from ..aws.client import DefenderClient
from ..aws.contexts import Context
from ..aws.models import Finding, MitigationAction
from .apply_checks import RESOURCES_SHOWN
from .format import plural


@dataclass
class ContextPlan:
    """One context's part: its marked findings, its actions (None until listed), what happened."""

    context: Context
    account: str
    findings: list[Finding]
    actions: dict[str, MitigationAction] | None = None
    client: DefenderClient | None = None
    error: str = ""  # why its actions could not be listed
    outcome: str = ""  # created, started, refused…
    task_id: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.context.name} ({self.account or '?'}, {self.context.region or '?'})"

    def resources(self) -> str:
        names = [f.resource.readable for f in self.findings[:RESOURCES_SHOWN]]
        more = len(self.findings) - RESOURCES_SHOWN
        return ", ".join(names + ([f"+{more} more"] if more > 0 else []))

    def has(self, action: str | None) -> bool:
        return action is not None and self.actions is not None and action in self.actions


def plan_line(plan: ContextPlan, action: str | None) -> Text:
    line = Text(f"{plan.label}: ", style="bold")
    line.append(f"{plural(len(plan.findings), 'finding')} ({plan.resources()})")
    if plan.outcome:
        line.append(f"\n  {plan.outcome}", style="bold")
    elif plan.error:
        line.append(f"\n  cannot list its actions: {plan.error}", style="red")
    elif plan.actions is None:
        line.append("\n  listing its actions…", style="dim")
    elif action is not None:
        if plan.has(action):
            line.append(f"\n  {action}: present")
        else:
            line.append(f"\n  {action}: MISSING here (c creates it)", style="yellow")
    return line
