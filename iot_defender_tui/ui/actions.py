"""Every action of the app and of every pane, in plain words, with the keys the user's keymap gives them.

The catalogue is read from the app's and the panes' own BINDINGS, so a new key is in the palette at once;
WORDS adds what a footer word cannot say: a searchable title, what it does, where it acts and what the user
must do first. A binding missing from WORDS is still offered, with its footer word
(tests/test_ui_palette.py fails on it, so that the words get written).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.actions import parse as parse_action
from textual.app import App
from textual.binding import Binding, BindingsMap, BindingType

INSIDE = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "  # "Results > findings", as a path reads


@dataclass(frozen=True, slots=True)
class Words:
    title: str  # the palette's line, what users type: "Suppress findings"
    does: str  # "suppress the marked findings"
    place: str = ""  # where in the pane it acts: "findings" (shown as "Results > findings")
    # What the user must choose first, when the action acts on a selection; {key} is its own key,
    # {<binding id>} another binding's. Such an action runs from the palette only on the pane it was
    # opened from (where the user sees the selection); from elsewhere the palette leads there and says this.
    then: str = ""
    palette: bool = True  # False: meaningless from the palette (the app's escape closes a screen)


_MARK_FIRST = "Mark findings with {results-mark} (or {results-mark-all} for all), then press {key}."

WORDS: dict[str, Words] = {
    # The app's keys, everywhere.
    "pane-settings": Words("Go to Settings", "show the audit checks, thresholds, role and logging"),
    "pane-schedules": Words("Go to Schedules", "show the scheduled audits"),
    "pane-results": Words("Go to Results", "show the audits, their checks and findings"),
    "pane-mitigation": Words("Go to Mitigation", "show the mitigation actions and tasks"),
    "overview-cross-findings": Words(
        "Findings across contexts",
        "pick a check, then list its findings in every context in one table (account and region columns); "
        "a marks and mitigates them per context",
    ),
    "pane-overview": Words("Go to Overview", "every context's audit posture; enter switches to one"),
    "refresh": Words("Refresh", "poll the pane shown now (or retry the connection)"),
    "help": Words("Help", "list every key of the screen you are on"),
    "quit": Words("Quit", "leave the app (asks first when edits are unsaved)"),
    "contexts": Words(
        "Switch context", "switch the whole app to another account-region context (k9s's :ctx)"
    ),
    "errors": Words("Last errors", "list the last errors whole, newest first, with when and where"),
    "back": Words("Back", "close the screen on top", palette=False),
    # Settings
    "settings-toggle": Words(
        "Toggle check",
        "switch the audit check under the cursor on or off",
        "checks",
        "Move to a check, then press {key} (save with {settings-save}).",
    ),
    "settings-threshold": Words(
        "Edit threshold",
        "change the days threshold of the certificate check under the cursor",
        "checks",
        "Move to a certificate check, then press {key}.",
    ),
    "settings-save": Words(
        "Save audit settings", "save the toggled checks and edited thresholds (shows the changes first)"
    ),
    # Schedules
    "schedules-new": Words("New scheduled audit", "create a scheduled audit in a form"),
    "schedules-edit": Words(
        "Edit scheduled audit",
        "change the scheduled audit under the cursor",
        "list",
        "Move to a scheduled audit, then press {key}.",
    ),
    "schedules-delete": Words(
        "Delete scheduled audit",
        "delete the scheduled audit under the cursor",
        "list",
        "Move to a scheduled audit, then press {key}.",
    ),
    "schedules-run-audit": Words("Audit now", "run an on-demand audit of the checks you pick"),
    # Results
    "results-back": Words(
        "Up a level in Results", "go up from findings to checks to audits (a filter first)"
    ),
    "results-reload": Words("Reload findings", "load the check's findings again, keeping marks", "findings"),
    "results-filter": Words("Filter results", "show only the rows of the list that contain a text"),
    "results-cancel-audit": Words(
        "Cancel audit",
        "cancel the audit in progress under the cursor",
        "audit tasks",
        "Move to an audit in progress, then press {key}.",
    ),
    "results-drift": Words(
        "Drift since the previous audit",
        "compare the audit under the cursor with the previous audit of the same checks: new, resolved and "
        "persisting findings per check",
        "audit tasks",
        "Move to a completed audit, then press {key}.",
    ),
    "results-trend": Words(
        "Posture trend", "chart the non-compliant findings of every stored audit, per severity or per check"
    ),
    "results-mark": Words(
        "Mark finding",
        "mark or unmark the finding under the cursor",
        "findings",
        "Move to a finding, then press {key}.",
    ),
    "results-mark-all": Words("Mark all findings", "mark every finding shown", "findings"),
    "results-clear-marks": Words("Unmark findings", "clear every mark", "findings"),
    "results-suppress": Words("Suppress findings", "suppress the marked findings", "findings", _MARK_FIRST),
    "results-unsuppress": Words(
        "Unsuppress findings", "remove the suppression of the marked findings", "findings", _MARK_FIRST
    ),
    "results-apply-mitigation": Words(
        "Apply mitigation", "apply mitigation actions to the marked findings", "findings", _MARK_FIRST
    ),
    "results-export": Words(
        "Export findings",
        "write the findings list as shown (filter and sort applied) to a CSV or JSON file",
        "findings",
    ),
    "results-copy-ids": Words(
        "Copy finding ids",
        "copy the ids of the finding under the cursor and of its resource (or of the marked findings) to "
        "the clipboard, over SSH too",
        "findings",
        "Move to a finding (or mark findings), then press {key}.",
    ),
    # Mitigation
    "mitigation-new": Words("New mitigation action", "create a mitigation action in a form"),
    "mitigation-edit": Words(
        "Edit mitigation action",
        "change the mitigation action under the cursor",
        "actions",
        "Move to an action, then press {key}.",
    ),
    "mitigation-delete": Words(
        "Delete mitigation action",
        "delete the mitigation action under the cursor",
        "actions",
        "Move to an action, then press {key}.",
    ),
    "mitigation-cancel": Words(
        "Cancel mitigation task",
        "cancel the mitigation task under the cursor",
        "tasks",
        "Move to a task in progress, then press {key}.",
    ),
    "mitigation-revert": Words(
        "Revert mitigation task",
        "undo what the finished mitigation task under the cursor did, where AWS allows it",
        "tasks",
        "Move to a finished task, then press {key}.",
    ),
    "mitigation-switch": Words("Switch actions/tasks", "move between the actions list and the tasks list"),
    "mitigation-filter": Words("Filter mitigation list", "show only the rows that contain a text"),
    "mitigation-clear-filter": Words("Clear mitigation filter", "show every row of the filtered list again"),
    # The lists' own keys (FastTable, FilterBar), offered where the focus is.
    "table-select": Words("Open", "open the row under the cursor"),
    "table-sort": Words("Sort", "sort by the next column"),
    "table-sort-reverse": Words("Reverse sort", "reverse the order of the sorted column"),
    "filter-clear": Words("Clear filter", "close the filter and show every row"),
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One action as the user's keymap binds it."""

    binding: Binding  # the first of its keys
    keys: str  # every key of it, as shown: "space", "^s"
    pane_id: str | None  # None: the app's
    label: str  # the pane's label, or "Everywhere"
    words: Words
    mutating: bool  # refused in read-only mode

    @property
    def binding_id(self) -> str:
        return self.binding.id or self.binding.action

    @property
    def action(self) -> tuple[str, tuple[object, ...]]:
        _, name, parameters = parse_action(self.binding.action)
        return name, parameters

    @property
    def where(self) -> str:
        return f"{self.label}{INSIDE}{self.words.place}" if self.words.place else self.label

    @property
    def help(self) -> str:
        return f"{self.where}: {self.words.does} ({self.keys})"


