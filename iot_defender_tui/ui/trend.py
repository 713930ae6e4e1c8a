"""Posture trend: non-compliant findings of every stored audit, per severity or per check, as a line chart
(textual-plot), with the latest audit against the previous one in a table under it.

The screen gets a `Trend` (or a function loading one, run in a thread): it knows nothing of the store.
The table is also the chart's legend (each series' colour) and, per check, the list of series to show:
the five checks with the most findings in the latest audit at first, space shows or hides the others.

Only our words reach the chart, which draws its labels as markup: severities, check names and times we
format. Task ids (from AWS) are never drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState
from textual_plot import HiResMode, PlotWidget
from textual_plot.axis_formatter import AxisFormatter, NumericAxisFormatter

from ..history.models import Trend, TrendPoint
from .format import plural, short_time
from .screen import DefenderScreen, error_text
from .widgets.footer import Footer

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
# Colours of the 256-colour palette (16 to 255), which terminals agree on, unlike the 16 ANSI colours that
# each terminal (and Textual's ANSI theme) draws its own way: Monokai's red and magenta are one pink.
# Close to the findings list's (CRITICAL red, MEDIUM yellow, LOW cyan), but HIGH is orange, not a second red.
SEVERITY_STYLE = {"CRITICAL": "red1", "HIGH": "dark_orange", "MEDIUM": "yellow1", "LOW": "deep_sky_blue1"}
PALETTE = ("red1", "green1", "yellow1", "dodger_blue1", "magenta1", "cyan1", "dark_orange", "grey85")
TOP = 5  # checks shown at first: enough lines to tell apart at 80x24
EMPTY = "No stored audits yet: open a completed audit, or run `iot-defender-tui history sync`."
MARK = "━━"


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: tuple[float, ...]  # one per audit, oldest first; NaN where the audit did not run the check
    style: str


def severity_series(trend: Trend) -> list[Series]:
    return [
        Series(s, tuple(float(p.by_severity.get(s, 0)) for p in trend.points), SEVERITY_STYLE[s])
        for s in SEVERITIES
    ]


def check_values(trend: Trend, check: str) -> tuple[float, ...]:
    return tuple(float(p.by_check[check]) if check in p.by_check else math.nan for p in trend.points)


def ranked_checks(trend: Trend) -> list[str]:
    """Every check, most findings in the latest audit first (then the most at any time, then by name)."""
    latest = trend.points[-1].by_check if trend.points else {}

    def most(check: str) -> int:
        return max((p.by_check.get(check, 0) for p in trend.points), default=0)

    return sorted(trend.checks, key=lambda c: (-latest.get(c, 0), -most(c), c))


def change_text(previous: float | None, latest: float | None) -> Text:
    """More findings is worse (red ▲), fewer better (green ▼)."""
    if previous is None or latest is None or math.isnan(previous) or math.isnan(latest):
        return Text("-", style="dim")
    delta = int(latest - previous)
    if delta > 0:
        return Text(f"▲ {delta}", style="red")
    if delta < 0:
        return Text(f"▼ {-delta}", style="green")
    return Text("= 0", style="dim")


def count_text(value: float | None) -> Text:
    return Text("-" if value is None or math.isnan(value) else str(int(value)), justify="right")


def time_label_format(first: datetime, last: datetime) -> str:
    """Days when the audits span a day or more (an hour would repeat), else hours and minutes: 6 cells at
    most, so 5 labels fit 60 columns."""
    if first == last:
        return "%b %d %H:%M"  # a lone audit: when, whole
    return "%b %d" if (last - first).total_seconds() >= 86400 else "%H:%M"


def time_ticks(times: Sequence[datetime], most: int = 5) -> tuple[list[float], list[str]]:
    """Ticks at audits (first and last always), at most `most`, no label twice; local time."""
    if not times:
        return [], []
    fmt = time_label_format(times[0], times[-1])
    if len(times) <= most:
        chosen = list(times)
    else:
        step = (len(times) - 1) / (most - 1)
        chosen = [times[round(i * step)] for i in range(most)]
    ticks: list[float] = []
    labels: list[str] = []
    for moment in chosen:
        label = moment.astimezone().strftime(fmt)
        if label in labels:
            continue
        ticks.append(moment.timestamp())
        labels.append(label)
    return ticks, labels


def column_labels(previous: TrendPoint | None, latest: TrendPoint, fmt: str) -> tuple[str, str]:
    """The table's two audits, as the x axis names them (`fmt`), or in full when that names them alike."""
    if previous is None:
        return "Previous", latest.start_time.astimezone().strftime(fmt)
    labels = tuple(p.start_time.astimezone().strftime(fmt) for p in (previous, latest))
    if labels[0] == labels[1]:
        return short_time(previous.start_time), short_time(latest.start_time)
    return labels[0], labels[1]


