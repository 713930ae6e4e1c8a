"""`?`: every key of the focused pane or screen and of the app, taken from the active bindings."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def bindings_text(app, active: dict[str, ActiveBinding]) -> Text:
    """One line per binding: key, description, and where it applies (pane, screen or app)."""
    rows: list[tuple[str, str, str]] = []
    for binding_info in active.values():
        binding = binding_info.binding
        if binding.system:
            continue
        where = "app" if binding_info.node is app else type(binding_info.node).__name__
        description = binding.description or binding.tooltip or binding.action
        rows.append((app.get_key_display(binding), description, where))
    text = Text()
    width = max((len(key) for key, _, _ in rows), default=4) + 2
    for key, description, where in sorted(rows, key=lambda r: (r[2] == "app", r[0])):
        text.append(key.ljust(width), style="bold")
        text.append(description)
        text.append(f"  ({where})\n", style="dim")
    return text


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 70; max-width: 95%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help", id="help-close")]

    def __init__(self, active: dict[str, ActiveBinding]) -> None:
        super().__init__()
        self._active = active

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("Keys (escape closes)", style="bold"))
            yield Static(bindings_text(self.app, self._active), id="help-keys")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
