"""Deleting a mitigation action: the confirmation names the running tasks that use it."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

from ...aws.catalogue import check_info
from ...aws.client import DefenderClient
from ...aws.errors import AwsError
from ...aws.models import MitigationTask
from ..modals import ConfirmModal
from ..screen import error_text


class DeleteActionConfirm(ConfirmModal):
    """The delete confirmation, warning when a running mitigation task uses the action (AWS allows the
    delete, so the user may still confirm). It opens at once and looks the tasks up. A `y` typed before
    the look-up ends waits for it: the delete follows if no running task uses the action; otherwise the
    warning is shown and only a second `y` deletes, so nobody confirms a warning they never saw."""

    LOOKING = "Looking for running tasks that use it…"

    def __init__(self, name: str, dd: DefenderClient) -> None:
        super().__init__("Delete mitigation action?", self.body_for(name, self.LOOKING), "Delete")
        self.target_name = name
        self.dd = dd
        self.checked = False
        self._yes_waiting = False

    @staticmethod
    def body_for(name: str, note: str | Text) -> Text:
        body = Text.assemble(
            "Delete mitigation action ", (name, "bold"), "?\nTasks already run keep their results.\n"
        )
        body.append_text(note if isinstance(note, Text) else Text(note, style="italic"))
        return body

    def on_mount(self) -> None:
        self.run_worker(self._look_up(), group="delete-check", exclusive=True, exit_on_error=False)

    async def _look_up(self) -> None:
        try:
            tasks = await self.dd.running_tasks_using(self.target_name)
        except AwsError as err:
            self._checked(f"Running tasks could not be checked: {err.text}", safe=False)
        else:
            self._checked(running_tasks_note(self.target_name, tasks), safe=not tasks)

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if state == WorkerState.ERROR:  # not an AwsError: say so, and let the user decide
            self._checked(f"Running tasks could not be checked: {error_text(worker)}", safe=False)

    def _checked(self, note: str | Text, *, safe: bool) -> None:
        self.checked = True
        if safe and self._yes_waiting:
            self.dismiss(True)
            return
        self._yes_waiting = False
        self.query_one("#body", Static).update(self.body_for(self.target_name, note))

    def _yes_too_early(self) -> bool:
        if self.checked:
            return False
        self._yes_waiting = True
        note = f"{self.LOOKING} The delete follows unless one does."
        self.query_one("#body", Static).update(self.body_for(self.target_name, note))
        return True

    def action_answer(self, answer: bool) -> None:
        if not (answer and self._yes_too_early()):
            super().action_answer(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes" and self._yes_too_early():
            event.stop()
            return
        super().on_button_pressed(event)


def running_tasks_note(name: str, tasks: tuple[MitigationTask, ...]) -> Text:
    if not tasks:
        return Text("No running mitigation task uses it.", style="italic")
    note = Text("Warning: ", style="bold red")
    count = (
        "a running mitigation task uses" if len(tasks) == 1 else f"{len(tasks)} running mitigation tasks use"
    )
    note.append(f"{count} it:\n")
    for task in tasks:
        checks = [check_info(c).title for c, names in task.mapping.items() if name in names]
        note.append("  ")
        note.append(task.task_id, style="bold")
        note.append(f" (IN_PROGRESS, for {', '.join(checks)})\n")
    note.append("AWS allows deleting it while the task runs.")
    return note
