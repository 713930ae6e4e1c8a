"""The command palette (ctrl+p): every pane, and refresh."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import DefenderApp


class DefenderCommands(Provider):
    """Palette commands: go to each pane, refresh."""

    def _commands(self) -> list[tuple[str, object, str]]:
        app: DefenderApp = self.app  # type: ignore[assignment]
        commands = [
            (f"Go to {label}", partial(app.action_show_pane, pane_id), f"Show the {label} pane (key {key})")
            for pane_id, key, label in app.pane_keys
        ]
        commands.append(("Refresh", app.action_refresh, "Poll the current pane now (key r)"))
        return commands

    async def discover(self) -> Hits:
        for text, callback, help_text in self._commands():
            yield DiscoveryHit(text, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)  # type: ignore[arg-type]
