"""Command line: `iot-defender-tui [COMMAND]`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import signal
import sys
import threading
from datetime import UTC
from typing import TYPE_CHECKING

from . import __version__
from .config import ConfigError, Settings, journal_path, load_settings

if TYPE_CHECKING:
    from .aws.journal import JournalEntry


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text}")
    return value


def _non_negative(kind: type) -> object:
    def parse(text: str) -> object:
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must not be negative: {text}")
        return value

    return parse


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


TASK_ID = re.compile(r"[a-zA-Z0-9_-]{1,40}")  # AWS's taskId: refused here rather than by the server


def _task_id(text: str) -> str:
    if not TASK_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"not an audit task id (1 to 40 letters, digits, '-' or '_'): {text!r}"
        )
    return text


def _add_config_flags(parser: argparse.ArgumentParser, default: object) -> None:
    # On the main parser and on each app command, so `--config` works before or after the command;
    # SUPPRESS keeps a subcommand's default from overwriting a flag given before it.
    parser.add_argument(
        "--config", metavar="PATH", default=default, help="config file (default: the user config dir)"
    )
    parser.add_argument(
        "--ignore-config",
        action="store_true",
        default=default,
        help="start with the default settings if the config file is broken (a warning is printed)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iot-defender-tui",
        description="AWS IoT Device Defender Audit and mitigation in the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_config_flags(parser, argparse.SUPPRESS)
    # The TUI's flags (no command). SUPPRESS: `journal --reconcile` has its own --profile/--region.
    tui = parser.add_argument_group("the TUI (no command)")
    tui.add_argument("--profile", default=argparse.SUPPRESS, help="AWS profile")
    tui.add_argument("--region", default=argparse.SUPPRESS, help="AWS region (default: AWS_REGION, config)")
    tui.add_argument("--endpoint-url", default=argparse.SUPPRESS, help="e.g. a sandbox's URL")
    tui.add_argument(
        "--read-only", action="store_true", default=argparse.SUPPRESS, help="refuse every change to AWS"
    )
    tui.add_argument(
        "--no-rate-limit",
        action="store_true",
        default=argparse.SUPPRESS,
        help="do not pace requests to AWS's per-API quotas (off already with --sandbox)",
    )
    tui.add_argument(
        "--sandbox",
        action="store_true",
        default=argparse.SUPPRESS,
        help="start a private offline sandbox with the lab fleet and connect to it",
    )
    tui.add_argument(
        "--devices",
        type=_non_negative(int),
        default=argparse.SUPPRESS,
        metavar="N",
        help="with --sandbox: generated devices added to the lab fleet",
    )
    tui.add_argument(
        "--task",
        type=_task_id,
        default=argparse.SUPPRESS,
        metavar="TASK_ID",
        help="open Results on this audit task's findings",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    journal = commands.add_parser(
        "journal",
        help="print the journal of every change the app made to AWS, newest first",
        description="Print the journal of every mutating AWS request the app sent, newest first. An "
        "entry whose request was sent but whose answer never arrived (crash, kill) reads "
        '"outcome unknown" until the app reconciles it with AWS.',
    )
    journal.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    journal.add_argument(
        "--limit", type=_positive_int, metavar="N", default=None, help="only the N newest entries"
    )
    journal.add_argument(
        "--reconcile",
        action="store_true",
        help='ask AWS what became of every "outcome unknown" entry and record the answer',
    )
    journal.add_argument("--profile", help="AWS profile (with --reconcile)")
    journal.add_argument("--region", help="AWS region (with --reconcile)")
    journal.add_argument("--endpoint-url", help="e.g. a sandbox's URL (with --reconcile)")
    _add_config_flags(journal, argparse.SUPPRESS)

    sandbox = commands.add_parser(
        "sandbox",
        help="serve the offline Device Defender sandbox (moto + audit/mitigation APIs) on loopback",
        description="Serve moto (every service) plus Device Defender audit, mitigation and logging "
        "operations on loopback. Point the AWS CLI or SDKs at the printed URL with any dummy "
        "credentials.",
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    sandbox.add_argument(
        "--port", type=_non_negative(int), default=0, help="port to listen on (default 0: a free port)"
    )
    sandbox.add_argument(
        "--fleet",
        choices=["lab", "empty"],
        default="lab",
        help="lab: the Device Defender workshop's account (default); empty: a fresh account",
    )
    sandbox.add_argument(
        "--devices",
        type=_non_negative(int),
        default=0,
        help="generated devices added to the fleet (e.g. 10000)",
    )
    sandbox.add_argument(
        "--seed", type=int, default=0, help="random seed of the generated fleet and of injected faults"
    )
    sandbox.add_argument(
        "--problem-scale",
        type=_non_negative(float),
        default=1.0,
        metavar="X",
        help="multiply the share of generated devices with each problem (each capped at 0.9; "
        "about 12 gives roughly as many findings as devices; default 1)",
    )
    sandbox.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        help="region the fleet is seeded in (default: AWS_REGION or us-east-1)",
    )
    sandbox.add_argument(
        "--audit-seconds",
        type=_non_negative(float),
        default=5.0,
        help="how long an audit takes to finish its checks (default 5)",
    )
    sandbox.add_argument(
        "--day-seconds",
        type=_non_negative(float),
        default=86400.0,
        help="length of a sandbox day for scheduled audits (default 86400)",
    )
    sandbox.add_argument(
        "--mitigation-seconds",
        type=_non_negative(float),
        default=2.0,
        help="how long a mitigation task takes to work through its findings (default 2)",
    )
    sandbox.add_argument(
        "--throttle-rate",
        type=_rate,
        default=0.0,
        help="share of requests answered with ThrottlingException",
    )
    sandbox.add_argument(
        "--error-rate",
        type=_rate,
        default=0.0,
        help="share of requests answered with 500 InternalFailureException",
    )
    sandbox.add_argument(
        "--error-after-rate",
        type=_rate,
        default=0.0,
        help="share of requests executed, then answered with 500 InternalFailureException",
    )
    sandbox.add_argument(
        "--latency-ms", type=_non_negative(float), default=0.0, help="delay added to every request"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        return run_sandbox(args)
    if args.command == "journal":
        settings = load_cli_settings(args)
        if settings is None:
            return 2
        if args.reconcile:
            return asyncio.run(run_reconcile(args, settings))
        return run_journal(args)
    settings = load_cli_settings(args)
    if settings is None:
        return 2
    # Start-up (the imports, the app's styles and widgets) makes about a million objects that live as long
    # as the app; the cyclic collector walking them meanwhile cost ~0.1 s before the first frame. It is
    # held off until they are made, then they are frozen out of its reach (run_tui).
    gc.disable()
    try:
        from .ui.launch import run_tui

        return run_tui(args, settings)
    finally:
        gc.enable()


def load_cli_settings(args: argparse.Namespace) -> Settings | None:
    """The settings for an app command, or None after printing why the config file cannot be used."""
    try:
        settings = load_settings(
            getattr(args, "config", None), ignore_errors=bool(getattr(args, "ignore_config", False))
        )
    except ConfigError as err:
        print(f"iot-defender-tui: {err}", file=sys.stderr)
        print(
            "iot-defender-tui: fix the file, or pass --ignore-config to start with defaults", file=sys.stderr
        )
        return None
    if settings.error is not None:
        print(f"iot-defender-tui: warning: {settings.error}", file=sys.stderr)
        print(
            "iot-defender-tui: warning: starting with the default settings (--ignore-config)", file=sys.stderr
        )
    return settings


def run_journal(args: argparse.Namespace) -> int:
    from .aws.journal import Journal, JournalError

    path = journal_path()
    if not path.exists():
        # A read command must not create the journal; an absent one is simply empty.
        if not args.json:
            print(f"The journal is empty ({path}).")
        return 0
    try:
        with Journal.open(path) as journal:
            entries = journal.entries(args.limit)
    except JournalError as err:
        print(f"iot-defender-tui: {err}", file=sys.stderr)
        return 1
    try:
        if args.json:
            for entry in entries:
                print(json.dumps(entry.to_json(), ensure_ascii=False))
        elif entries:
            print(format_journal(entries))
        else:
            print(f"The journal is empty ({path}).")
        sys.stdout.flush()
    except BrokenPipeError:
        # `| head` closed the pipe: not an error; keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


async def run_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from .aws.client import DefenderClient, reconcile_journal
    from .aws.errors import AwsError
    from .aws.journal import Journal, JournalError
    from .aws.session import ConnectionSettings

    connection = ConnectionSettings.resolve(
        profile=args.profile or settings.profile,
        region=args.region or settings.region,
        endpoint_url=args.endpoint_url or settings.endpoint_url,
        read_only=True,  # reconciling only reads
    )
    try:
        with Journal.open(journal_path()) as journal:
            async with DefenderClient(connection) as dd:
                results = await reconcile_journal(dd, journal)
    except (AwsError, JournalError) as err:
        print(f"iot-defender-tui: {plain(str(err))}", file=sys.stderr)
        return 1
    if not results:
        print('No "outcome unknown" entries to reconcile.')
    for result in results:
        print(f"{result.entry_id}  {result.operation}: {plain(result.note)}")
    return 0 if all(r.closed for r in results) else 1


def plain(text: str) -> str:
    """One printable line: AWS's words may hold newlines or terminal control sequences."""
    return "".join(c if c.isprintable() else " " for c in " ".join(text.split()))


