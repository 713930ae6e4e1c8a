"""Words a new user reads (issue 13, points 3 and 8): a refused endpoint said at once, counts that say
what they count, an unchanged edit that asks nothing, a cancel dialog whose buttons differ."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App
from textual.widgets import Button, Input, Static

from iot_defender_tui.aws import ratelimit
from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.format import plural
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.pane import Pane
from iot_defender_tui.ui.panes.mitigation import MitigationPane
from iot_defender_tui.ui.panes.mitigation_forms import ActionForm
from iot_defender_tui.ui.panes.results import ResultsPane
from iot_defender_tui.ui.panes.schedules import SchedulesPane
from iot_defender_tui.ui.panes.schedules_form import ScheduleForm
from iot_defender_tui.ui.panes.settings import SettingsPane, ThresholdModal
from tests.support.mitigation import NEEDS, make_role
from tests.support.sandbox import FAST, closed_port_url, make_client, request_counts, sandbox_settings
from tests.support.standin import StandIn
from tests.support.ui import until
from tests.ui import test_mitigation, test_schedules, test_settings


def status_line(app: App) -> str:
    return str(app.query_one("#status", Static).render())


def test_plural() -> None:
    assert [plural(n, "check") for n in (0, 1, 2)] == ["0 checks", "1 check", "2 checks"]
    assert plural(1, "audit task") == "1 audit task" and plural(3, "entry", "entries") == "3 entries"


async def test_a_refused_endpoint_is_reported_at_once_with_the_retry_to_come(aws_env) -> None:
    url = closed_port_url()
    app = DefenderApp(sandbox_settings(url), Settings(), None)  # the real retry settings, not the tests'
    async with app.run_test(size=(200, 24)) as pilot:
        # botocore used to retry the refusal 8 times with back-off: 20-40 s of "Connecting…".
        await until(pilot, lambda: "connection refused" in status_line(app), timeout=8.0)
        assert f"Cannot connect to {url}/: connection refused — retrying in 2 s (r to retry now)." in (
            status_line(app)
        )


async def test_the_task_list_says_what_it_counts(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.focused is not None and app.focused.id == "settings-table")
        await pilot.press("3")
        pane = app.query_one(ResultsPane)
        status = pane.query_one("#status", Static)
        shown = str(status.render())
        assert shown == "loading…" or "audit task" in shown, shown  # never a bare "0"
        await until(pilot, lambda: str(status.render()).endswith(("audit task", "audit tasks")))


def test_a_poll_hears_of_each_throttled_retry() -> None:
    heard: list[int] = []
    calls = iter([True, True, False])

    async def call() -> str:
        if next(calls):
            raise RuntimeError("throttled")
        return "ok"

    async def run() -> str:
        ratelimit.RETRYING.set(lambda: heard.append(1))
        return await ratelimit.retry_throttled(call, lambda e: True, ratelimit.Backoff(base=0.001))

    assert asyncio.run(run()) == "ok" and len(heard) == 2


async def test_an_unchanged_schedule_edit_asks_nothing_and_sends_nothing(lab, sandbox_url, journal) -> None:
    iot = make_client(sandbox_url)
    iot.create_scheduled_audit(
        scheduledAuditName="weekly_1", frequency="WEEKLY", dayOfWeek="TUE",
        targetCheckNames=["LOGGING_DISABLED_CHECK"],
    )  # fmt: skip
    async with (
        DefenderClient(sandbox_settings(sandbox_url), journal) as dd,
        test_schedules.Harness(dd).run_test(size=(80, 24)) as pilot,
    ):
        app = pilot.app
        await until(pilot, lambda: any(r[0] == "weekly_1" for r in test_schedules.cells(app)))
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ScheduleForm))
        sent = request_counts(sandbox_url).get("UpdateScheduledAudit", 0)  # counted over the session
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Nothing to save" in str(app.screen.query_one("#form-error").render()))
        assert isinstance(app.screen, ScheduleForm)
        assert request_counts(sandbox_url).get("UpdateScheduledAudit", 0) == sent


async def test_an_unchanged_action_edit_asks_nothing_and_sends_nothing(lab, sandbox_url, journal) -> None:
    arn = make_role(sandbox_url, "MitigationDeactivateRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    make_client(sandbox_url).create_mitigation_action(
        actionName="Deactivate", roleArn=arn,
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )  # fmt: skip
    async with (
        DefenderClient(sandbox_settings(sandbox_url), journal) as dd,
        test_mitigation.Harness(dd).run_test(size=(80, 24)) as pilot,
    ):
        app = pilot.app
        await until(pilot, lambda: any(r[0] == "Deactivate" for r in test_mitigation.cells(app, "#actions")))
        app.query_one("#actions").focus()
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ActionForm))
        sent = request_counts(sandbox_url).get("UpdateMitigationAction", 0)  # counted over the session
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Nothing to save" in test_mitigation.form_error(app))
        assert isinstance(app.screen, ActionForm)
        assert request_counts(sandbox_url).get("UpdateMitigationAction", 0) == sent


async def test_an_empty_threshold_asks_for_a_number_of_days(lab: str) -> None:
    app = test_settings.make_app(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await test_settings.ready(pilot)
        await test_settings.cursor_to(pilot, "DEVICE_CERTIFICATE_AGE_CHECK")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ThresholdModal))
        app.screen.query_one("#threshold-input", Input).value = ""
        await pilot.press("enter")
        error = str(app.screen.query_one("#threshold-error").render())
        assert error == "Enter a number of days, 30 to 3652." and "''" not in error


async def test_a_cancel_dialog_has_no_two_cancel_buttons() -> None:
    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ConfirmModal("Cancel audit?", "body", "Cancel audit", "Keep it running"))
        await pilot.pause()
        labels = [str(b.label) for b in app.screen.query(Button)]
        assert labels == ["Cancel audit (y)", "Keep it running (n)"]


class OnePane(StandIn):
    def __init__(self, dd: DefenderClient, pane: type[Pane]) -> None:
        super().__init__(dd, settings=Settings(idle_poll_seconds=0.3))
        self.pane = pane

    def compose(self):
        yield self.pane()

    def on_mount(self) -> None:
        self.query_one(Pane).refresh_now()


@pytest.mark.parametrize(
    ("pane", "where"),
    [(SchedulesPane, "#heading"), (MitigationPane, "#actions-heading"), (SettingsPane, "#settings-account")],
)
async def test_a_throttled_pane_says_so_where_its_data_is_missing(
    aws_env, sandbox_url, journal, pane, where
) -> None:
    async with DefenderClient(sandbox_settings(sandbox_url), journal, tuning=FAST) as dd:
        runtime().options.throttle_rate = 1.0
        async with OnePane(dd, pane).run_test(size=(80, 24)) as pilot:
            shown = lambda: str(pilot.app.query_one(where).render())  # noqa: E731
            assert "loading" in shown().lower()  # before any answer: no "0" and no "none"
            await until(pilot, lambda: "throttled, retrying (" in shown())
            runtime().options.throttle_rate = 0.0
            await until(pilot, lambda: pilot.app.query_one(Pane).listed)
            assert "retrying" not in shown() and "loading" not in shown().lower(), shown()


class ConnectWords(DefenderApp):
    said: list[str]

    def _connecting_text(self, text: str) -> None:
        self.said = [*getattr(self, "said", []), text]
        super()._connecting_text(text)


async def test_a_throttled_connection_says_so(aws_env, sandbox_url) -> None:
    runtime().options.throttle_rate = 1.0  # the identity call (STS) too
    app = ConnectWords(sandbox_settings(sandbox_url), Settings(), None, tuning=FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: any("Cannot connect" in s for s in getattr(app, "said", [])))
        assert "Connecting to AWS… throttled, retrying (1)…" in app.said
