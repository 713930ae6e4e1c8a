"""The posture trend screen (ui/trend.py) on hand-made Trends: what a user reads in its chart's table and
title, the switch to per-check series and back, picking the checks shown, the empty state, a loader run
off the event loop (and its failure), escape; snapshots at 80x24 and 60x20."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.widgets import DataTable, Static
from textual_plot import PlotWidget

from iot_defender_tui.history.models import Trend, TrendPoint
from iot_defender_tui.ui.trend import EMPTY, TOP, TrendScreen, ranked_checks, time_ticks
from iot_defender_tui.ui.widgets.footer import Footer
from tests.support.standin import StandIn
from tests.support.ui import until

START = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
# (check, severity, findings in each audit): a check missing from an audit did not run in it.
CHECKS: dict[str, tuple[str, tuple[int, ...]]] = {
    "DEVICE_CERTIFICATE_EXPIRING_CHECK": ("MEDIUM", (4, 4, 6, 5, 3, 2)),
    "LOGGING_DISABLED_CHECK": ("LOW", (1, 1, 1, 1, 1, 1)),
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK": ("CRITICAL", (9, 7, 7, 4, 5, 3)),
    "CA_CERTIFICATE_KEY_QUALITY_CHECK": ("CRITICAL", (0, 0, 1, 1, 1, 0)),
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK": ("MEDIUM", (2, 3, 3, 3, 4, 6)),
    "DEVICE_CERTIFICATE_SHARED_CHECK": ("CRITICAL", (5, 5, 2, 2, 0, 0)),
    "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK": ("CRITICAL", (0, 0, 0, 0, 0, 0)),
}


def make_trend(audits: int = 6, account: str = "123456789012", every: timedelta = timedelta(days=1)) -> Trend:
    points = []
    for n in range(audits):
        by_check = {name: counts[n % len(counts)] for name, (_, counts) in CHECKS.items()}
        by_severity = {s: 0 for s in ("CRITICAL", "HIGH", "MEDIUM", "LOW")}
        for name, (severity, _) in CHECKS.items():
            by_severity[severity] += by_check[name]
        points.append(
            TrendPoint(f"task-{n}", START + n * every, "SCHEDULED_AUDIT_TASK", by_check, by_severity)
        )
    return Trend(account, "eu-west-1", tuple(points))


def title(screen: TrendScreen) -> str:
    return str(screen.query_one("#trend-title", Static).render())


def rows(screen: TrendScreen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(n)] for n in range(table.row_count)]


def header(screen: TrendScreen) -> list[str]:
    return [str(column.label) for column in screen.query_one(DataTable).ordered_columns]


def footer(screen: TrendScreen) -> str:
    return screen.query_one(Footer).hint_text(80).plain


async def opened(app: StandIn, pilot: Any, trend: Any) -> TrendScreen:
    screen = TrendScreen(trend)
    await app.push_screen(screen)
    await pilot.pause()
    return screen


async def test_severity_series_are_named_with_the_latest_audit_against_the_previous(utc: None) -> None:
    app = StandIn()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, make_trend())
        assert title(screen) == "Posture trend · 123456789012 eu-west-1 · 6 audits"
        assert header(screen) == ["Findings by severity", "Dec 02", "Dec 03", "Change"]
        # The series' colour mark, its name; the previous audit, the latest, and which way it went.
        assert rows(screen) == [
            ["━━ CRITICAL", "6", "3", "▼ 3"],
            ["━━ HIGH", "0", "0", "= 0"],
            ["━━ MEDIUM", "7", "8", "▲ 1"],
            ["━━ LOW", "1", "1", "= 0"],
        ]
        assert len(screen.query_one(PlotWidget)._datasets) == 4  # a line per severity
        assert "c By check" in footer(screen) and "esc Back" in footer(screen)
        assert "Show/hide" not in footer(screen)  # nothing to pick among severities


async def test_c_switches_to_the_checks_with_most_findings_and_space_picks_others(utc: None) -> None:
    app = StandIn()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, make_trend())
        await pilot.press("c")
        assert header(screen)[0] == "Findings by check (space: show)"
        names = [row[0] for row in rows(screen)]
        # Most findings in the latest audit first; the first five drawn (a colour mark), the rest not.
        assert names[:3] == [
            "━━ REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
            "━━ IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
            "━━ DEVICE_CERTIFICATE_EXPIRING_CHECK",
        ]
        assert sum(name.startswith("━━") for name in names) == TOP
        # Not drawn (no mark), and cut to fit.
        assert names[-1].startswith("   UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE")
        assert names[-1].endswith("…")
        assert list(screen.shown) == ranked_checks(screen.trend)[:TOP]
        assert len(screen.query_one(PlotWidget)._datasets) == TOP
        assert "c By severity" in footer(screen) and "space Show/hide" in footer(screen)

        await pilot.press(*["down"] * (len(names) - 1), "space")  # the last check: shown
        assert rows(screen)[-1][0].startswith("━━ UNAUTHENTICATED")
        assert len(screen.query_one(PlotWidget)._datasets) == TOP + 1
        await pilot.press(*["up"] * (len(names) - 1), "space")  # the first: hidden
        assert rows(screen)[0][0].startswith("   REVOKED")
        assert "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK" not in screen.shown
        assert len(set(screen.shown.values())) == len(screen.shown)  # no two drawn alike

        await pilot.press("c")
        assert header(screen)[0] == "Findings by severity"
        assert [row[0] for row in rows(screen)] == ["━━ CRITICAL", "━━ HIGH", "━━ MEDIUM", "━━ LOW"]


async def test_a_check_an_audit_did_not_run_is_no_zero(utc: None) -> None:
    trend = make_trend(3)
    latest = trend.points[-1]
    by_check = {k: v for k, v in latest.by_check.items() if k != "LOGGING_DISABLED_CHECK"}
    trend = Trend(
        trend.account,
        trend.region,
        (
            *trend.points[:-1],
            TrendPoint(latest.task_id, latest.start_time, latest.task_type, by_check, latest.by_severity),
        ),
    )
    app = StandIn()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, trend)
        await pilot.press("c")
        logging = next(row for row in rows(screen) if "LOGGING_DISABLED_CHECK" in row[0])
        assert logging[1:] == ["1", "-", "-"]


async def test_no_stored_audit_says_how_to_get_some_and_escape_closes() -> None:
    app = StandIn()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, Trend("123456789012", "eu-west-1"))
        empty = screen.query_one("#trend-empty", Static)
        assert empty.display and str(empty.render()) == EMPTY
        assert not screen.query_one(PlotWidget).display and not screen.query_one(DataTable).display
        assert "By check" not in footer(screen)
        await pilot.press("c")  # nothing to switch to, and no error
        await pilot.press("escape")
        assert app.screen is not screen
        assert app.errors == []


async def test_one_audit_is_a_mark_without_a_previous(utc: None) -> None:
    app = StandIn()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, make_trend(1))
        assert title(screen).endswith("· 1 audit")
        assert header(screen)[1:] == ["Previous", "Nov 28 06:00", "Change"]
        assert rows(screen)[0] == ["━━ CRITICAL", "-", "14", "-"]
        await pilot.press("q")
        assert app.screen is not screen


async def test_a_loader_runs_off_the_event_loop_and_r_reads_again() -> None:
    calls: list[int] = []

    def load() -> Trend:
        calls.append(1)
        return make_trend(2 + len(calls))

    app = StandIn()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, load)
        await until(pilot, lambda: "· 3 audits" in title(screen), "the loaded trend")
        await pilot.press("r")
        await until(pilot, lambda: "· 4 audits" in title(screen), "the trend read again")
        assert len(calls) == 2


async def test_a_store_that_cannot_be_read_is_said_and_escape_still_closes() -> None:
    def load() -> Trend:
        raise RuntimeError("database disk image is malformed")

    app = StandIn()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, load)
        said = lambda: str(screen.query_one("#trend-empty", Static).render())  # noqa: E731
        await until(pilot, lambda: "malformed" in said(), "the error")
        assert said().startswith("Could not read the stored audits: RuntimeError")
        assert app.errors  # the status line has it too
        await pilot.press("escape")
        assert app.screen is not screen


async def test_two_audits_at_one_moment_still_draw(utc: None) -> None:
    trend = make_trend(2, every=timedelta(0))
    app = StandIn()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, trend)
        assert screen.query_one(PlotWidget).display and rows(screen)[0][0] == "━━ CRITICAL"
        assert app.errors == []


async def test_hostile_account_text_is_not_markup() -> None:
    app = StandIn()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(app, pilot, make_trend(2, account="[bold]x[/"))
        assert "[bold]x[/" in title(screen)


def test_time_ticks_are_few_distinct_and_end_at_the_audits(utc: None) -> None:
    days = [START + timedelta(days=n) for n in range(10)]
    ticks, labels = time_ticks(days)
    assert len(ticks) == 5 and labels[0] == "Nov 28" and labels[-1] == "Dec 07"
    assert ticks[0] == days[0].timestamp() and ticks[-1] == days[-1].timestamp()
    minutes = [START + timedelta(minutes=n) for n in range(3)]  # the sandbox's one-minute days
    assert time_ticks(minutes)[1] == ["06:00", "06:01", "06:02"]
    twice_a_day = [START + timedelta(hours=12 * n) for n in range(6)]
    assert len(set(time_ticks(twice_a_day)[1])) == len(time_ticks(twice_a_day)[1])


async def show_trend(pilot: Any) -> None:
    await pilot.app.push_screen(TrendScreen(make_trend()))
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_trend_snapshot(snap_compare: Any, utc: None, size: tuple[int, int]) -> None:
    assert snap_compare(StandIn(), terminal_size=size, run_before=show_trend)


def test_a_day_apart_is_labelled_by_day_and_one_moment_twice_draws(utc: None) -> None:
    assert time_ticks([START, START + timedelta(days=1)])[1] == ["Nov 28", "Nov 29"]
    assert time_ticks([START, START])[1] == ["Nov 28 06:00"]