def format_journal(entries: list[JournalEntry]) -> str:
    rows = [("ID", "TIME (UTC)", "OPERATION", "ACCOUNT/REGION", "OUTCOME")]
    for entry in entries:
        time = entry.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        outcome = plain(entry.outcome)  # one line per entry, whatever AWS put in a message
        rows.append((str(entry.id), time, entry.operation, f"{entry.account}/{entry.region}", outcome))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    )


def run_sandbox(args: argparse.Namespace) -> int:
    try:
        from .sandbox.fleet import seed_fleet
        from .sandbox.runtime import Options
        from .sandbox.server import SandboxServer
    except ImportError as err:
        print(
            f"iot-defender-tui: the sandbox needs moto: pip install 'iot-defender-tui[sandbox]' ({err})",
            file=sys.stderr,
        )
        return 1
    if args.day_seconds <= 0:
        print("iot-defender-tui: --day-seconds must be positive", file=sys.stderr)
        return 2
    options = Options(
        audit_seconds=args.audit_seconds,
        day_seconds=args.day_seconds,
        mitigation_seconds=args.mitigation_seconds,
        throttle_rate=args.throttle_rate,
        error_rate=args.error_rate,
        error_after_rate=args.error_after_rate,
        latency_ms=args.latency_ms,
        seed=args.seed,
        problem_scale=args.problem_scale,
    )
    try:
        server = SandboxServer(args.host, args.port, options)
    except ValueError as err:
        print(f"iot-defender-tui: {err}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        url = server.start()
    except OSError as err:
        print(f"iot-defender-tui: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 1
    try:
        seed_fleet(args.fleet, devices=args.devices, seed=args.seed, region=args.region)
        print(f"Device Defender sandbox ({args.fleet} fleet, {args.region}) at {url}", flush=True)
        stop.wait()
    finally:
        server.stop()
    return 0
