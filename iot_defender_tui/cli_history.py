"""`iot-defender-tui history sync|prune|trend`: the local audit history (issue 14) from the command line.

A sibling of cli.py that cli.py registers; it imports nothing of cli.py (no import cycle): the helpers
both use are in cli_common.py. Exit codes: 0 done, 1 an AWS, network or history error (one line,
never a traceback), 2 a usage or config error, 130 interrupted (the next sync resumes).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC
from typing import TYPE_CHECKING, Any

from .cli_common import add_connection_flags, fail, plain, stdout_pipe
from .config import Settings, history_path

if TYPE_CHECKING:
    from .history.models import Trend
    from .history.sync import SyncState

LoadSettings = Callable[[argparse.Namespace], Settings | None]
_WHOLE = re.compile(r"[0-9]+")


def _days(low: int, high: int | None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = text.strip()
        if not _WHOLE.fullmatch(value) or int(value) < low or (high is not None and int(value) > high):
            upto = f"from {low} to {high}" if high is not None else f"≥ {low}"
            raise argparse.ArgumentTypeError(f"expected a whole number of days {upto}, got {text!r}")
        return int(value)

    return parse


def add_history_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Add `history` and its commands to cli's subparsers; returns the parsers that read the config."""
    history = commands.add_parser(
        "history",
        help="the local audit history: sync it from AWS, prune it, print the posture trend",
        description=f"The local audit history ({history_path()}): every completed audit the app has "
        "read, kept past AWS's 90 days.",
    )
    actions = history.add_subparsers(dest="history_command", metavar="COMMAND", required=True)
    sync = actions.add_parser(
        "sync",
        help="store every completed audit of the last DAYS days that the history lacks",
        description="Store every completed audit of the account and region started in the last DAYS "
        "days, with its check results and findings, paced to AWS's quotas (ListAuditFindings: 10 "
        "requests/s). Resumable: an interrupted sync starts again at the first check it had not finished.",
    )
    sync.add_argument(
        "--since",
        type=_days(1, 90),
        default=90,
        metavar="DAYS",
        help="audits started in the last DAYS days, 1 to 90 (default 90: all that AWS keeps)",
    )
    prune = actions.add_parser(
        "prune",
        help="delete the stored audits older than DAYS days",
        description="Delete, in every account and region, the stored audits that started more than DAYS "
        "days ago, with their findings.",
    )
    prune.add_argument("--keep", type=_days(0, None), required=True, metavar="DAYS", help="days to keep")
    trend = actions.add_parser(
        "trend",
        help="print the posture trend: non-compliant findings per check across the stored audits",
        description="Print non-compliant findings per check of every stored completed audit, oldest "
        "first, for the connected account and region. The account is asked of AWS (STS "
        "GetCallerIdentity), so this needs a connection even though the findings come from the history.",
    )
    form = trend.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="JSON: account, region and one row per check")
    form.add_argument("--csv", action="store_true", help="CSV: one row per audit and check")
    for parser in (sync, trend):
        add_connection_flags(parser)
    sync.add_argument(
        "--no-rate-limit", action="store_true", help="do not pace requests to AWS's per-API quotas"
    )
    return [sync, trend]


def run_history(args: argparse.Namespace, load_settings: LoadSettings) -> int:
    if args.history_command == "prune":
        return run_prune(args.keep)
    settings = load_settings(args)
    if settings is None:
        return 2
    if args.history_command == "sync":
        return run_sync(args, settings)
    return run_trend(args, settings)


def run_prune(keep: int) -> int:
    from .history.store import AuditStore, HistoryError

    path = history_path()
    if not path.exists():  # nothing to prune: do not create the file for it
        print(f"Removed 0 audits older than {keep} days ({path} does not exist)")
        return 0
    try:
        with AuditStore.open(path) as store:
            removed = store.prune(keep)
    except HistoryError as err:
        return fail(err)
    print(f"Removed {removed} {'audit' if removed == 1 else 'audits'} older than {keep} days")
    return 0


def _client_for(args: argparse.Namespace, settings: Settings) -> Any:
    from .aws.client import DefenderClient
    from .aws.session import connection_for, tuning_for

    # Read-only: the history only reads AWS (and no journal is opened, so no write could be recorded).
    connection = dataclasses.replace(connection_for(args, settings), read_only=True)
    return DefenderClient(connection, tuning=tuning_for(args, settings))


