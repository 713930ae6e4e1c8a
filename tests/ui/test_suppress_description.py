"""The suppress dialog checks the description against AWS's AuditDescription before anything is sent."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from iot_defender_tui.ui.panes.results_suppress import SuppressChoice, SuppressModal
from tests.support.standin import StandIn

MAX = 1000  # AuditDescription in the IoT service model: max 1000, pattern [\p{Graph}\x20]*


class Host(StandIn):
    def __init__(self) -> None:
        super().__init__()
        self.chosen: list[SuppressChoice | None] = []

    def on_mount(self) -> None:
        self.push_screen(SuppressModal("1 finding"), self.chosen.append)


async def _submit(description: str) -> tuple[Host, str, str]:
    """What the dialog answered after enter on the first duration, then `description` and enter."""
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # 1 week
        await pilot.pause()
        modal = app.screen
        field = modal.query_one("#description", Input)
        field.value = description
        await pilot.press("enter")
        await pilot.pause()
        if isinstance(app.screen, SuppressModal):
            message = str(modal.query_one("#description-problem", Static).render())
            return app, message, field.value
        return app, "", ""


@pytest.mark.parametrize(
    ("description", "problem"),
    [
        ("x" * (MAX + 1), "at most 1000 characters (this one has 1001)"),
        ("lab\tdevice", "'\\t'"),
        ("swap on mon\u202eday", "'\\u202e'"),
        ("caf\u00e9", "'\u00e9'"),  # \p{Graph} is Java's: ASCII only
    ],
    ids=["too-long", "tab", "bidi", "non-ascii"],
)
async def test_a_description_aws_would_refuse_is_named_and_nothing_is_sent(description: str, problem: str):
    app, message, kept = await _submit(description)
    assert app.chosen == [], "the dialog stays open: nothing goes to AWS"
    assert problem in message
    assert kept == description, "what was typed is kept to be fixed"


async def test_a_description_within_the_limits_is_sent():
    longest = "a" * (MAX - 2) + "~!"
    app, _message, _kept = await _submit(f"  {longest}  ")
    assert app.chosen == [SuppressChoice("1 week", 7, longest)]
