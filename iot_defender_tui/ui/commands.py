"""The command palette (ctrl+p): every pane, refresh, and every key the current pane offers right now.

The keys come from the active bindings of the screen the palette was opened from, so what is hidden
there (check_action False: a mutating key in read-only mode, a key of another level) is absent here too;
a chosen key's action runs on the node that bound it, once the palette has closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from .contract import palette_host

# Moving around a list is not a command; the palette's own key and the pane keys have their commands.
NAVIGATION = {"up", "down", "left", "right", "pageup", "pagedown", "home", "end", "tab", "shift+tab"}
SKIPPED_ACTIONS = ("command_palette", "show_pane", "refresh")


@dataclass(frozen=True, slots=True)
class Command:
    text: str
    run: Callable[[], object]
    help: str


class DefenderCommands(Provider):
    """Palette commands: go to each pane, refresh, and the current pane's enabled keys."""

    def _commands(self) -> list[Command]:
        app = self.app
        host = palette_host(app)
        commands = [
            Command(
                f"Go to {label}",
                partial(host.action_show_pane, pane_id),
                f"Show the {label} pane (key {key})",
            )
            for pane_id, key, label in host.pane_keys
        ]
        commands.append(Command("Refresh", host.action_refresh, "Poll the current pane now (key r)"))
        seen = {c.text for c in commands}
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if (
                not active.enabled
                or binding.system
                or key.rsplit("+", 1)[-1] in NAVIGATION
                or binding.action.split("(", 1)[0] in SKIPPED_ACTIONS
                or not binding.description
                or binding.description in seen
            ):
                continue
            seen.add(binding.description)
            where = "" if active.node is app else f" in {type(active.node).__name__}"
            commands.append(
                Command(
                    binding.description,
                    partial(self._run, binding.action, active.node),
                    f"key {app.get_key_display(binding)}{where}",
                )
            )
        return commands

    async def _run(self, action: str, node: DOMNode) -> None:
        # run_action asks check_action again: a key that became hidden meanwhile does nothing.
        await self.app.run_action(action, node)

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.text, command.run, help=command.help)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.text)
            if score > 0:
                yield Hit(score, matcher.highlight(command.text), command.run, help=command.help)  # type: ignore[arg-type]
