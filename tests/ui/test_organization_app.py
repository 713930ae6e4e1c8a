"""An AWS Organization in the app (issue 17): its accounts become contexts once listed, the overview (pane
0) shows each account-region with a broken role's error in its own row, enter switches to that context's
Results, and `--context` may name one of the organization's contexts."""

from __future__ import annotations

from pathlib import Path

import pytest

from iot_defender_tui.aws.session import ConnectionSettings
from iot_defender_tui.config import OrganizationSettings, Settings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.organization import plan, seed_organization
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.header import DefenderHeader
from iot_defender_tui.ui.panes.overview import OverviewPane
from iot_defender_tui.ui.panes.results import ResultsPane
from tests.support.sandbox import FAST, REGION
from tests.support.ui import until

REGIONS = (REGION, "eu-west-1")
MEMBERS = plan(3, seed=0, broken=[2])  # prod-1, staging-2 (its role not assumable), product-3


@pytest.fixture
def organization(sandbox_url: str, aws_env: Path) -> str:
    seed_fleet("lab")
    seed_organization(MEMBERS, seed=0)
    return sandbox_url


def make_app(url: str, open_context: str | None = None) -> DefenderApp:
    return DefenderApp(
        ConnectionSettings(region=REGION, endpoint_url=url),
        Settings(),
        None,
        tuning=FAST,
        organization=OrganizationSettings(regions=REGIONS),
        open_context=open_context,
    )


def rows(app: DefenderApp) -> dict[str, str]:
    panes = list(app.workspace.query(OverviewPane))
    if not panes:
        return {}
    table = panes[0].table
    return {str(key): " ".join(cell.plain for cell in table.row_cells(key)) for key in table.visible_keys()}


def header(app: DefenderApp) -> str:
    return str(app.query_one(DefenderHeader).render_text())


async def test_the_overview_lists_every_account_region_and_enter_switches(organization: str) -> None:
    app = make_app(organization)
    async with app.run_test(size=(80, 24)) as pilot:
        # Four accounts (the management's and three members) in two regions, each read or refused.
        await until(
            pilot, lambda: len(rows(app)) == 8 and "reading" not in " ".join(rows(app).values()), timeout=30
        )
        shown = rows(app)
        broken, working = MEMBERS[1], MEMBERS[0]
        for region in REGIONS:
            assert "AccessDenied" in shown[f"{broken.name}/{region}"]  # its role cannot be assumed
            assert broken.account_id in shown[f"{broken.name}/{region}"]  # known from ListAccounts
        assert "COMPLETED" in shown[f"master/{REGION}"]  # the lab, in the management account
        assert "no audit configuration" in shown["master/eu-west-1"]
        assert any("COMPLETED" in shown[f"{working.name}/{r}"] for r in REGIONS)

        table = app.workspace.query_one(OverviewPane).table
        target = next(r for r in REGIONS if "COMPLETED" in shown[f"{working.name}/{r}"])
        table.move_to_key(f"{working.name}/{target}")
        await pilot.press("enter")
        await until(pilot, lambda: f"ctx {working.name}/{target}" in header(app), timeout=20)
        await until(pilot, lambda: isinstance(app.current_pane(), ResultsPane))
        await until(pilot, lambda: f"account {working.account_id}" in header(app), timeout=20)


async def test_context_names_one_of_the_organizations(organization: str) -> None:
    name = f"{MEMBERS[2].name}/eu-west-1"
    app = make_app(organization, open_context=name)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: f"ctx {name}" in header(app), timeout=30)
        await until(pilot, lambda: f"account {MEMBERS[2].account_id}" in header(app), timeout=20)

    unknown = make_app(organization, open_context="nowhere/eu-west-1")
    async with unknown.run_test(size=(80, 24)) as pilot:
        await until(
            pilot,
            lambda: "no context named 'nowhere/eu-west-1'" in str(unknown.query_one("#status").render()),
            timeout=30,
        )
