"""Every form refuses what AWS's model refuses: a clear message, nothing sent, what was typed kept.

No sandbox: a form that validates properly never reaches the client, and the stand-in client records
any call that gets through.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from iot_defender_tui.aws import catalogue
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.mitigation_forms import ActionForm
from iot_defender_tui.ui.panes.schedules_form import ScheduleForm
from iot_defender_tui.ui.panes.settings import ThresholdModal
from tests.support.standin import StandIn

LOGGING = "LOGGING_DISABLED_CHECK"
ROLE = "arn:aws:iam::123456789012:role/IoTMitigation"
TOPIC = "arn:aws:sns:us-east-1:123456789012:findings"
ARABIC_15 = "\u0661\u0665"  # Arabic-Indic 15: str.isdigit() and int() both take it
ARABIC_ACCOUNT = "\u0661" * 12


class Recorder:
    """The client's stand-in: every call is recorded and succeeds."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []

    def __getattr__(self, name: str):
        async def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))

        return call


class FormApp(StandIn):
    def __init__(self, screen) -> None:
        super().__init__(Recorder())
        self.form = screen
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.form, self.results.append)


async def _fill(pilot, values: dict[str, str]) -> None:
    form = pilot.app.form
    for widget_id, value in values.items():
        widget = form.query_one(f"#{widget_id}")
        widget.value = value
    await pilot.pause()


async def _save(pilot) -> str:
    """Press ctrl+s; confirm if asked. The form's error line afterwards."""
    await pilot.press("ctrl+s")
    await pilot.pause()
    if isinstance(pilot.app.screen, ConfirmModal):
        await pilot.press("y")
        await pilot.pause()
        await pilot.pause()
    if pilot.app.screen is not pilot.app.form:
        return ""  # saved and dismissed
    return str(pilot.app.form.query_one("#form-error", Static).render())


# -- the scheduled audit form ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "day",
    ["\u00b2", ARABIC_15, "0", "32", "1.5", "+5", "1_5", "-1", "LASTDAY", "15\u200b", "", "99999999999"],
)
async def test_a_bad_day_of_month_is_refused_and_kept(day):
    app = FormApp(ScheduleForm([LOGGING]))
    async with app.run_test(size=(80, 24)) as pilot:
        await _fill(pilot, {"name": "monthly", "frequency": "MONTHLY", "day": day})
        error = await _save(pilot)
        assert app.screen is app.form, "the form stays open"
        assert "Day of the month" in error
        assert app.form.query_one("#day", Input).value == day, "what was typed is kept"
        assert app.dd.calls == []


@pytest.mark.parametrize(("day", "sent"), [("15", "15"), ("last", "LAST"), ("07", "7"), (" 31 ", "31")])
async def test_a_good_day_of_month_is_sent_as_aws_spells_it(day, sent):
    app = FormApp(ScheduleForm([LOGGING]))
    async with app.run_test(size=(80, 24)) as pilot:
        await _fill(pilot, {"name": "monthly", "frequency": "MONTHLY", "day": day})
        await _save(pilot)
        assert [(name, kw["day_of_month"]) for name, _, kw in app.dd.calls] == [
            ("create_scheduled_audit", sent)
        ]


@pytest.mark.parametrize("name", ["", "a" * 129, "has space", "caf\u00e9", "x\u202ey", "n\u0661"])
async def test_a_bad_schedule_name_is_refused(name):
    app = FormApp(ScheduleForm([LOGGING]))
    async with app.run_test(size=(80, 24)) as pilot:
        await _fill(pilot, {"name": name})
        assert "Name" in await _save(pilot)
        assert app.dd.calls == [] and app.form.query_one("#name", Input).value == name


# -- the mitigation action form, each type --------------------------------------------------------------
def _action(kind: str, **fields: str) -> dict[str, str]:
    return {"name": "quarantine", "type": kind, "role": ROLE, **fields}


