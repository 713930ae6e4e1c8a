"""Suppressing findings from the Results pane: the dialog (how long, and why) and the changes it leads to
(confirmed, then one request per resource, the rows updated as they go). Refused in read-only by the pane.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...aws.catalogue import check_info
from ...aws.errors import AwsError
from ...aws.models import Finding
from ..contract import defender
from ..format import plural
from ..modals import ConfirmModal
from ..screen import DefenderModal
from .findings_stream import FindingsStream
from .suppressed_now import resource_key

# CreateAuditSuppression's AuditDescription: at most 1000 characters of [\p{Graph}\x20]*, where AWS's
# \p{Graph} is Java's, visible ASCII only. Checked here so a refusal names the character, and nothing is sent.
MAX_DESCRIPTION = 1000
DESCRIPTION = re.compile(r"[\x21-\x7e ]*")

DURATIONS: tuple[tuple[str, int | None], ...] = (
    ("1 week", 7),
    ("1 month", 30),
    ("3 months", 91),
    ("6 months", 182),
    ("indefinitely", None),
)


@dataclass(frozen=True, slots=True)
class SuppressChoice:
    label: str
    days: int | None  # None: indefinitely
    description: str

    def expiration(self, now: datetime | None = None) -> datetime | None:
        if self.days is None:
            return None
        return (now or datetime.now(UTC)) + timedelta(days=self.days)


def description_problem(description: str) -> str | None:
    if len(description) > MAX_DESCRIPTION:
        return f"Description: at most {MAX_DESCRIPTION} characters (this one has {len(description)})."
    if not DESCRIPTION.fullmatch(description):
        bad = next(c for c in description if not DESCRIPTION.fullmatch(c))
        return f"Description: AWS takes only ASCII letters, digits, punctuation and spaces, not {bad!r}."
    return None


class SuppressModal(DefenderModal[SuppressChoice | None]):
    """Pick a duration (enter), then type a description (enter); escape cancels."""

    DEFAULT_CSS = """
    SuppressModal { align: center middle; }
    SuppressModal > Vertical { width: 60; max-width: 95%; height: auto; border: thick $warning;
        background: $surface; padding: 1 2; }
    SuppressModal OptionList { height: auto; max-height: 7; }
    """
    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel", id="suppress-cancel")]

    def __init__(self, what: str) -> None:
        super().__init__()
        self._what = what

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Suppress " + self._what, style="bold"))
            yield OptionList(*(Option(label, id=str(n)) for n, (label, _) in enumerate(DURATIONS)))
            yield Input(placeholder="description (optional), enter to continue", id="description")
            yield Static("", id="description-problem", markup=False)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        description = event.value.strip()
        problem = description_problem(description)
        if problem is not None:
            # Stays open with what was typed, to be fixed.
            self.query_one("#description-problem", Static).update(Text(problem, style="bold red"))
            return
        index = self.query_one(OptionList).highlighted or 0
        label, days = DURATIONS[index]
        self.dismiss(SuppressChoice(label, days, description))

    def action_cancel(self) -> None:
        self.dismiss(None)


def targets(
    findings: list[Finding], suppressed: bool, now: Callable[[Finding], bool]
) -> tuple[list[Finding], int]:
    """Of `findings`, those still to change, one per resource, and how many already are as asked (`now`,
    whether a suppression covers a finding now): one suppression covers every finding of the check on
    that resource."""
    chosen: dict[str, Finding] = {}
    already = 0
    for finding in findings:
        if now(finding) == suppressed:
            already += 1
        else:
            chosen.setdefault(resource_key(finding), finding)
    return list(chosen.values()), already


def what(findings: list[Finding]) -> str:
    if len(findings) == 1:
        return f"{check_info(findings[0].check_name).title} on {findings[0].resource.readable}"
    checks = {f.check_name for f in findings}
    if len(checks) > 1:
        return f"{plural(len(findings), 'finding')} of {plural(len(checks), 'check')}"
    return f"{plural(len(findings), 'finding')} of {check_info(findings[0].check_name).title}"


class Suppressions:
    """Suppress or unsuppress a list's findings: asked, confirmed, then sent one by one in a worker of
    `owner`; the findings (and their rows) of `stream` follow. `changed` is told when `progress` changes."""

    UPDATE_EVERY = 25  # rows update as it goes, without a re-sort per finding

    def __init__(self, owner: Widget, stream: FindingsStream, changed: Callable[[], None]) -> None:
        self._owner = owner
        self._stream = stream
        self._changed = changed
        self._progress = ""

    @property
    def progress(self) -> str:
        """A change running over several findings: "Suppressing 3/40…"; empty when none runs."""
        return self._progress

    def suppress(self, findings: list[Finding]) -> None:
        """`findings` (the marked ones, else the cursor's) suppressed, after the dialog and a confirmation."""
        findings, already = targets(findings, True, self._stream.suppressed_now)
        if not self._startable(findings, already, "suppressed"):
            return

        def chosen(choice: SuppressChoice | None) -> None:
            if choice is None:
                return
            body = Text(f"Suppress {what(findings)} for {choice.label}.")
            if choice.description:
                body.append(f"\nDescription: {choice.description}")
            if already:
                body.append(f"\n{already} already suppressed are left as they are.")
            self._owner.app.push_screen(
                ConfirmModal(f"Suppress {plural(len(findings), 'finding')}", body, "Suppress"),
                lambda ok: ok and self._run(self._change_all(findings, choice)),
            )

        subject = findings[0].resource.readable if len(findings) == 1 else f"{len(findings)} findings"
        self._owner.app.push_screen(SuppressModal(subject), chosen)

    def unsuppress(self, findings: list[Finding]) -> None:
        """The suppression of `findings` removed, after a confirmation."""
        findings, already = targets(findings, False, self._stream.suppressed_now)
        if not self._startable(findings, already, "not suppressed"):
            return
        body = Text(f"Remove the suppression of {what(findings)}?")
        if already:
            body.append(f"\n{already} not suppressed are left as they are.")
        self._owner.app.push_screen(
            ConfirmModal(f"Remove {plural(len(findings), 'suppression')}", body, "Remove"),
            lambda ok: ok and self._run(self._change_all(findings, None)),
        )

    def _startable(self, findings: list[Finding], already: int, state: str) -> bool:
        if self._progress:
            defender(self._owner.app).show_error("A suppression change is still running.")
            return False
        if not findings:
            if already:
                defender(self._owner.app).show_error(f"Already {state}.")
            return False
        return True

    def _run(self, work) -> None:
        self._owner.run_worker(work, group="results-change", exit_on_error=False)

    async def _change_all(self, findings: list[Finding], choice: SuppressChoice | None) -> None:
        """One request per finding, in order; a failure is noted and the rest still go."""
        verb, past = ("Suppressing", "Suppressed") if choice else ("Unsuppressing", "Unsuppressed")
        every = self.UPDATE_EVERY
        failed: list[str] = []
        done: list[Finding] = []
        try:
            for n, finding in enumerate(findings, 1):
                self._progress = f"{verb} {n}/{len(findings)}…"
                self._changed()
                try:
                    await self._change_one(finding, choice)
                except AwsError as error:
                    failed.append(f"{finding.resource.readable}: {error.text}")
                    continue
                done.append(finding)
                if len(done) % every == 0:
                    self._set_suppressed(done[-every:], choice is not None)
        finally:
            self._set_suppressed(done[len(done) - len(done) % every :], choice is not None)
            self._progress = ""
            self._changed()
        if failed:
            more = f" (+{len(failed) - 3} more)" if len(failed) > 3 else ""
            defender(self._owner.app).show_error(
                f"{past} {len(done)} of {len(findings)}; {len(failed)} failed: "
                + "; ".join(failed[:3])
                + more
            )
        else:
            self._owner.app.notify(f"{past} {plural(len(done), 'finding')}.", markup=False)

    async def _change_one(self, finding: Finding, choice: SuppressChoice | None) -> None:
        dd = defender(self._owner.app).dd
        if choice is None:
            await dd.delete_suppression(finding.check_name, finding.resource)
            return
        await dd.create_suppression(
            finding.check_name,
            finding.resource,
            expiration=choice.expiration(),
            indefinitely=True if choice.days is None else None,
            description=choice.description or None,
        )

    def _set_suppressed(self, changed: list[Finding], suppressed: bool) -> None:
        # Every finding of this check on the same resource is covered by the one suppression.
        if not changed:
            return
        same = self._stream.set_suppressed(changed, suppressed)
        history = defender(self._owner.app).history
        if history is not None:  # a stored audit re-opened later shows it as it is now
            history.suppressed(same, suppressed)
