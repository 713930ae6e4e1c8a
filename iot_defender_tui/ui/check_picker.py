"""A modal to pick audit checks (for a scheduled audit, or an audit run now): `space` toggles one, `A`
toggles all, `enter` or `ctrl+s` confirms, `escape` cancels.

Only the checks offered are listed (callers offer the ones enabled in the account's audit configuration,
as AWS refuses an audit of a disabled check). Dismisses with the chosen API names in catalogue order, or
None when cancelled; confirming with nothing chosen says so and stays open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import SelectionList, Static
from textual.worker import Worker, WorkerState

from ..aws.catalogue import check_info
from .contract import defender
from .screen import DefenderModal, error_text


def check_label(name: str) -> Text:
    info = check_info(name)
    label = Text(info.title)
    if info.severity:
        label.append(f"  {info.severity}", style="dim")
    return label


def ordered(names: Iterable[str]) -> tuple[str, ...]:
    """Most severe first, then by title: how the picker lists checks and how summaries name them."""
    return tuple(sorted(set(names), key=lambda n: (check_info(n).severity_rank, check_info(n).title)))


class CheckPickerModal(DefenderModal[tuple[str, ...] | None]):
    DEFAULT_CSS = """
    CheckPickerModal { align: center middle; }
    CheckPickerModal > Vertical { width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1; }
    CheckPickerModal #checks-title { height: auto; }
    CheckPickerModal SelectionList { height: auto; max-height: 17; }
    CheckPickerModal #checks-status { height: auto; color: $text-muted; }
    CheckPickerModal #checks-status.error { color: $error; }
    """
    BINDINGS = [
        # Priority: the list's own enter would toggle the highlighted check instead of confirming.
        Binding("enter,ctrl+s", "confirm", "Confirm", id="checks-confirm", priority=True),
        Binding("A", "toggle_all", "All/none", id="checks-all"),
        Binding("escape", "cancel", "Cancel", id="checks-cancel"),
    ]

    def __init__(
        self,
        title: str,
        offered: Sequence[str] | None,
        chosen: Iterable[str] | None = None,
        *,
        load: Callable[[], Awaitable[Sequence[str]]] | None = None,
        none_offered: str = "No checks to pick from.",
    ) -> None:
        """`offered` None: `load` fetches them once the picker is shown (loading… meanwhile), so the
        keys typed right after the key that opened it are the picker's; if none come, the picker closes
        and the status line says `none_offered`."""
        super().__init__()
        self._title = title
        self._load = load if offered is None else None
        self._none_offered = none_offered
        self._offered = ordered(offered or ())
        self._chosen = set(self._offered if chosen is None else chosen)
        # `A` and enter typed while the checks load (`o` then enter, in one go): done once they are here.
        self._when_loaded: list[Callable[[], None]] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title, style="bold"), id="checks-title")
            yield SelectionList[str](
                *((check_label(name), name, name in self._chosen) for name in self._offered),
                id="checks-list",
            )
            yield Static(id="checks-status", markup=False)

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()
        if self._load is None:
            self._show_count()
            return
        self.query_one("#checks-status", Static).update(Text("loading the checks…"))
        self._load_offered(self._load)

    @work(exclusive=True, group="check-picker-load", exit_on_error=False)
    async def _load_offered(self, load: Callable[[], Awaitable[Sequence[str]]]) -> None:
        self._offered = ordered(await load())
        self._load = None
        if not self._offered:
            defender(self.app).show_error(self._none_offered)
            self.action_cancel()
            return
        self._chosen = set(self._offered)
        self.query_one(SelectionList).add_options([(check_label(n), n, True) for n in self._offered])
        self._show_count()
        pending, self._when_loaded = self._when_loaded, []
        for action in pending:
            action()

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        self._when_loaded = []  # an enter typed meanwhile confirms nothing: there is nothing to pick
        status = self.query_one("#checks-status", Static)
        status.add_class("error")
        status.update(Text(f"Could not load the checks: {error_text(worker)} (escape closes)."))

    @property
    def selected(self) -> tuple[str, ...]:
        chosen = set(self.query_one(SelectionList).selected)
        return tuple(name for name in self._offered if name in chosen)

    @on(SelectionList.SelectedChanged)
    def _show_count(self) -> None:
        if self._load is not None:
            return  # still loading: the status says so
        status = self.query_one("#checks-status", Static)
        status.remove_class("error")
        status.update(
            Text(f"{len(self.selected)} of {len(self._offered)} chosen · space toggles · A all · enter OK")
        )

    def action_toggle_all(self) -> None:
        if self._load is not None:
            self._when_loaded.append(self.action_toggle_all)
            return
        checks = self.query_one(SelectionList)
        if len(self.selected) == len(self._offered):
            checks.deselect_all()
        else:
            checks.select_all()

    def action_confirm(self) -> None:
        if self is not self.app.screen:
            return  # already dismissed: a repeated enter must not pop the screen below
        if self._load is not None:
            if self.action_confirm not in self._when_loaded:
                self._when_loaded.append(self.action_confirm)
            return
        chosen = self.selected
        if not chosen:
            status = self.query_one("#checks-status", Static)
            status.add_class("error")
            status.update(Text("Pick at least one check (space toggles, A picks all)."))
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        if self is self.app.screen:
            self.dismiss(None)
