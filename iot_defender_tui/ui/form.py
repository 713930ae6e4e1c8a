"""What the app's edit forms share: an inline error line, and never losing what was typed unasked."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.widgets import Button, Checkbox, Input, Select, Static
from textual.worker import Worker, WorkerState

from .modals import ConfirmModal
from .screen import DefenderModal, error_text


def field_values(screen: DefenderModal, selector: str = "Input, Select, Checkbox") -> tuple[object, ...]:
    """The values of a form's fields, in order: what `dirty` compares."""
    return tuple(w.value for w in screen.query(selector) if isinstance(w, Input | Select | Checkbox))


class EditForm(DefenderModal[str | None]):
    """A form that dismisses with the saved object's name, or None. Subclasses compose `#form-error`
    (a Static) and a `#cancel` button, and call `remember_initial()` once their fields are filled.

    `sending` is true from the confirmed save until its worker ended: a second save meanwhile would send
    the change twice."""

    _initial: tuple[object, ...] = ()
    sending = False
    _error_fields: tuple[object, ...] | None = None  # the fields as they were when the error was said
    error_message = ""  # what #form-error says now

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        # Any failure the worker did not handle: "Saving…" gives way to the error and save works again.
        self.sending = False
        if state == WorkerState.ERROR:
            self._error(error_text(worker))

    def _snapshot(self) -> tuple[object, ...]:
        return field_values(self)

    def remember_initial(self) -> None:
        self._initial = self._snapshot()

    @property
    def dirty(self) -> bool:
        """Something typed that was not saved (the app asks before quitting over it)."""
        return self._snapshot() != self._initial

    def _error(self, message: str, *, about_fields: bool = True) -> None:
        """`about_fields`: a problem with what is typed, which stays until a field changes. Progress
        ("Saving…") and what no field can fix (no check enabled) pass False and stay."""
        self._error_fields = self._snapshot() if message and about_fields else None
        self.error_message = message
        self.query_one("#form-error", Static).update(Text(message))

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def fields_changed(self) -> None:
        """The user changed what the error was about (the day, the name, the role F3 just created): the
        error may no longer hold, and is cleared; save checks again. Forms whose fields are not widgets
        (ScheduleForm's picked checks) call this when they change."""
        if self._error_fields is not None and self._snapshot() != self._error_fields:
            self._error("")

    @on(Button.Pressed, "#cancel")
    def action_close(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def discard(ok: bool | None) -> None:
            if ok:
                self.dismiss(None)

        body = Text("What you typed in this form will be lost.")
        self.app.push_screen(ConfirmModal("Discard changes?", body, "Discard"), discard)
