"""The Results pane's changes: cancel an audit, suppress and unsuppress findings (refused in read-only).

A mixin of ResultsPane, kept apart so each file stays short; it uses the pane's tables and caches.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from rich.text import Text

from ...aws.catalogue import check_info
from ...aws.errors import AwsError
from ...aws.models import AuditTask, Finding
from ..apply_mitigation import MAX_FINDINGS, ApplyMitigationScreen
from ..contract import defender
from ..modals import ConfirmModal
from ..readonly import refused
from ..widgets.fast_table import FastTable
from ..wording import plural
from . import results_views as views
from .results_suppress import SuppressChoice, SuppressModal

if TYPE_CHECKING:
    from ...aws.client import DefenderClient

TASKS, FINDINGS = 0, 2


def resource_key(finding: Finding) -> str:
    """What one suppression covers: the check and the resource (whose identifier is a dict)."""
    return finding.check_name + json.dumps(finding.resource.identifier, sort_keys=True, default=str)


class ResultsChanges:
    if TYPE_CHECKING:
        level: int
        read_only: bool
        dd: DefenderClient
        app: Any
        table: FastTable
        _tasks: dict[str, AuditTask]
        _findings: dict[str, Finding]
        _progress: str

        def run_worker(self, *args: Any, **kwargs: Any) -> Any: ...
        def refresh_now(self) -> None: ...
        def _update_status(self) -> None: ...
        def query_one(self, *args: Any) -> Any: ...
        def marked_findings(self) -> list[Finding]: ...
        def finding_row(self, finding: Finding) -> tuple[str, ...]: ...

    def _refused(self) -> bool:
        return refused(self)  # type: ignore[arg-type]

    def _error(self, error: Exception) -> None:
        defender(self.app).show_error(str(error))

    def action_cancel_task(self) -> None:
        key = self.table.cursor_key
        if self._refused() or self.level != TASKS or key is None:
            return
        task = self._tasks[str(key)]
        if task.status != "IN_PROGRESS":
            defender(self.app).show_error("Only an audit in progress can be canceled.")
            return
        body = Text(f"Cancel the audit started {views.short_time(task.start_time)} ({task.task_id})?")

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.run_worker(self._cancel(task.task_id), group="results-change", exit_on_error=False)

        modal = ConfirmModal("Cancel audit?", body, "Cancel audit", "Keep it running")
        self.app.push_screen(modal, confirmed)

    async def _cancel(self, task_id: str) -> None:
        try:
            await self.dd.cancel_audit_task(task_id)
        except AwsError as error:
            self._error(error)
        self.refresh_now()

    def _change_targets(self, suppressed: bool) -> tuple[list[Finding], int]:
        """The marked findings (else the cursor's) still to change, one per resource, and how many
        already are as asked: one suppression covers every finding of the check on that resource."""
        targets: dict[str, Finding] = {}
        already = 0
        for finding in self.marked_findings():
            if finding.is_suppressed == suppressed:
                already += 1
            else:
                targets.setdefault(resource_key(finding), finding)
        return list(targets.values()), already

    def _what(self, findings: list[Finding]) -> str:
        if len(findings) == 1:
            return f"{check_info(findings[0].check_name).title} on {findings[0].resource.readable}"
        checks = {f.check_name for f in findings}
        if len(checks) > 1:
            return f"{plural(len(findings), 'finding')} of {plural(len(checks), 'check')}"
        return f"{plural(len(findings), 'finding')} of {check_info(findings[0].check_name).title}"

    def _startable(self, findings: list[Finding], already: int, state: str) -> bool:
        if self._refused():
            return False
        if self._progress:
            defender(self.app).show_error("A suppression change is still running.")
            return False
        if not findings:
            if already:
                defender(self.app).show_error(f"Already {state}.")
            return False
        return True

    def action_suppress(self) -> None:
        findings, already = self._change_targets(True)
        if not self._startable(findings, already, "suppressed"):
            return

        def chosen(choice: SuppressChoice | None) -> None:
            if choice is None:
                return
            body = Text(f"Suppress {self._what(findings)} for {choice.label}.")
            if choice.description:
                body.append(f"\nDescription: {choice.description}")
            if already:
                body.append(f"\n{already} already suppressed are left as they are.")
            self.app.push_screen(
                ConfirmModal(f"Suppress {plural(len(findings), 'finding')}", body, "Suppress"),
                lambda ok: ok and self._run_change(self._change_all(findings, choice)),
            )

        what = findings[0].resource.readable if len(findings) == 1 else f"{len(findings)} findings"
        self.app.push_screen(SuppressModal(what), chosen)

    def action_unsuppress(self) -> None:
        findings, already = self._change_targets(False)
        if not self._startable(findings, already, "not suppressed"):
            return
        body = Text(f"Remove the suppression of {self._what(findings)}?")
        if already:
            body.append(f"\n{already} not suppressed are left as they are.")
        self.app.push_screen(
            ConfirmModal(f"Remove {plural(len(findings), 'suppression')}", body, "Remove"),
            lambda ok: ok and self._run_change(self._change_all(findings, None)),
        )

    def _run_change(self, work) -> None:
        self.run_worker(work, group="results-change", exit_on_error=False)

    async def _change_all(self, findings: list[Finding], choice: SuppressChoice | None) -> None:
        """One request per finding, in order; a failure is noted and the rest still go."""
        verb, past = ("Suppressing", "Suppressed") if choice else ("Unsuppressing", "Unsuppressed")
        failed: list[str] = []
        done: list[Finding] = []
        try:
            for n, finding in enumerate(findings, 1):
                self._progress = f"{verb} {n}/{len(findings)}…"
                self._update_status()
                try:
                    await self._change_one(finding, choice)
                except AwsError as error:
                    failed.append(f"{finding.resource.readable}: {error.text}")
                    continue
                done.append(finding)
                if len(done) % 25 == 0:  # rows update as it goes, without a re-sort per finding
                    self._set_suppressed(done[-25:], choice is not None)
        finally:
            self._set_suppressed(done[len(done) - len(done) % 25 :], choice is not None)
            self._progress = ""
            self._update_status()
        if failed:
            more = f" (+{len(failed) - 3} more)" if len(failed) > 3 else ""
            defender(self.app).show_error(
                f"{past} {len(done)} of {len(findings)}; {len(failed)} failed: "
                + "; ".join(failed[:3])
                + more
            )
        else:
            self.app.notify(f"{past} {plural(len(done), 'finding')}.", markup=False)

    async def _change_one(self, finding: Finding, choice: SuppressChoice | None) -> None:
        if choice is None:
            await self.dd.delete_suppression(finding.check_name, finding.resource)
            return
        await self.dd.create_suppression(
            finding.check_name,
            finding.resource,
            expiration=choice.expiration(),
            indefinitely=True if choice.days is None else None,
            description=choice.description or None,
        )

    def _set_suppressed(self, changed: list[Finding], suppressed: bool) -> None:
        # Every finding of this check on the same resource is covered by the one suppression.
        resources = {resource_key(f) for f in changed}
        if not resources:
            return
        # A cheap test first: serialising 100,000 identifiers per batch would stall the screen.
        checks = {f.check_name for f in changed}
        identifiers = [f.resource.identifier for f in changed]
        same = [
            f
            for f in self._findings.values()
            if f.check_name in checks
            and f.resource.identifier in identifiers
            and resource_key(f) in resources
        ]
        updated = [dataclasses.replace(f, is_suppressed=suppressed) for f in same]
        for f in updated:
            self._findings[f.finding_id] = f
        self.query_one("#findings", FastTable).append_rows(
            (f.finding_id, self.finding_row(f)) for f in updated
        )

    def action_apply_mitigation(self) -> None:
        findings = self.marked_findings()
        if self._refused() or not findings:
            return
        if len(findings) > MAX_FINDINGS:
            # Refuse rather than silently apply to only the first 25.
            defender(self.app).show_error(
                f"AWS takes at most {MAX_FINDINGS} findings per mitigation task; {len(findings)} are marked."
            )
            return

        def started(task_id: str | None) -> None:
            if task_id and hasattr(self.app, "action_show_pane"):
                defender(self.app).action_show_pane("mitigation")

        self.app.push_screen(ApplyMitigationScreen(findings, self.dd), started)
