"""The suppress dialog: how long, and why. Returns the choice; the pane confirms and sends it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..screen import DefenderModal

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