class TimeFormatter(AxisFormatter):
    """x is a POSIX time; the ticks are set (time_ticks), only their labels are asked for."""

    def __init__(self, ticks: list[float], labels: list[str]) -> None:
        self._labels = dict(zip(ticks, labels, strict=True))

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        return [t for t in self._labels if min_ <= t <= max_]

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return [self._labels.get(t, "") for t in ticks]


class CountFormatter(NumericAxisFormatter):
    """Findings are whole: no 0.5 tick; and at most 4 steps, legible in the chart's 10 rows at 80x24."""

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 4) -> list[float]:
        return [t for t in super().get_ticks(min_, max_, min(max_ticks, 4)) if t >= 0 and t == int(t)]

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return [str(int(t)) for t in ticks]


class TrendScreen(DefenderScreen[None]):
    """Non-compliant findings of every stored audit of one account and region, oldest to newest."""

    DEFAULT_CSS = """
    TrendScreen #trend-title { height: 1; padding: 0 1; background: $panel; }
    TrendScreen #trend-empty { padding: 1 2; }
    TrendScreen PlotWidget { height: 1fr; min-height: 6; }
    TrendScreen #trend-table { height: auto; max-height: 8; }
    """
    BINDINGS = [
        # One key, two bindings: the footer says where `c` goes (check_action hides the other).
        Binding("c", "series(True)", "By check", id="trend-by-check"),
        Binding("c", "series(False)", "By severity", id="trend-by-severity"),
        Binding("space", "toggle_check", "Show/hide", id="trend-toggle"),
        Binding("escape,q", "close", "Back", id="trend-close"),
        Binding("r", "reload", "Reload", id="trend-reload"),
    ]

    def __init__(self, trend: Trend | Callable[[], Trend]) -> None:
        super().__init__()
        self._load = trend if callable(trend) else None
        self.trend: Trend | None = None if callable(trend) else trend
        self.by_check = False
        self.shown: dict[str, str] = {}  # checks drawn -> their colour
        self._order: list[str] = []  # the checks, as the table lists them
        self._said = "Loading the stored audits…"

    # -- what the user sees --

    def compose(self) -> ComposeResult:
        yield Static(id="trend-title")
        yield Static(id="trend-empty")
        yield PlotWidget(id="trend-plot", allow_pan_and_zoom=False)
        yield DataTable(id="trend-table", cursor_type="row", zebra_stripes=False)
        yield Footer()

    def on_mount(self) -> None:
        plot = self.query_one(PlotWidget)
        plot.can_focus = False  # its arrows pan: the table's arrows pick a check
        plot.margin_top = 0  # no y label: the title says what is counted
        plot.margin_bottom = 1
        if self.trend is None:
            self.load()
        else:
            self._got(self.trend)
        self.query_one(DataTable).focus()

    def drawn_series(self) -> list[Series]:
        if self.trend is None:
            return []
        if not self.by_check:
            return severity_series(self.trend)
        return [Series(c, check_values(self.trend, c), self.shown[c]) for c in self._order if c in self.shown]

    def _show(self) -> None:
        trend = self.trend
        empty = trend is None or not trend.points
        self.query_one("#trend-title", Static).update(self._title())
        self.query_one("#trend-empty", Static).update(Text(EMPTY if trend is not None else self._said))
        self.query_one("#trend-empty").display = empty
        self.query_one(PlotWidget).display = not empty
        self.query_one(DataTable).display = not empty
        if not empty:
            self._draw()
            self._fill_table()
        self.refresh_bindings()

    def _title(self) -> Text:
        trend = self.trend
        if trend is None:
            return Text("Posture trend", style="bold")
        text = Text(f"Posture trend · {trend.account} {trend.region}", style="bold")
        if trend.points:
            text.append(f" · {plural(len(trend.points), 'audit')}", style="dim")
        return text

    def _draw(self) -> None:
        assert self.trend is not None
        points = self.trend.points
        xs = [p.start_time.timestamp() for p in points]
        plot = self.query_one(PlotWidget)
        plot.clear()
        drawn = self.drawn_series()
        top = max((v for s in drawn for v in s.values if not math.isnan(v)), default=0.0)
        # A cell has one colour: where lines meet, the last drawn shows. The table's first (the most severe,
        # or the check with most findings) is drawn last.
        for s in reversed(drawn):
            if len(points) > 1:
                plot.plot(xs, s.values, line_style=s.style, hires_mode=HiResMode.BRAILLE)
            else:  # a line needs two audits: one is a mark
                plot.scatter(xs, s.values, marker="●", marker_style=s.style)
        ticks, labels = time_ticks([p.start_time for p in points])
        plot.set_x_formatter(TimeFormatter(ticks, labels))
        plot.set_y_formatter(CountFormatter())
        plot.margin_left = len(str(int(top))) + 3
        # Exactly the audits: the first and last labels then align to the ends instead of being cut there.
        pad = 0.0 if xs[-1] > xs[0] else 3600.0
        plot.set_xlimits(xs[0] - pad, xs[-1] + pad)
        high = max(top * 1.1, top + 1, 4)
        plot.set_ylimits(-high * 0.1, high)  # a series at 0 is drawn above the axis, not into it

    def _fill_table(self) -> None:
        assert self.trend is not None
        points = self.trend.points
        latest: TrendPoint = points[-1]
        previous: TrendPoint | None = points[-2] if len(points) > 1 else None
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        table.show_cursor = self.by_check  # a row to show or hide; severities are always all drawn
        before_label, latest_label = column_labels(
            previous, latest, time_label_format(points[0].start_time, latest.start_time)
        )
        numbers = max(6, len(before_label), len(latest_label))
        # The series' colour, then its name, cut to the width left by the numbers (cells' padding: 2 each).
        name_width = max(12, self.size.width - 2 * numbers - 7 - 2 * 4 - 2)
        title = "Findings by check (space: show)" if self.by_check else "Findings by severity"
        table.add_column(title, key="name", width=name_width)
        table.add_column(Text(before_label, justify="right"), key="prev", width=numbers)
        table.add_column(Text(latest_label, justify="right"), key="latest", width=numbers)
        table.add_column("Change", key="change", width=7)
        if self.by_check:
            rows = [(c, check_values(self.trend, c), self.shown.get(c)) for c in self._order]
        else:
            rows = [(s.name, s.values, s.style) for s in severity_series(self.trend)]
        for name, values, style in rows:
            before = values[-2] if previous else None
            cell = Text(MARK, style=style) if style else Text(" " * len(MARK))
            room = name_width - len(MARK) - 1
            cell.append(" ")
            cell.append(name if len(name) <= room else name[: room - 1] + "…", style="" if style else "dim")
            table.add_row(
                cell, count_text(before), count_text(values[-1]), change_text(before, values[-1]), key=name
            )
        if rows:
            table.move_cursor(row=min(max(row, 0), len(rows) - 1))

    def on_resize(self) -> None:
        if self.trend is not None and self.trend.points:
            self._fill_table()  # the names' column takes the width there is

    # -- loading --

    @work(thread=True, exclusive=True, name="reading the stored audits", group="trend", exit_on_error=False)
    def load(self) -> Trend:
        assert self._load is not None
        return self._load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)
        if event.worker.group == "trend" and event.state == WorkerState.SUCCESS:
            self._got(event.worker.result)

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        self._said = f"Could not read the stored audits: {error_text(worker)}"
        self._show()

    def _got(self, trend: Trend) -> None:
        self.trend = trend
        self._order = ranked_checks(trend)
        kept = [c for c in self.shown if c in trend.checks]
        self.shown = {}
        for check in kept or self._order[:TOP]:
            self._colour(check)
        self._show()

    def _colour(self, check: str) -> None:
        used = set(self.shown.values())
        free = [c for c in PALETTE if c not in used]
        self.shown[check] = free[0] if free else PALETTE[len(self.shown) % len(PALETTE)]

    # -- keys --

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        has_points = self.trend is not None and bool(self.trend.points)
        if action == "toggle_check":
            return self.by_check and has_points
        if action == "series":
            return has_points and parameters == (not self.by_check,)
        if action == "reload":
            return self._load is not None
        return True

    def action_series(self, by_check: bool) -> None:
        self.by_check = by_check
        self.query_one(DataTable).move_cursor(row=0)
        self._show()

    def action_toggle_check(self) -> None:
        table = self.query_one(DataTable)
        if not self._order or table.cursor_row < 0:
            return
        check = self._order[table.cursor_row]
        if check in self.shown:
            del self.shown[check]
        else:
            self._colour(check)
        self._show()

    def action_reload(self) -> None:
        if self._load is not None:
            self._said = "Loading the stored audits…"
            self._show()
            self.load()

    def action_close(self) -> None:
        self.dismiss(None)
