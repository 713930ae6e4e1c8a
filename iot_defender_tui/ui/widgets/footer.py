"""The key hints: a block of two rows, in columns (as k9s shows them), most important first.

Textual's Footer lays the keys out on one row in the order of the focus chain (the list's keys, then the
pane's, then the app's) and crops the rest: at 80 columns a findings list lost most of its keys, and `a`
(apply mitigation) was cut even at 120. Here the hints are ordered by importance and wrap into columns of
two rows; the least important are dropped first when even that is too wide, and `?` (every key, with its
help) and the command palette stay pinned on the right.

Importance is the declaration order, by where a key is bound: first the view's own keys (the pane's or
the screen's: what the view is for, in the order its BINDINGS lists them), then the focused widget's (a
list's open and sort), then the app's (refresh, quit). Only keys with `show=True` appear, once per
action; `?` lists them all. The footer is drawn as one Text (no widget per key), so a change of bindings
costs a repaint, not a recompose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import App
from textual.screen import Screen
from textual.widget import Widget

ROWS = 2
GAP = 2  # cells between two columns
PINNED = ("help", "command_palette")  # actions kept on the right whatever the width


@dataclass(frozen=True, slots=True)
class Hint:
    key: str  # the key the binding fires on (after the user's keymap): what a click sends
    display: str
    description: str
    enabled: bool = True

    @property
    def width(self) -> int:
        return cell_len(self.display) + 1 + cell_len(self.description)


def hints(screen: Screen) -> tuple[list[Hint], list[Hint]]:
    """The screen's shown keys by importance, and the pinned ones (help, palette)."""
    app = screen.app
    focused = screen.focused
    ranked: list[tuple[int, int, Hint]] = []
    pinned: dict[str, Hint] = {}
    seen: set[str] = set()
    for order, (node, binding, enabled, _tooltip) in enumerate(screen.active_bindings.values()):
        action = binding.action
        if action in PINNED:
            if action not in pinned and (binding.show or action == "command_palette"):  # a system key
                pinned[action] = Hint(binding.key, app.get_key_display(binding), binding.description, enabled)
            continue
        if not binding.show or action in seen:
            continue
        seen.add(action)
        tier = 2 if isinstance(node, App) else 1 if node is focused else 0
        hint = Hint(binding.key, app.get_key_display(binding), binding.description, enabled)
        ranked.append((tier, order, hint))
    ranked.sort(key=lambda item: item[:2])
    return [hint for _, _, hint in ranked], [pinned[a] for a in PINNED if a in pinned]


def columns(shown: list[Hint], rows: int = ROWS) -> list[list[Hint]]:
    return [shown[i : i + rows] for i in range(0, len(shown), rows)]


def fit(ordered: list[Hint], pinned: list[Hint], width: int, rows: int = ROWS) -> list[list[Hint]]:
    """The columns of the most important hints that fit beside the pinned column in `width` cells."""
    room = width - 1 - (max(h.width for h in pinned) + GAP if pinned else 0)
    for count in range(len(ordered), 0, -1):
        cols = columns(ordered[:count], rows)
        if sum(max(h.width for h in col) for col in cols) + GAP * (len(cols) - 1) <= room:
            return cols
    return []


class Footer(Widget, can_focus=False):
    DEFAULT_CSS = """
    Footer {
        dock: bottom;
        height: 2;
        background: $footer-background;
        color: $footer-foreground;
    }
    Footer > .footer--key { color: $footer-key-foreground; text-style: bold; }
    Footer > .footer--description { color: $footer-description-foreground; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"footer--key", "footer--description"}
    ALLOW_SELECT = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown: list[Hint] = []  # what the last render drew, most important first (tests read it)
        self._spots: list[tuple[int, int, int, Hint]] = []  # (row, first cell, end cell, hint) for clicks

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def render(self) -> Text:
        return self.hint_text(self.size.width)

    def hint_text(self, width: int) -> Text:
        """The two rows of hints for a footer `width` cells wide."""
        ordered, pinned = hints(self.screen)
        cols = fit(ordered, pinned, width)
        self.shown = [hint for col in cols for hint in col]
        self._spots = []
        starts, x = [], 1
        for col in cols:
            starts.append(x)
            x += max(h.width for h in col) + GAP
        pinned_at = width - 1 - max((h.width for h in pinned), default=0)
        key_style = self.get_component_rich_style("footer--key")
        description_style = self.get_component_rich_style("footer--description")
        lines = []
        for row in range(ROWS):
            line = Text(no_wrap=True, overflow="crop", end="")
            for col, start in zip(cols, starts, strict=True):
                if row < len(col):
                    self._draw(line, row, start, col[row], key_style, description_style)
            if row < len(pinned):
                self._draw(line, row, pinned_at, pinned[row], key_style, description_style)
            lines.append(line)
        return Text("\n", no_wrap=True, overflow="crop").join(lines)

    def _draw(self, line: Text, row: int, start: int, hint: Hint, key: Style, description: Style) -> None:
        line.append(" " * max(0, start - line.cell_len))
        start = line.cell_len
        dim = Style(dim=True) if not hint.enabled else Style()
        line.append(hint.display, key + dim)
        line.append(" " + hint.description, description + dim)
        self._spots.append((row, start, line.cell_len, hint))

    def on_click(self, event: events.Click) -> None:
        for row, start, end, hint in self._spots:
            if event.y == row and start <= event.x < end:
                if hint.enabled:
                    self.app.simulate_key(hint.key)
                else:
                    self.app.bell()
                return