def run_sync(args: argparse.Namespace, settings: Settings) -> int:
    from .aws.errors import AwsError
    from .history.store import AuditStore, HistoryError
    from .history.sync import SyncState, sync

    state = SyncState()
    started = time.monotonic()
    progress = _Progress(started) if sys.stderr.isatty() else None

    async def run() -> None:
        # The file first: a damaged or newer history is said before anything is asked of AWS.
        with AuditStore.open() as store:
            async with _client_for(args, settings) as dd:
                report = progress.update if progress else _plain_line
                await sync(dd, store, args.since, state=state, report=report)

    try:
        try:
            asyncio.run(run())
        finally:
            if progress:
                progress.stop()
    except KeyboardInterrupt:
        print(
            f"iot-defender-tui: interrupted: {state.tasks_done} of {state.tasks_total} audits and "
            f"{state.checks_fetched} checks stored ({state.findings} findings); run `history sync` again "
            "to resume",
            file=sys.stderr,
        )
        return 130
    except (AwsError, HistoryError) as err:
        return fail(err)
    elapsed = time.monotonic() - started
    fresh = state.tasks_done - state.tasks_already
    print(
        f"Synced {fresh} {'audit' if fresh == 1 else 'audits'} of account {state.account} in "
        f"{state.region} ({state.tasks_already} already stored): {state.checks_fetched} checks, "
        f"{state.findings} findings in {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


def _plain_line(_state: SyncState, line: str | None) -> None:
    if line is not None:
        print(plain(line), file=sys.stderr, flush=True)


class _Progress:
    """A progress bar on a terminal's stderr: audits done of total, findings stored, findings per second."""

    def __init__(self, started: float):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.started = started
        self.bar = Progress(
            TextColumn("audits"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[findings]} findings · {task.fields[rate]}/s"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.task = self.bar.add_task("sync", total=None, findings=0, rate="0")
        self.bar.start()

    def update(self, state: SyncState, _line: str | None) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.bar.update(
            self.task,
            total=state.tasks_total,
            completed=state.tasks_done,
            findings=state.findings,
            rate=f"{state.findings / elapsed:.0f}",
        )

    def stop(self) -> None:
        self.bar.stop()


def run_trend(args: argparse.Namespace, settings: Settings) -> int:
    from .aws.errors import AwsError
    from .history.store import AuditStore, HistoryError
    from .history.trend import to_csv, to_json, trend

    async def who() -> tuple[str, str]:
        async with _client_for(args, settings) as dd:
            return (await dd.identity()).account, dd.region or ""

    try:
        with AuditStore.open() as store:  # before connecting: a broken history is said at once
            account, region = asyncio.run(who())
            series = trend(store, account, region)
    except (AwsError, HistoryError) as err:
        return fail(err)
    except KeyboardInterrupt:
        return 130
    with stdout_pipe():
        if args.json:
            print(to_json(series))
        elif args.csv:
            print(to_csv(series), end="")
        else:
            print(format_trend(series))
    return 0


def format_trend(series: Trend) -> str:
    """One block per audit, oldest first: its start, id and type with the total, then each check that
    found something (the CSV and JSON have every check the audit ran, zeros included)."""
    from .history.trend import trend_rows

    if not series.points:
        return (
            f"No stored audits of account {series.account} in {series.region}: "
            "run `iot-defender-tui history sync` first."
        )
    head = (
        f"Non-compliant findings of account {series.account} in {series.region}, oldest audit first "
        "(checks with none left out)"
    )
    rows = [("START (UTC)", "AUDIT", "CHECK", "SEVERITY", "FINDINGS")]
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in trend_rows(series):
        by_task.setdefault(row["task_id"], []).append(row)
    for point in series.points:
        when = point.start_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        total = sum(point.by_check.values())
        kind = "scheduled" if point.task_type == "SCHEDULED_AUDIT_TASK" else "on demand"
        rows.append((when, plain(point.task_id), f"all checks ({kind})", "", str(total)))
        for row in by_task.get(point.task_id, []):
            if row["findings"]:
                rows.append(("", "", plain(row["check"]), row["severity"], str(row["findings"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row[:-1], widths, strict=False)), row[-1].rjust(widths[-1])])
        for row in rows
    ]
    return "\n".join([head, *lines])
