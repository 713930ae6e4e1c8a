"""Follow started audits and mitigation tasks to their end, whatever pane is shown, and tell the user.

One exclusive worker polls every followed task, re-armed with a timer only after it ended (polls never
overlap), and stops once nothing is left to follow. A failed poll is shown in the status line (the worker
raises, the app reports it) and retried later with back-off; the task stays followed. At the end: a
notification and a bell, for a mitigation the effect on the resources it changed, and a `TaskFinished`
message so open views can refresh.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..aws.models import AuditTask, MitigationTask
from ..aws.resource_state import ResourceState, fetch_state
from .contract import TaskKind, defender
from .format import plural, short_id
from .messages import TaskFinished
from .pane import Pane

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel
    from textual.timer import Timer

    from ..aws.client import DefenderClient

TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELED"})
VERIFY_AT_MOST = 10  # findings whose resources are described after a mitigation task
EFFECTS_SHOWN = 3  # lines of effect in a notification; the rest is "+N more"
VERIFY_ATTEMPTS = 3  # polls that may fail to check the effect before the outcome is told without it
NOTE_SECONDS = 8.0  # a task's outcome, several lines, read after the bell: longer than a toast's 4 s


@dataclass(slots=True)
class _Followed:
    kind: TaskKind
    task_id: str
    verify_failures: int = 0
    # The client of the context it was started in, and that context's name (None: the implicit one):
    # followed in its own account and region whatever context is shown since.
    dd: DefenderClient | None = None
    context: str | None = None


def audit_outcome(task: AuditTask) -> tuple[str, SeverityLevel]:
    text = f"Audit {short_id(task.task_id, 8)} {task.status}"
    stats = task.statistics
    if stats is not None:
        text += f": {stats.non_compliant} of {plural(stats.total, 'check')} non-compliant"
        if stats.failed:
            text += f", {stats.failed} failed"
    severity: SeverityLevel = {"COMPLETED": "information", "CANCELED": "warning"}.get(task.status, "error")
    return text, severity


def mitigation_outcome(task: MitigationTask) -> tuple[str, SeverityLevel]:
    t = task.totals
    text = f"Mitigation task {task.task_id} {task.status}: {t.succeeded} succeeded, {t.failed} failed, "
    text += f"{t.skipped} skipped" + (f", {t.canceled} canceled" if t.canceled else "")
    severity: SeverityLevel = "information"
    if task.status == "FAILED" or t.failed:
        severity = "error"
    elif task.status == "CANCELED" or t.skipped or t.canceled:
        severity = "warning"
    return text, severity


def effect_line(state: ResourceState) -> str:
    """One line for a notification, e.g. "certificate 7a3c12… is now INACTIVE"."""
    name = state.resource_id if state.kind == "Policy" else short_id(state.resource_id)
    what = "" if state.label == "status" else f" {state.label}"
    return f"{state.kind.lower()} {name}{what} is now {state.value}"


def finding_ids(task: MitigationTask) -> tuple[str, ...]:
    ids = task.target.get("findingIds")
    return tuple(str(i) for i in ids) if isinstance(ids, list) else ()


async def effects(dd: DefenderClient, task: MitigationTask) -> list[str]:
    """What the resources of the findings the task fixed look like now, e.g. "certificate … is now INACTIVE".

    Only a target naming findings can be checked: executions are listed per finding.
    """
    ids = finding_ids(task)
    checked = ids[:VERIFY_AT_MOST]
    runs = await asyncio.gather(*(dd.list_mitigation_executions(task.task_id, i) for i in checked))
    fixed = [i for i, run in zip(checked, runs, strict=True) if any(e.status == "COMPLETED" for e in run)]
    findings = await asyncio.gather(*(dd.describe_finding(i) for i in fixed))
    states = await asyncio.gather(*(fetch_state(dd, f.resource) for f in findings))
    # Findings may share a resource: its line once.
    lines = list(dict.fromkeys(effect_line(s) for s in states if s is not None))
    if len(lines) > EFFECTS_SHOWN:
        lines = [*lines[:EFFECTS_SHOWN], f"+{len(lines) - EFFECTS_SHOWN} more"]
    if len(ids) > len(checked):
        lines.append(f"(effect checked on the first {len(checked)} of {plural(len(ids), 'finding')})")
    return lines


class TaskTracker:
    """Owned by the app (`DefenderApp.track_task`); its worker and timer run on the app, so they go on
    polling whatever pane or screen is shown."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._followed: dict[tuple[str, str], _Followed] = {}
        self._timer: Timer | None = None
        self._polling = False
        self._failures = 0  # polls in a row that failed: the back-off

    @property
    def followed(self) -> list[tuple[str, str]]:
        return list(self._followed)

    @property
    def active(self) -> bool:
        """A poll in flight or armed."""
        return self._polling or self._timer is not None

    def track(
        self, kind: TaskKind, task_id: str, dd: DefenderClient | None = None, context: str | None = None
    ) -> None:
        if kind not in ("audit", "mitigation"):
            raise ValueError(f"cannot track a {kind!r} task")
        key = (kind, task_id)
        if key in self._followed:
            return
        self._followed[key] = _Followed(kind, task_id, dd=dd, context=context)
        self._poll_now()

    def _poll_now(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._polling:
            return  # the poll in flight re-arms, and the next one includes the new task
        self._polling = True
        self.app.run_worker(self._poll(), name="track", group="track", exclusive=True, exit_on_error=False)

    async def _poll(self) -> None:
        failed: Exception | None = None
        try:
            for item in list(self._followed.values()):
                try:
                    await self._poll_one(item)
                except Exception as error:  # kept followed, reported below, retried
                    failed = failed or error
        finally:
            self._polling = False
        self._failures = self._failures + 1 if failed else 0
        self._arm()
        if failed is not None:
            raise failed  # the app's report_worker puts it in the status line

    def _arm(self) -> None:
        if not self._followed:
            return  # nothing left: polling stops until the next track()
        settings = defender(self.app).settings
        delay = settings.audit_poll_seconds
        if self._failures:
            delay = min(max(settings.idle_poll_seconds, delay), delay * 2**self._failures)
        self._timer = self.app.set_timer(delay, self._poll_now)

    async def _poll_one(self, item: _Followed) -> None:
        dd: DefenderClient | None = item.dd or defender(self.app).dd
        if dd is None:
            return  # not connected yet
        ids: tuple[str, ...] = ()
        if item.kind == "audit":
            audit = await dd.describe_audit_task(item.task_id)
            if audit.status not in TERMINAL:
                return
            status = audit.status
            text, severity = audit_outcome(audit)
        else:
            task = await dd.describe_mitigation_task(item.task_id)
            if task.status not in TERMINAL:
                return
            status, ids = task.status, finding_ids(task)
            text, severity = mitigation_outcome(task)
            text = "\n".join([text, *await self._effects(dd, task, item)])
        del self._followed[(item.kind, item.task_id)]
        if item.context is not None:
            text = f"Context {item.context}: {text}"
        self.app.notify(text, title="Task finished", severity=severity, timeout=NOTE_SECONDS, markup=False)
        self.app.bell()
        self._announce(item.kind, item.task_id, status, ids)

    async def _effects(self, dd: DefenderClient, task: MitigationTask, item: _Followed) -> list[str]:
        try:
            return await effects(dd, task)
        except Exception as error:
            item.verify_failures += 1
            if item.verify_failures < VERIFY_ATTEMPTS:
                raise  # the task stays followed: checked again at the next poll
            text = getattr(error, "text", None) or str(error)
            return [f"Effect not checked: {text}"]

    def _announce(self, kind: TaskKind, task_id: str, status: str, ids: tuple[str, ...]) -> None:
        targets: list[Any] = [self.app]
        for screen in self.app.screen_stack:
            targets.append(screen)
            targets.extend(screen.query(Pane))
        for target in targets:
            target.post_message(TaskFinished(kind, task_id, status, ids))  # one instance per receiver