def words_for(binding: Binding) -> Words:
    found = WORDS.get(binding.id or "")
    if found is not None:
        return found
    word = binding.description or binding.action
    return Words(word, word[:1].lower() + word[1:])


def user_bindings(app: App, bindings: Iterable[BindingType]) -> dict[str, list[Binding]]:
    """Binding id → its bindings, one per key, after the user's keymap, in declaration order."""
    bindings = list(bindings)
    chosen = BindingsMap(bindings)
    chosen.apply_keymap(keymap(app))  # what Textual does to every node's bindings (Screen._binding_chain)
    by_id: dict[str, list[Binding]] = {}
    for key_bindings in chosen.key_to_bindings.values():
        for binding in key_bindings:
            by_id.setdefault(binding.id or binding.action, []).append(binding)
    order = (b.id or b.action for b in Binding.make_bindings(bindings))
    return {i: by_id[i] for i in dict.fromkeys(order) if i in by_id}


def keymap(app: App) -> Mapping[str, str]:
    # Normalised by App.set_keymap; Textual has no public view of it.
    return getattr(app, "_keymap", {}) or {}


def key_text(app: App, bindings: list[Binding]) -> str:
    return ", ".join(dict.fromkeys(app.get_key_display(b) for b in bindings))


def entries_of(
    app: App, bindings: Iterable[BindingType], pane_id: str | None, label: str, mutating: Iterable[str] = ()
) -> list[Entry]:
    mutating = set(mutating)
    found = []
    for per_key in user_bindings(app, bindings).values():
        binding = per_key[0]
        name = parse_action(binding.action)[1]
        found.append(
            Entry(binding, key_text(app, per_key), pane_id, label, words_for(binding), name in mutating)
        )
    return found


def mutating_actions(pane_class: type) -> frozenset[str]:
    """The actions a pane refuses in read-only mode: its module's MUTATING, which its check_action uses."""
    return frozenset(getattr(inspect.getmodule(pane_class), "MUTATING", ()))


def catalogue(app: App, panes: Iterable[tuple[str, str, type]]) -> list[Entry]:
    """The app's actions, then every pane's (pane id, label, class), in the panes' declaration order."""
    entries = entries_of(app, type(app).BINDINGS, None, "Everywhere")
    for pane_id, label, pane_class in panes:
        entries += entries_of(app, pane_class.BINDINGS, pane_id, label, mutating_actions(pane_class))
    return entries


def guidance(entry: Entry, keys: Mapping[str, str]) -> str:
    """What to do next, keys as the user's keymap has them: "Mark findings with space, then press s."."""
    return entry.words.then.format_map(_Keys(keys, entry.keys))


class _Keys(dict):
    def __init__(self, keys: Mapping[str, str], own: str) -> None:
        super().__init__(keys)
        self["key"] = own

    def __missing__(self, name: str) -> str:
        return name
