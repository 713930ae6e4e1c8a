"""Findings of one check across contexts at 80x24 against the loopback sandbox (issue 17): the lab fleet
in two regions, a context that cannot be read, then a mitigation applied in both regions: the plan per
context, the action created where it is missing, one task per context; a read-only context refuses."""

from __future__ import annotations

import time
from pathlib import Path

import boto3
import pytest

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.contexts import Context
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.aws.session import ConnectionSettings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.ui.panes.cross_findings import CrossFindingsScreen
from iot_defender_tui.ui.pickers import PickerModal
from iot_defender_tui.ui.widgets.footer import Footer
from tests.support.fleet import FleetApp
from tests.support.mitigation import SHARED
from tests.support.sandbox import CREDENTIALS
from tests.support.ui import until

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
    await until(pilot, lambda: not screen.loading and screen.table.row_count == 2, "every context read")
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
    assert sorted(r[:4] for r in rows) == [
        ["east", "123456789012", "us-east-1", "CRITICAL"],
        ["west", "123456789012", "eu-west-1", "CRITICAL"],
    ]
    assert "3/3 contexts read, 1 failed" in status and "2 findings" in status
    assert errors.startswith("broken: ") and "no-such-profile" in errors
    for word in ("Mark", "Filter", "Back"):
        assert word in footer
