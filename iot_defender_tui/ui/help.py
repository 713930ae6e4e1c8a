"""`?`: every key of the focused pane or screen and of the app, taken from the active bindings.

Scrolls (arrows, page keys) when the keys outgrow an 80x24 terminal."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from .screen import DefenderModal


def _section(app, node) -> tuple[int, str]:
    """Where a key applies, and the order of the sections: the pane first, everywhere last."""
    if node is app:
        return 3, "Everywhere"
    if isinstance(node, Screen):
        return 2, "This screen" if node is not app.screen_stack[0] else "Screen"
    title = getattr(node, "title", "")
    if isinstance(title, str) and title:
        return 0, f"{title} pane"
    return 1, "The list" if node.can_focus else type(node).__name__


def bindings_text(app, active: dict[str, ActiveBinding]) -> Text:
    """Every active key (footer-hidden ones too), grouped by where it applies, in declaration order.

    A key bound twice shows only where it acts (the focused side wins), as Textual dispatches it; keys
    of one action (ctrl+c, super+c) share a line.
    """
    sections: dict[tuple[int, str], dict[tuple[str, str], list[str]]] = {}
    for binding_info in active.values():
        binding = binding_info.binding
        if binding.system and binding.action != "command_palette":
            continue
        if binding.action == "command_palette":
            description = "Command palette: every action by name"
        else:
            description = binding.description or binding.tooltip or binding.action
        lines = sections.setdefault(_section(app, binding_info.node), {})
        lines.setdefault((binding.action, description), []).append(app.get_key_display(binding))
    width = max((len(", ".join(k)) for lines in sections.values() for k in lines.values()), default=4)
    width = min(width, 16) + 2
    text = Text()
    for (_, heading), lines in sorted(sections.items()):
        text.append(f"{heading}\n", style="bold underline")
        for (_, description), keys in lines.items():
            text.append(", ".join(keys).ljust(width), style="bold")
            text.append(f"{description}\n")
    text.rstrip()
    return text


class HelpScreen(DefenderModal[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help", id="help-close")]

    def __init__(self, active: dict[str, ActiveBinding]) -> None:
        super().__init__()
        self._active = active

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("Keys (↑ ↓ pgup pgdn scroll, escape closes)", style="bold"))
            yield Static(bindings_text(self.app, self._active), id="help-keys")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
