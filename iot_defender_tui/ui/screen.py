"""What every screen and modal of the app shares: no worker error vanishes, no screen stays busy.

Worker.StateChanged does not bubble, so a worker run by a screen is seen by nobody but the screen: each
screen hands every worker's end to the app's one reporter (`report_worker`, the status line), as a pane
does, and a worker that failed or was cancelled calls `worker_ended`, where the screen clears its
"loading…"/"Saving…" text and its in-flight flags so that escape works and the user can try again.
"""

from __future__ import annotations

from typing import Any, TypeVar

from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from ..aws.errors import AwsError
from ..aws.safe_text import safe
from .contract import defender
from .widgets.footer import Footer

ResultType = TypeVar("ResultType")


def error_text(worker: Worker) -> str:
    """What a failed worker's error says, for the screen's own message line."""
    error = worker.error
    if error is None:
        return "cancelled"
    # Not only AWS's errors: any exception's words may quote what AWS sent.
    return error.text if isinstance(error, AwsError) else f"{type(error).__name__}: {safe(str(error))}"


class DefenderScreen(Screen[ResultType]):
    """Base of the app's full screens (and, through DefenderModal, of its modals)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # On the clock Textual stamps events with (Message.time): a key read before this is a key typed
        # for the screen this one covers (type_ahead.hand_over).
        self.opened_at = Message().time

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        defender(self.app).report_worker(event.worker, event.state)
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            # After the refresh: a worker failing at once ends before the screen's widgets are mounted.
            self.call_after_refresh(self._worker_ended, event.worker, event.state)

    def _worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if self.is_attached:
            self.worker_ended(worker, state)

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        """A worker of this screen failed (`worker.error`) or was cancelled: leave the busy state.

        Screens with a worker override this; the error is already in the app's status line.
        """


class DefenderModal(DefenderScreen[ResultType], ModalScreen[ResultType]):
    """Base of the app's modals: a modal screen that reports its workers like every screen."""

    def on_mount(self) -> None:
        # The modal's own keys (a form's ctrl+s, F2, F3…) at the bottom, over the app's footer, which
        # would show the keys of the screen underneath.
        self.mount(Footer())
