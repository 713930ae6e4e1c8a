"""Modal lists to pick an AWS resource (IAM role, SNS topic, thing group), filterable by typing.

The list loads in a worker so the picker opens at once; typing filters it, `enter` returns the highlighted
entry's value (e.g. the role's ARN), `escape` returns None. Names come from AWS: shown as Text only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ..aws.errors import AwsError
from ..aws.safe_text import safe
from .screen import DefenderModal, error_text

# (label shown, value returned)
Entry = tuple[str, str]
Loader = Callable[[], Awaitable[Sequence[Entry]]]


class PickerModal(DefenderModal[str | None]):
    """A filterable list of entries loaded by `loader`; dismisses with the chosen value or None."""

    DEFAULT_CSS = """
    PickerModal { align: center middle; }
    PickerModal > Vertical { width: 76; max-width: 95%; height: 20; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1; }
    PickerModal #picker-title { height: 1; }
    PickerModal OptionList { height: 1fr; }
    PickerModal #picker-status { height: auto; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker-cancel"),
        Binding("down", "move(1)", "Down", show=False, id="picker-down"),
        Binding("up", "move(-1)", "Up", show=False, id="picker-up"),
    ]

    def __init__(self, title: str, loader: Loader) -> None:
        super().__init__()
        self._title = title
        self._loader = loader
        self._entries: list[Entry] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title, style="bold"), id="picker-title")
            yield Input(placeholder="type to filter", id="picker-filter")
            yield OptionList(id="picker-list")
            yield Static(Text("loading…"), id="picker-status")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._load()

    @work(exclusive=True, name="loading the list", group="picker-load", exit_on_error=False)
    async def _load(self) -> None:
        status = self.query_one("#picker-status", Static)
        try:
            self._entries = sorted(await self._loader(), key=lambda e: e[0].lower())
        except AwsError as err:
            status.update(Text(err.text, style="red"))
            return
        self._fill()

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if worker.group == "picker-load" and state == WorkerState.ERROR:
            self.query_one("#picker-status", Static).update(Text(error_text(worker), style="red"))

    def _fill(self) -> None:
        needle = self.query_one(Input).value.strip().lower()
        shown = [e for e in self._entries if self.matches(needle, e)]
        options = self.query_one(OptionList)
        options.clear_options()
        # Thing group names come as AWS sent them (the value goes back to AWS); only the label is shown.
        options.add_options([Option(Text(safe(label)), id=value) for label, value in shown])
        if shown:
            options.highlighted = 0
        status = f"{len(shown)} of {len(self._entries)}" if self._entries else "nothing to pick"
        self.query_one("#picker-status", Static).update(Text(status))

    def matches(self, needle: str, entry: Entry) -> bool:
        """Whether an entry stays listed while `needle` (lower case) is typed."""
        return needle in entry[0].lower() or needle in entry[1].lower()

    @on(Input.Changed, "#picker-filter")
    def _filter(self) -> None:
        self._fill()

    @on(Input.Submitted, "#picker-filter")
    def _submit_filter(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_move(self, step: int) -> None:
        # Arrows move the highlight while the filter keeps focus, so typing and choosing never clash.
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -1
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    def action_cancel(self) -> None:
        self.dismiss(None)


def role_picker(dd, title: str = "Pick an IAM role") -> PickerModal:
    async def load() -> list[Entry]:
        return [(role.name, role.arn) for role in await dd.list_roles()]

    return PickerModal(title, load)


def topic_picker(dd, title: str = "Pick an SNS topic") -> PickerModal:
    async def load() -> list[Entry]:
        return [(topic.name, topic.arn) for topic in await dd.list_topics()]

    return PickerModal(title, load)


def thing_group_picker(dd, title: str = "Add a thing group") -> PickerModal:
    async def load() -> list[Entry]:
        return [(name, name) for name in await dd.list_thing_groups()]

    return PickerModal(title, load)
