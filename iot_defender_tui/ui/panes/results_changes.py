"""The Results pane's changes: cancel an audit, suppress and unsuppress a finding (refused in read-only).

A mixin of ResultsPane, kept apart so each file stays short; it uses the pane's tables and caches.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from rich.text import Text

from ...aws.catalogue import check_info
from ...aws.errors import AwsError
from ...aws.models import AuditTask, Finding
from ..apply_mitigation import MAX_FINDINGS, ApplyMitigationScreen
from ..modals import ConfirmModal
from ..widgets.fast_table import FastTable
from . import results_views as views
from .results_suppress import SuppressChoice, SuppressModal

if TYPE_CHECKING:
    from ...aws.client import DefenderClient

TASKS, FINDINGS = 0, 2


class ResultsChanges:
    if TYPE_CHECKING:
        level: int
        read_only: bool
        dd: DefenderClient
        app: Any
        table: FastTable
        _tasks: dict[str, AuditTask]
        _findings: dict[str, Finding]

        def run_worker(self, *args: Any, **kwargs: Any) -> Any: ...
        def refresh_now(self) -> None: ...
        def query_one(self, *args: Any) -> Any: ...
        def marked_findings(self) -> list[Finding]: ...

    def _refused(self) -> bool:
        if self.read_only:
            self.app.show_error("Read-only mode: no changes are made.")  # type: ignore[attr-defined]
        return self.read_only

    def _error(self, error: Exception) -> None:
        self.app.show_error(str(error))  # type: ignore[attr-defined]

    def action_cancel_task(self) -> None:
        key = self.table.cursor_key
        if self._refused() or self.level != TASKS or key is None:
            return
        task = self._tasks[str(key)]
        if task.status != "IN_PROGRESS":
            self.app.show_error("Only an audit in progress can be canceled.")  # type: ignore[attr-defined]
            return
        body = Text(f"Cancel the audit started {views.short_time(task.start_time)} ({task.task_id})?")

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.run_worker(self._cancel(task.task_id), group="results-change", exit_on_error=False)

        self.app.push_screen(ConfirmModal("Cancel audit", body, "Cancel audit"), confirmed)

    async def _cancel(self, task_id: str) -> None:
        try:
            await self.dd.cancel_audit_task(task_id)
        except AwsError as error:
            self._error(error)
        self.refresh_now()

    def _cursor_finding(self) -> Finding | None:
        key = self.table.cursor_key if self.level == FINDINGS else None
        return self._findings.get(str(key)) if key is not None else None

    def action_suppress(self) -> None:
        finding = self._cursor_finding()
        if self._refused() or finding is None:
            return

        def chosen(choice: SuppressChoice | None) -> None:
            if choice is None:
                return
            body = Text(f"Suppress {check_info(finding.check_name).title} on {finding.resource.readable}")
            body.append(f" for {choice.label}.")
            if choice.description:
                body.append(f"\nDescription: {choice.description}")
            self.app.push_screen(
                ConfirmModal("Suppress finding", body, "Suppress"),
                lambda ok: ok and self._run_change(self._suppress(finding, choice)),
            )

        self.app.push_screen(SuppressModal(finding.resource.readable), chosen)

    def action_unsuppress(self) -> None:
        finding = self._cursor_finding()
        if self._refused() or finding is None:
            return
        body = Text(f"Remove the suppression of {check_info(finding.check_name).title}")
        body.append(f" on {finding.resource.readable}?")
        self.app.push_screen(
            ConfirmModal("Remove suppression", body, "Remove"),
            lambda ok: ok and self._run_change(self._unsuppress(finding)),
        )

    def _run_change(self, work) -> None:
        self.run_worker(work, group="results-change", exit_on_error=False)

    async def _suppress(self, finding: Finding, choice: SuppressChoice) -> None:
        try:
            await self.dd.create_suppression(
                finding.check_name,
                finding.resource,
                expiration=choice.expiration(),
                indefinitely=True if choice.days is None else None,
                description=choice.description or None,
            )
        except AwsError as error:
            self._error(error)
            return
        self._set_suppressed(finding, True)

    async def _unsuppress(self, finding: Finding) -> None:
        try:
            await self.dd.delete_suppression(finding.check_name, finding.resource)
        except AwsError as error:
            self._error(error)
            return
        self._set_suppressed(finding, False)

    def _set_suppressed(self, finding: Finding, suppressed: bool) -> None:
        # Every finding of this check on the same resource is covered by the one suppression.
        same = [f for f in self._findings.values() if f.resource.identifier == finding.resource.identifier]
        updated = [dataclasses.replace(f, is_suppressed=suppressed) for f in same]
        for f in updated:
            self._findings[f.finding_id] = f
        self.query_one("#findings", FastTable).append_rows(
            (f.finding_id, views.finding_row(f)) for f in updated
        )

    def action_apply_mitigation(self) -> None:
        findings = self.marked_findings()
        if self._refused() or not findings:
            return
        if len(findings) > MAX_FINDINGS:
            # Refuse rather than silently apply to only the first 25.
            self.app.show_error(  # type: ignore[attr-defined]
                f"AWS takes at most {MAX_FINDINGS} findings per mitigation task; {len(findings)} are marked."
            )
            return

        def started(task_id: str | None) -> None:
            if task_id and hasattr(self.app, "action_show_pane"):
                self.app.action_show_pane("mitigation")

        self.app.push_screen(ApplyMitigationScreen(findings, self.dd), started)
