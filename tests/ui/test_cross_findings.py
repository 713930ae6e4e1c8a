"""Findings of one check across contexts at 80x24 against the loopback sandbox (issue 17): the lab fleet
in two regions, a context that cannot be read, then a mitigation applied in both regions: the plan per
context, the action created where it is missing, one task per context; a read-only context refuses."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.contexts import Context
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.aws.session import ConnectionSettings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.ui.apply_checks import ApplyConfirm
from iot_defender_tui.ui.cross_mitigation import CrossMitigationScreen
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.cross_findings import CrossFindingsScreen
from iot_defender_tui.ui.pickers import PickerModal
from iot_defender_tui.ui.widgets.footer import Footer
from tests.support.fleet import FleetApp
from tests.support.mitigation import NEEDS, SHARED, make_role
from tests.support.sandbox import CREDENTIALS
from tests.support.ui import until

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import screenshots as world

EAST = Context("east", None, "us-east-1")
WEST = Context("west", None, "eu-west-1")
BROKEN = Context("broken", "no-such-profile", "us-west-2")


class JournaledFleet(FleetApp):
    """FleetApp whose clients may write (a journal of the test's own) and honour a context's read_only."""

    def __init__(self, url: str, contexts: list[Context], journal: Journal) -> None:
        super().__init__(url, contexts, share_sessions=False)
        self.journal = journal

    async def client_for(self, context: Context) -> DefenderClient:
        self.asked += 1
        if context.name not in self.clients:
            settings = ConnectionSettings(
                profile=context.profile,
                region=context.region,
                endpoint_url=self.url,
                read_only=context.read_only,
                context=context.name,
            )
            client = DefenderClient(settings, self.journal)
            self.clients[context.name] = await self._stack.enter_async_context(client)
        return self.clients[context.name]


def iot(url: str, region: str):
    return boto3.client("iot", endpoint_url=url, region_name=region, **CREDENTIALS)


def create_action(url: str, region: str, role_arn: str) -> None:
    iot(url, region).create_mitigation_action(
        actionName="DeactivateCert",
        roleArn=role_arn,
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )


def mitigation_tasks(url: str, region: str) -> list[dict]:
    reply = iot(url, region).list_audit_mitigation_actions_tasks(
        startTime=time.time() - 3600, endTime=time.time() + 60
    )
    return reply["tasks"]


@pytest.fixture
def fleet(sandbox_url: str, aws_env: Path) -> str:
    seed_fleet("lab", region="us-east-1")
    seed_fleet("lab", region="eu-west-1")
    return sandbox_url


def cells(screen: CrossFindingsScreen) -> list[list[str]]:
    table = screen.table
    return [[c.plain for c in table.row_cells(k)] for k in table.visible_keys()]


def text_of(widget) -> str:
    rendered = widget.render()
    return str(getattr(rendered, "plain", rendered))


async def open_screen(app: FleetApp, pilot) -> CrossFindingsScreen:
    await pilot.press("f")
    await until(pilot, lambda: isinstance(app.screen, PickerModal), "the check picker")
    await pilot.press(*"device_certificate_shared")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, CrossFindingsScreen), "the cross-context findings")
    screen = app.screen
    assert isinstance(screen, CrossFindingsScreen)
    await until(pilot, lambda: not screen.reading and screen.table.row_count == 2, "every context read")
    return screen


async def test_one_check_in_every_context_with_account_and_region_and_a_failed_context(
    fleet: str, journal: Journal
) -> None:
    app = JournaledFleet(fleet, [EAST, WEST, BROKEN], journal)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(app, pilot)
        rows = cells(screen)
        status = text_of(screen.query_one("#cross-status"))
        errors = text_of(screen.query_one("#cross-errors"))
        footer = text_of(screen.query_one(Footer))
        assert screen.check_name == SHARED
        # Filter narrows across contexts; escape clears it.
        await pilot.press("slash", *"eu-west")
        await until(pilot, lambda: screen.table.row_count == 1, "the filter applied")
        assert cells(screen)[0][:3] == ["west", "123456789012", "eu-west-1"]
        await pilot.press("enter", "escape")
        await until(pilot, lambda: screen.table.row_count == 2, "the filter cleared")
        asked = app.asked
        await pilot.press("r")  # read again: every context asked again, the same rows once each
        await until(
            pilot,
            lambda: app.asked == asked + 3 and not screen.reading and len(screen.sources) == 2,
            "read again",
        )
        assert screen.table.row_count == 2 and len(screen.findings) == 2 and len(screen.errors) == 1
    assert sorted(r[:4] for r in rows) == [
        ["east", "123456789012", "us-east-1", "CRITICAL"],
        ["west", "123456789012", "eu-west-1", "CRITICAL"],
    ]
    assert "3/3 contexts read, 1 failed" in status and "2 findings" in status
    assert errors.startswith("broken: ") and "no-such-profile" in errors
    for word in ("Mitigate", "Mark", "Filter", "Back"):
        assert word in footer


async def test_mitigation_in_two_regions_creates_the_missing_action_and_starts_one_task_each(
    fleet: str, journal: Journal
) -> None:
    create_action(
        fleet, "us-east-1", make_role(fleet, "MitigationDeactivateRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    )
    app = JournaledFleet(fleet, [EAST, WEST], journal)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(app, pilot)
        await pilot.press("A", "a")
        await until(pilot, lambda: isinstance(app.screen, CrossMitigationScreen), "the plan")
        plan = app.screen
        assert isinstance(plan, CrossMitigationScreen)
        await until(pilot, lambda: all(p.actions is not None for p in plan.plans), "every context's actions")
        body = text_of(plan.query_one("#cross-plan-body"))
        assert "east (123456789012, us-east-1): 1 finding" in body
        assert "DeactivateCert: present" in body and "DeactivateCert: MISSING here" in body
        # Creating it where missing: the same parameters, the account's role (IAM is per account).
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the creation's confirmation")
        asked = text_of(app.screen.query_one("#body"))
        assert "west (123456789012, eu-west-1)" in asked and "MitigationDeactivateRole" in asked
        await pilot.press("y")
        await until(pilot, lambda: all(p.has("DeactivateCert") for p in plan.plans), "the action created")
        assert (
            iot(fleet, "eu-west-1")
            .describe_mitigation_action(actionName="DeactivateCert")["roleArn"]
            .endswith("role/MitigationDeactivateRole")
        )
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ApplyConfirm), "the confirmation")
        confirmation = text_of(app.screen.query_one("#body"))
        assert "east (123456789012, us-east-1): 1 finding" in confirmation
        assert "west (123456789012, eu-west-1): 1 finding" in confirmation
        assert not mitigation_tasks(fleet, "us-east-1")  # nothing sent before the answer
        await pilot.press("y")
        await until(pilot, lambda: all(p.task_id for p in plan.plans), "a task per context")
        await pilot.press("enter")  # again: no second set
        await pilot.pause()
        shown = text_of(plan.query_one("#cross-plan-body"))
    assert len(mitigation_tasks(fleet, "us-east-1")) == 1
    assert len(mitigation_tasks(fleet, "eu-west-1")) == 1
    assert shown.count("started") == 2
    assert sorted(c for c in app.tracked_in if c) == ["east", "west"]
    assert len(app.tracked) == 2


async def test_a_read_only_context_is_refused_while_the_others_start(fleet: str, journal: Journal) -> None:
    role = make_role(fleet, "MitigationDeactivateRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    create_action(fleet, "us-east-1", role)
    create_action(fleet, "eu-west-1", role)
    west = Context("west", None, "eu-west-1", read_only=True)
    app = JournaledFleet(fleet, [EAST, west], journal)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(app, pilot)
        await pilot.press("A", "a")
        await until(pilot, lambda: isinstance(app.screen, CrossMitigationScreen), "the plan")
        plan = app.screen
        assert isinstance(plan, CrossMitigationScreen)
        await until(pilot, lambda: all(p.actions is not None for p in plan.plans), "every context's actions")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ApplyConfirm), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: all(p.outcome for p in plan.plans), "each context's outcome")
        outcomes = {p.context.name: p.outcome for p in plan.plans}
    assert outcomes["east"].startswith("Mitigation task") and "started" in outcomes["east"]
    assert outcomes["west"].startswith("refused:") and "ead-only" in outcomes["west"]
    assert len(mitigation_tasks(fleet, "us-east-1")) == 1
    assert not mitigation_tasks(fleet, "eu-west-1")


def test_cross_findings_80x24(
    snap_compare: Any, sandbox_url: str, aws_env: Path, utc: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen at 80x24: both regions' findings, the failed context's line, the status and keys."""
    world.prepare(sandbox_url)  # deterministic ids, the lab in us-east-1
    seed_fleet("lab", region="eu-west-1")
    world.freeze_ui_clock(monkeypatch.setattr)
    app = FleetApp(sandbox_url, [EAST, WEST, BROKEN])

    async def drive(pilot: Any) -> None:
        screen = await open_screen(app, pilot)
        await pilot.press("o")  # sorted by context: rows come in the order the contexts answer
        await until(pilot, lambda: screen.table.visible_keys()[0][0] == "east", "sorted by context")
        await pilot.press("home", "space")  # the first one marked (the cursor followed its row)

    assert snap_compare(app, terminal_size=(80, 24), run_before=drive)


async def test_in_another_account_the_missing_action_gets_a_role_of_its_own(
    fleet: str, journal: Journal
) -> None:
    create_action(
        fleet, "us-east-1", make_role(fleet, "MitigationDeactivateRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    )
    # The sandbox is one account: the context says it is another (as an organization's contexts do).
    other = Context("member", None, "eu-west-1", account_id="111122223333")
    app = JournaledFleet(fleet, [EAST, other], journal)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(app, pilot)
        await pilot.press("A", "a")
        await until(pilot, lambda: isinstance(app.screen, CrossMitigationScreen), "the plan")
        plan = app.screen
        assert isinstance(plan, CrossMitigationScreen)
        await until(pilot, lambda: all(p.actions is not None for p in plan.plans), "every context's actions")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the creation's confirmation")
        asked = text_of(app.screen.query_one("#body"))
        await pilot.press("y")
        await until(pilot, lambda: all(p.has("DeactivateCert") for p in plan.plans), "the action created")
        shown = text_of(plan.query_one("#cross-plan-body"))
    assert "role IoTMitigation-DeactivateCert: created in account 111122223333" in asked
    assert "iot:UpdateCertificate" in asked  # what the new role may do, before it is made
    assert "created DeactivateCert and role IoTMitigation-DeactivateCert" in shown
    created = iot(fleet, "eu-west-1").describe_mitigation_action(actionName="DeactivateCert")
    assert created["roleArn"].endswith("role/IoTMitigation-DeactivateCert")
    assert created["actionParams"] == {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}
