"""The command palette (ctrl+p): every action of every pane, from any pane, in plain words (ui/actions.py).

Choosing one shows its pane and runs it there when it needs nothing chosen first, or when the palette was
opened on that pane (it then acts on what the user sees, as its key would). An action that acts on a
selection made elsewhere (a marked finding, a task) leads to where it is made instead, and a notification
says what to do next with the user's keys.

Read-only mode: a changing action is left out of the list the palette opens with, as its key is left out
of the footer and the help; a search that names it ("suppress") finds it marked as refused, and choosing it
says why, as its key does. The keys of the focused list (sort, open) and of a screen over the panes are
offered too, as their keys are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.dom import DOMNode
from textual.widget import Widget

from .actions import INSIDE, Entry, catalogue, guidance, key_text, user_bindings, words_for
from .contract import palette_host
from .pane import Pane
from .readonly import refused
from .widgets.fast_table import FastTable

# Moving around a list is not a command; the palette's own key is not one either.
NAVIGATION = {"up", "down", "left", "right", "pageup", "pagedown", "home", "end", "tab", "shift+tab"}
SKIPPED_ACTIONS = ("command_palette",)
REFUSED_QUERY = 3  # letters a search needs before it lists actions read-only mode refuses
# Results' levels by the place WORDS names; the steps down to one, with the key that opens a row.
RESULTS_LEVELS = {"audit tasks": 0, "checks": 1, "findings": 2}
RESULTS_STEPS = ("Open an audit with {table-select}", "a check with {table-select}")


@dataclass(frozen=True, slots=True)
class Command:
    text: str
    run: Callable[[], object]
    help: str
    aliases: tuple[str, ...] = ()  # also matched: the footer's word ("Mitigate")
    refused: bool = False  # read-only: found by a search naming it, never listed unasked


class DefenderCommands(Provider):
    """Palette commands: every action of the app and its panes, and the keys of the focused list."""

    _found: list[Command] = []

    def _commands(self) -> list[Command]:
        app = self.app
        host = palette_host(app)
        read_only = bool(getattr(app, "read_only", False))
        shown = host.current_pane()
        opened_on = shown.id if shown is not None else None
        # Over a form or a question the palette offers that screen's keys only: leaving it would drop it.
        stack = app.screen_stack
        below = stack[1 : stack.index(self.screen) + 1] if self.screen in stack else stack[1:]
        over_modal = any(screen.is_modal for screen in below)
        entries: list[Entry] = []
        if not over_modal:
            panes = [(pane_id, label, host.pane_type(pane_id)) for pane_id, _, label in host.pane_keys]
            entries = catalogue(app, panes)
        keys = {e.binding_id: e.keys for e in entries}
        keys.update((i, key_text(app, b)) for i, b in user_bindings(app, FastTable.BINDINGS).items())
        # The pane shown first: its actions are the likeliest.
        entries.sort(key=lambda e: 0 if e.pane_id == opened_on else 1 if e.pane_id is None else 2)
        commands = []
        for entry in entries:
            if not entry.words.palette:
                continue
            if entry.pane_id is None and app.check_action(*entry.action) is False:
                continue
            refuse = read_only and entry.mutating
            run = partial(self._refuse, entry) if refuse else partial(self._go, entry, opened_on, keys)
            help_text = entry.help + (" · refused: read-only" if refuse else "")
            commands.append(
                Command(entry.words.title, run, help_text, (entry.binding.description,), refused=refuse)
            )
        commands += self._local_commands({e.binding_id for e in entries})
        return commands

    def _local_commands(self, covered: set[str]) -> list[Command]:
        """The enabled keys of the screen the palette was opened on that no pane declares: the focused
        list's (sort, open) and a screen's over the panes (a finding, a task's executions)."""
        app = self.app
        found: dict[str, Command] = {}
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            binding_id = binding.id or binding.action
            if (
                not active.enabled
                or binding.system
                or binding_id in covered
                or key.rsplit("+", 1)[-1] in NAVIGATION
                or binding.action.split("(", 1)[0] in SKIPPED_ACTIONS
                or not binding.description
            ):
                continue
            words = words_for(binding)
            if binding_id in found:
                continue
            same = [a.binding for a in self.screen.active_bindings.values() if a.binding.id == binding.id]
            keys = key_text(app, same if binding.id else [binding])
            found[binding_id] = Command(
                words.title,
                partial(self._run, binding.action, active.node),
                f"{self._where(active.node)}: {words.does} ({keys})",
                (binding.description,),
            )
        return list(found.values())

    @staticmethod
    def _where(node: DOMNode) -> str:
        pane = next((n for n in node.ancestors_with_self if isinstance(n, Pane)), None)
        if isinstance(node, Widget) and node.can_focus:
            return f"{pane.title}{INSIDE}this list" if pane is not None else "This list"
        return pane.title if pane is not None else "This screen"

    async def _run(self, action: str, node: DOMNode) -> None:
        # run_action asks check_action again: a key that became hidden meanwhile does nothing.
        await self.app.run_action(action, node)

    def _refuse(self, entry: Entry) -> None:
        refused(self.app, f"{entry.words.title} is")

    async def _go(self, entry: Entry, opened_on: str | None, keys: dict[str, str]) -> None:
        app = self.app
        # A finding's or a task's detail shown over the panes closes first: it holds no edits.
        while len(app.screen_stack) > 1 and not app.screen.is_modal:
            await app.pop_screen()
        name, parameters = entry.action
        if entry.pane_id is None:
            await app.run_action(entry.binding.action, app)
            return
        pane = await palette_host(app).show_pane_ready(entry.pane_id)
        if pane is None:
            return  # not connected yet: the pane is shown once connected
        ready = pane.check_action(name, parameters)
        if ready and (not entry.words.then or entry.pane_id == opened_on):
            await app.run_action(entry.binding.action, pane)
            return
        steps = await self._reach(pane, entry, keys)
        then = guidance(entry, keys)
        if not then and not steps and not ready:
            then = f"{entry.words.title}: nothing to act on here now."
        elif not then:
            then = f"Then press {entry.keys}."
        message = f"{steps} {then}" if steps else then
        app.notify(message, title=entry.words.title, markup=False, timeout=10)

    async def _reach(self, pane: Widget, entry: Entry, keys: dict[str, str]) -> str:
        """Go where the action acts (a Results level, a Mitigation list); the steps left, in words."""
        place = entry.words.place
        level = getattr(pane, "level", None)
        if isinstance(level, int) and place in RESULTS_LEVELS:
            want = RESULTS_LEVELS[place]
            for _ in range(len(RESULTS_LEVELS) + 1):  # escape clears a filter, then goes up a level
                if pane.level <= want:  # type: ignore[attr-defined]
                    break
                await self.app.run_action("back", pane)
            steps = RESULTS_STEPS[pane.level : want]  # type: ignore[attr-defined]
            return (" and ".join(steps) + ".").format_map(_Keys(keys)) if steps else ""
        for widget in pane.query(f"#{place}") if place.isidentifier() else ():
            if widget.focusable and widget.display:
                widget.focus()
        return ""

    async def startup(self) -> None:
        # Once per opening: the panes' modules are imported on the first (a pane is composed when shown).
        self._found = self._commands()

    async def discover(self) -> Hits:
        for command in self._found:
            if not command.refused:
                yield DiscoveryHit(command.text, command.run, help=Content(command.help))  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        wanted = query.strip().lower()
        for command in self._found:
            if command.refused:
                # Only when named: "e" would list every change the user cannot make.
                names = (command.text, *command.aliases)
                if len(wanted) < REFUSED_QUERY or not any(wanted in n.lower() for n in names):
                    continue
            score = max(
                [matcher.match(command.text)] + [matcher.match(a) * 0.9 for a in command.aliases if a]
            )
            if score > 0:
                if command.refused:
                    score *= 0.5
                yield Hit(
                    score,
                    matcher.highlight(command.text),
                    command.run,  # type: ignore[arg-type]
                    text=command.text,
                    help=Content(command.help),  # type: ignore[arg-type]
                )


class _Keys(dict):
    def __missing__(self, name: str) -> str:
        return name
