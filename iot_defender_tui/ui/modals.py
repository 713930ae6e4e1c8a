"""Confirmation before every change."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from .screen import DefenderModal


class ConfirmModal(DefenderModal[bool]):
    """Asks before a change; the body is plain text (it may quote AWS's words), never markup."""

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical { width: 70; max-width: 95%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 1 2; }
    ConfirmModal #body-scroll { height: auto; max-height: 100%; }
    ConfirmModal #body { height: auto; }
    /* Docked: however small the window, the body scrolls and the buttons stay in view. */
    ConfirmModal #title { dock: top; }
    ConfirmModal Horizontal { dock: bottom; height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmModal Button { margin-left: 2; }
    """
    AUTO_FOCUS = "#yes"  # not the body's scroll: enter answers, as before the body could scroll
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    def __init__(
        self, title: str, body: str | Text, confirm_label: str = "Apply", dismiss_label: str = "Cancel"
    ) -> None:
        super().__init__()
        self._title = title
        self._body = body if isinstance(body, Text) else Text(body)
        self._confirm_label = confirm_label
        # Not "Cancel" when the change itself is a cancellation: two "Cancel" buttons read alike.
        self._dismiss_label = dismiss_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title, style="bold"), id="title")
            with VerticalScroll(id="body-scroll"):
                yield Static(self._body, id="body")
            with Horizontal():
                yield Button(f"{self._confirm_label} (y)", variant="warning", id="yes")
                yield Button(f"{self._dismiss_label} (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
