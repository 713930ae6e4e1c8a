"""Mitigation's `u`: undo a finished mitigation task where AWS allows it (aws/revert.py) — the plan read
from AWS, every change listed in a confirmation with what cannot be undone and why, then made (journaled by
the client) and its outcome said. One revert at a time: `u` again while one runs is refused, not queued."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widget import Widget

from ...aws.errors import AwsError
from ...aws.guard import ReadOnlyError
from ...aws.revert import NotFinished, Outcome, apply, describe, plan
from ..contract import defender
from ..format import plural
from ..modals import ConfirmModal


class Reverter:
    def __init__(self, owner: Widget, done: Callable[[str], None]) -> None:
        self._owner = owner
        self._done = done  # says the outcome once the lists show it
        self.running = False

    def start(self, task_id: str) -> None:
        app = defender(self._owner.app)
        if self.running:
            app.show_error("A revert is already running: wait for it to end.")
            return
        self.running = True
        self._owner.run_worker(self._plan(task_id), group="mitigation-revert", exit_on_error=False)

    async def _plan(self, task_id: str) -> None:
        app = defender(self._owner.app)
        asked = False  # the confirmation owns `running` from then on; any other end of this step frees it
        try:
            try:
                _task, undos = await plan(app.dd, task_id)
            except NotFinished as err:
                app.show_error(f"{err}.")
                return
            except AwsError as err:
                app.show_error(err.text)
                return
            possible = [u for u in undos if u.possible]
            lines = describe(undos)
            if not possible:
                why = "; ".join(lines) if lines else "it changed nothing"
                app.show_error(f"Nothing of mitigation task {task_id} can be undone: {why}")
                return
            changes = len({(u.operation, u.args) for u in possible})
            body = Text(f"Undo what mitigation task {task_id} did ({plural(changes, 'change')}):\n\n")
            body.append("\n".join(lines))

            def confirmed(ok: bool | None) -> None:
                if not ok:
                    self.running = False
                    return
                self._owner.run_worker(self._apply(task_id, possible), group="mitigation-revert",
                                       exit_on_error=False)  # fmt: skip

            modal = ConfirmModal("Revert mitigation task?", body, "Revert", "Keep")
            self._owner.app.push_screen(modal, confirmed)
            asked = True
        finally:
            if not asked:
                self.running = False

    async def _apply(self, task_id: str, possible: list) -> None:
        app = defender(self._owner.app)
        try:
            outcomes: list[Outcome] = await apply(app.dd, possible)
        except ReadOnlyError as err:
            app.show_error(str(err))
            return
        finally:
            self.running = False
        failed = [o for o in outcomes if o.error is not None]
        if failed:
            first = failed[0]
            app.show_error(f"Revert of {task_id}: {len(failed)} of {len(outcomes)} changes failed; "
                           f"{first.undo.what}: {first.error}")  # fmt: skip
            return
        self._done(f"Reverted {task_id}: " + "; ".join(o.undo.what for o in outcomes))
