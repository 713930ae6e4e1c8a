"""The parts of the apply dialog (apply_mitigation.py): the marked findings grouped by check, each check's
list of actions, and the confirmation, which scrolls when many checks make it taller than the screen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, SelectionList, Static

from ..aws.catalogue import check_info
from ..aws.models import Finding, MitigationAction
from .modals import ConfirmModal

RESOURCES_SHOWN = 8  # per check, in the dialog's headings and the confirmation


@dataclass
class CheckGroup:
    """The marked findings of one check, the actions offered for it and those picked, in pick order."""

    check: str
    findings: list[Finding]
    offered: dict[str, MitigationAction] = field(default_factory=dict)
    picked: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return check_info(self.check).title

    @property
    def types(self) -> tuple[str, ...]:
        return check_info(self.check).action_types

    def resources(self, shown: int = RESOURCES_SHOWN) -> str:
        names = [f.resource.readable for f in self.findings[:shown]]
        more = len(self.findings) - shown
        return ", ".join(names + ([f"+{more} more"] if more > 0 else []))


def group_by_check(findings: list[Finding]) -> list[CheckGroup]:
    """One group per check, most severe first then by title (as the checks list shows them), whatever
    order the findings were marked or streamed in."""
    groups: dict[str, CheckGroup] = {}
    for finding in findings:
        groups.setdefault(finding.check_name, CheckGroup(finding.check_name, [])).findings.append(finding)
    return sorted(groups.values(), key=lambda g: (check_info(g.check).severity_rank, g.title))


ORDINALS = ("1st", "2nd", "3rd", "4th", "5th")


def option_label(action: MitigationAction, position: int | None) -> Text:
    """An offered action; `position`: when it runs among its check's picks."""
    label = Text(f"{action.name} ({action.action_type})")
    if position is not None:
        label.append(f"  runs {ORDINALS[position - 1] if position <= 5 else f'{position}th'}", style="bold")
    return label


class CheckActions(SelectionList[str]):
    """The actions offered for one check. Arrows go on into the next or previous check's list at the ends."""

    def __init__(self, group: CheckGroup, index: int) -> None:
        super().__init__(id=f"actions-{index}", classes="check-actions")
        self.group = group

    def _neighbour(self, step: int) -> CheckActions | None:
        lists = [w for w in self.screen.query(CheckActions) if w.option_count]
        at = lists.index(self) + step if self in lists else -1
        return lists[at] if 0 <= at < len(lists) else None

    def action_cursor_down(self) -> None:
        following = self._neighbour(1) if self.highlighted == self.option_count - 1 else None
        if following is None:
            super().action_cursor_down()
        else:
            following.highlighted = 0
            self.screen.set_focus(following)  # now: keys typed on go to it, not to this list

    def action_cursor_up(self) -> None:
        preceding = self._neighbour(-1) if self.highlighted == 0 else None
        if preceding is None:
            super().action_cursor_up()
        else:
            preceding.highlighted = preceding.option_count - 1
            self.screen.set_focus(preceding)


class ApplyConfirm(ConfirmModal):
    """The confirmation. Many checks make it taller than a small screen: its body then scrolls (arrows,
    page keys), so everything that will change can be read before `y`."""

    DEFAULT_CSS = """
    ApplyConfirm #body-scroll { height: auto; }
    ApplyConfirm #body { height: auto; max-height: 1000; overflow-y: hidden; }
    """
    BINDINGS: ClassVar = [
        Binding("down", "scroll_body(1)", "Scroll", show=False, id="apply-confirm-down"),
        Binding("up", "scroll_body(-1)", "Scroll", show=False, id="apply-confirm-up"),
        Binding("pagedown", "scroll_body(8)", "Scroll", show=False, id="apply-confirm-page-down"),
        Binding("pageup", "scroll_body(-8)", "Scroll", show=False, id="apply-confirm-page-up"),
    ]
    FRAME_ROWS = 9  # what the modal needs besides the body: border, padding, title, buttons

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title, style="bold"), id="title")
            with VerticalScroll(id="body-scroll", can_focus=False):
                yield Static(self._body, id="body")
            with Horizontal():
                yield Button(f"{self._confirm_label} (y)", variant="warning", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        self._fit(self.app.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.height)

    def _fit(self, height: int) -> None:
        # The modal may take 90% of the screen; the body gets what the frame leaves.
        self.query_one("#body-scroll").styles.max_height = max(3, int(height * 0.9) - self.FRAME_ROWS)

    def action_scroll_body(self, lines: int) -> None:
        self.query_one("#body-scroll").scroll_relative(y=lines, animate=False)