BAD_ACTIONS = [
    # (fields, the field the message names)
    (_action("UPDATE_DEVICE_CERTIFICATE", role=f"arn:aws:iam::{ARABIC_ACCOUNT}:role/x"), "Role"),
    (_action("UPDATE_DEVICE_CERTIFICATE", role=ROLE + "\u200b"), "Role"),  # zero-width: invisible
    (_action("UPDATE_DEVICE_CERTIFICATE", role=ROLE + "\u202e"), "Role"),
    (_action("UPDATE_DEVICE_CERTIFICATE", role=ROLE + "x" * 2048), "Role"),  # roleArn: 20-2048
    (_action("UPDATE_DEVICE_CERTIFICATE", role="arn:aws:iam::123456789012:role/a b"), "Role"),
    (_action("UPDATE_CA_CERTIFICATE", name="a" * 129), "Name"),
    (_action("REPLACE_DEFAULT_POLICY_VERSION", name="quar antine"), "Name"),
    (_action("ADD_THINGS_TO_THING_GROUP", groups=""), "Thing groups"),
    (_action("ADD_THINGS_TO_THING_GROUP", groups=",".join(f"g{i}" for i in range(11))), "Thing groups"),
    (_action("ADD_THINGS_TO_THING_GROUP", groups="quarantine, caf\u00e9"), "Thing groups"),
    (_action("ADD_THINGS_TO_THING_GROUP", groups="g" * 129), "Thing groups"),
    (_action("ENABLE_IOT_LOGGING", **{"log-role": f"arn:aws:iam::{ARABIC_ACCOUNT}:role/log"}), "logging"),
    (_action("ENABLE_IOT_LOGGING", **{"log-role": ""}), "logging"),
    (_action("PUBLISH_FINDING_TO_SNS", topic=f"arn:aws:sns:us-east-1:{ARABIC_ACCOUNT}:t"), "SNS topic"),
    (_action("PUBLISH_FINDING_TO_SNS", topic=TOPIC + "\u2066"), "SNS topic"),
    (_action("PUBLISH_FINDING_TO_SNS", topic=TOPIC + "!"), "SNS topic"),
    (_action("PUBLISH_FINDING_TO_SNS", topic=TOPIC + "x" * 340), "SNS topic"),  # topicArn: at most 350
    (_action("PUBLISH_FINDING_TO_SNS", topic="arn:aws:sns:US-EAST-1:123456789012:t"), "SNS topic"),
]


@pytest.mark.parametrize(("fields", "names"), BAD_ACTIONS)
async def test_a_bad_mitigation_action_is_refused_and_kept(fields, names):
    app = FormApp(ActionForm())
    async with app.run_test(size=(80, 24)) as pilot:
        await _fill(pilot, fields)
        error = await _save(pilot)
        assert app.screen is app.form
        assert names in error, error
        assert app.dd.calls == []
        for widget_id, value in fields.items():
            widget = app.form.query_one(f"#{widget_id}")
            assert widget.value == value, f"{widget_id} must keep what was typed"


GOOD_ACTIONS = [
    _action("UPDATE_DEVICE_CERTIFICATE", role="arn:aws:iam::123456789012:role/service-role/Io+T=,.@_-x"),
    _action("ADD_THINGS_TO_THING_GROUP", groups="quarantine, a:b_c-d"),
    _action("ENABLE_IOT_LOGGING", **{"log-role": ROLE}),
    _action("PUBLISH_FINDING_TO_SNS", topic=TOPIC),
    _action("PUBLISH_FINDING_TO_SNS", topic="arn:aws-cn:sns:cn-north-1:123456789012:alerts.fifo"),
]


@pytest.mark.parametrize("fields", GOOD_ACTIONS)
async def test_a_good_mitigation_action_is_sent(fields):
    app = FormApp(ActionForm())
    async with app.run_test(size=(80, 24)) as pilot:
        await _fill(pilot, fields)
        await _save(pilot)
        assert [name for name, _, _ in app.dd.calls] == ["create_mitigation_action"]


# -- the threshold modal ----------------------------------------------------------------------------
class ThresholdApp(StandIn):
    def __init__(self) -> None:
        super().__init__()
        info = catalogue.check_info("DEVICE_CERTIFICATE_AGE_CHECK")
        self.modal = ThresholdModal(info.title, info.parameters[0], 365)
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.modal, self.results.append)


@pytest.mark.parametrize("typed", ["\u0664\u0660\u0660", "+400", "4_00", "\u00b2", "400.0", "29", "3653", ""])
async def test_a_bad_threshold_is_refused_and_kept(typed):
    app = ThresholdApp()
    async with app.run_test(size=(80, 24)) as pilot:
        field = app.modal.query_one(Input)
        field.value = typed
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.modal and app.results == []
        assert "days" in str(app.modal.query_one("#threshold-error", Static).render())
        assert field.value == typed


async def test_a_good_threshold_is_taken():
    app = ThresholdApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.modal.query_one(Input).value = " 400 "
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [400]
