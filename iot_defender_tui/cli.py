"""Command line: `iot-defender-tui [COMMAND]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC
from typing import TYPE_CHECKING

from . import __version__
from .aws.safe_text import safe
from .cli_audit import add_audit_commands, run_audit
from .cli_common import checked, fail, plain, stdout_pipe
from .cli_findings import add_findings_commands, run_findings
from .cli_history import add_history_commands, run_history
from .cli_iam import add_iam_commands, run_iam
from .cli_mitigate import add_mitigate_commands, run_mitigate
from .cli_revert import add_revert_commands, run_revert
from .config import (
    ConfigError,
    Settings,
    check_keymap_ids,
    endpoint_problem,
    journal_path,
    load_settings,
    profile_problem,
    region_problem,
)

if TYPE_CHECKING:
    from .aws.journal import JournalEntry

# Numbers as a user types them, ASCII only: int() and float() also take other scripts' digits, "1_000",
# "nan" and "inf", none of which is a port, a count or a number of seconds.
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _int_in(low: int | None, high: int | None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not _INTEGER.fullmatch(text.strip()) or not _inside(int(text), low, high):
            raise argparse.ArgumentTypeError(_expected("a whole number", low, high, text))
        return int(text)

    return parse


def _number_in(low: float, high: float, *, above_low: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        if not _DECIMAL.fullmatch(text.strip()) or not _inside(float(text), low, high, above_low=above_low):
            raise argparse.ArgumentTypeError(_expected("a number", low, high, text, above_low=above_low))
        return float(text)

    return parse


def _inside(value: float, low: float | None, high: float | None, *, above_low: bool = False) -> bool:
    if low is not None and (value <= low if above_low else value < low):
        return False
    return high is None or value <= high


def _expected(kind: str, low: float | None, high: float | None, text: str, *, above_low: bool = False) -> str:
    """ "expected a whole number from 0 to 65535, got '99999'": what the flag takes, then what it got."""
    if low is None and high is None:
        allowed = kind
    elif above_low:
        allowed = f"{kind} more than {_figure(low)} and at most {_figure(high)}"
    elif high is None:
        allowed = f"{kind} ≥ {_figure(low)}"
    else:
        allowed = f"{kind} from {_figure(low)} to {_figure(high)}"
    # int() and float() also read other scripts' digits: say why "٨٠" is not taken.
    digits = " in digits 0-9" if any(c.isdigit() and not c.isascii() for c in text) else ""
    return f"expected {allowed}{digits}, got {text!r}"


def _figure(value: float | None) -> str:
    """1000000 rather than 1e+06; 0.5 stays 0.5."""
    return f"{value:.0f}" if value == int(value or 0) else f"{value:g}"


def _non_negative(kind: type) -> Callable[[str], object]:
    return _int_in(0, None) if kind is int else _number_in(0.0, 10 * 365 * 86400.0)


_rate = _number_in(0.0, 1.0)
_positive_int = _int_in(1, None)
_port = _int_in(0, 65535)
_devices = _int_in(0, 1_000_000)  # the whole fleet lives in the sandbox's memory
_seconds = _number_in(0.0, 10 * 365 * 86400.0)  # finite: nan and inf are not durations
_region = checked(region_problem)
_endpoint_url = checked(endpoint_problem)
_profile = checked(profile_problem)


def _regions(text: str) -> str:
    """One region as before, or a comma list checked region by region (aws/contexts.py splits it)."""
    for part in text.split(","):
        if problem := region_problem(part.strip()):
            raise argparse.ArgumentTypeError(problem)
    return ",".join(part.strip() for part in text.split(","))


def _sandbox_regions(text: str) -> tuple[str, ...]:
    """The sandbox's --regions: distinct regions, comma-separated."""
    parts = [part.strip() for part in text.split(",")]
    for part in parts:
        if problem := region_problem(part):
            raise argparse.ArgumentTypeError(problem)
    if len(set(parts)) < len(parts):
        raise argparse.ArgumentTypeError(f"a region is named twice in {text!r}")
    return tuple(parts)


def _positions(text: str) -> tuple[int, ...]:
    """--broken-role-accounts: member positions from 1, comma-separated."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isascii() and part.isdigit() and int(part) >= 1 for part in parts):
        raise argparse.ArgumentTypeError(f"expected member positions from 1, e.g. 2 or 2,5, got {text!r}")
    return tuple(sorted({int(part) for part in parts}))


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
    tui.add_argument("--profile", type=_profile, default=argparse.SUPPRESS, help="AWS profile")
    tui.add_argument(
        "--region",
        type=_regions,
        default=argparse.SUPPRESS,
        help="AWS region (default: AWS_REGION, config); a comma list a,b makes one context per region, "
        "the first active",
    )
    tui.add_argument(
        "--context",
        type=_profile,  # a context's name has a profile name's shape (config.py)
        default=argparse.SUPPRESS,
        metavar="NAME",
        help="connect in this context: a [[contexts]] table of the config file or one of --region a,b",
    )
    tui.add_argument(
        "--endpoint-url", type=_endpoint_url, default=argparse.SUPPRESS, help="e.g. a sandbox's URL"
    )
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
        type=_devices,
        default=argparse.SUPPRESS,
        metavar="N",
        help="with --sandbox: generated devices added to the lab fleet",
    )
    tui.add_argument(
        "--accounts",
        type=_int_in(0, 100),
        default=argparse.SUPPRESS,
        metavar="N",
        help="with --sandbox: an AWS Organization of N member accounts (in us-east-1, eu-west-1 and "
        "ap-southeast-2), each account-region a context; 0 shows the Fleet overview at once",
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
    journal.add_argument("--profile", type=_profile, help="AWS profile (with --reconcile)")
    journal.add_argument("--region", type=_region, help="AWS region (with --reconcile)")
    journal.add_argument("--endpoint-url", type=_endpoint_url, help="e.g. a sandbox's URL (with --reconcile)")
    _add_config_flags(journal, argparse.SUPPRESS)

    for history_command in add_history_commands(commands):
        _add_config_flags(history_command, argparse.SUPPRESS)
    for audit_command in add_audit_commands(commands):
        _add_config_flags(audit_command, argparse.SUPPRESS)
    for mitigate_command in add_mitigate_commands(commands):
        _add_config_flags(mitigate_command, argparse.SUPPRESS)
    for revert_command in add_revert_commands(commands):
        _add_config_flags(revert_command, argparse.SUPPRESS)
    for findings_command in add_findings_commands(commands):
        _add_config_flags(findings_command, argparse.SUPPRESS)
    add_iam_commands(commands)

    sandbox = commands.add_parser(
        "sandbox",
        help="serve the offline Device Defender sandbox (moto + audit/mitigation APIs) on loopback",
        description="Serve moto (every service) plus Device Defender audit, mitigation and logging "
        "operations on loopback. Point the AWS CLI or SDKs at the printed URL with any dummy "
        "credentials.",
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    sandbox.add_argument(
        "--port", type=_port, default=0, help="port to listen on, 0 to 65535 (default 0: a free port)"
    )
    sandbox.add_argument(
        "--fleet",
        choices=["lab", "empty"],
        default="lab",
        help="lab: the Device Defender workshop's account (default); empty: a fresh account",
    )
    sandbox.add_argument(
        "--devices",
        type=_devices,
        default=0,
        help="generated devices added to the fleet (e.g. 10000)",
    )
    sandbox.add_argument(
        "--seed",
        type=_int_in(None, None),
        default=0,
        help="random seed of the generated fleet and of injected faults",
    )
    sandbox.add_argument(
        "--problem-scale",
        type=_number_in(0.0, 1000.0),
        default=1.0,
        metavar="X",
        help="multiply the share of generated devices with each problem (each capped at 0.9; "
        "about 12 gives roughly as many findings as devices; default 1)",
    )
    sandbox.add_argument(
        "--region",
        type=_region,
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        help="region the fleet is seeded in (default: AWS_REGION or us-east-1)",
    )
    sandbox.add_argument(
        "--accounts",
        type=_int_in(0, 100),
        default=0,
        metavar="N",
        help="also create an AWS Organization with N member accounts (0 to 100; default 0: none), each "
        "with a fleet of its own posture in 1 to 3 of --regions; this account stays the management account",
    )
    sandbox.add_argument(
        "--regions",
        type=_sandbox_regions,
        default=("us-east-1", "eu-west-1", "ap-southeast-2"),
        metavar="A,B,C",
        help="with --accounts: regions the member accounts' fleets are spread over "
        "(default us-east-1,eu-west-1,ap-southeast-2)",
    )
    sandbox.add_argument(
        "--broken-role-accounts",
        type=_positions,
        default=(),
        metavar="K[,K...]",
        help="with --accounts: the K-th member's OrganizationAccountAccessRole does not trust the "
        "management account, so AssumeRole into it fails with AccessDenied",
    )
    sandbox.add_argument(
        "--audit-seconds",
        type=_seconds,
        default=5.0,
        help="how long an audit takes to finish its checks (default 5)",
    )
    sandbox.add_argument(
        "--day-seconds",
        type=_number_in(0.0, 10 * 365 * 86400.0, above_low=True),
        default=86400.0,
        help="length of a sandbox day for scheduled audits (default 86400)",
    )
    sandbox.add_argument(
        "--drift",
        type=_rate,
        default=0.0,
        metavar="SHARE",
        help="every sandbox day, fix this share of the generated fleet's problems (0 to 1; default 0: "
        "the fleet stays as generated)",
    )
    sandbox.add_argument(
        "--drift-new",
        type=_rate,
        default=None,
        metavar="SHARE",
        help="every sandbox day, introduce this many new problems, as a share of those there are "
        "(0 to 1; default: as --drift)",
    )
    sandbox.add_argument(
        "--mitigation-seconds",
        type=_seconds,
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
        "--latency-ms",
        type=_number_in(0.0, 60_000.0),  # a minute: botocore's read timeout gives up sooner
        default=0.0,
        help="delay added to every request (0 to 60000)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        return run_sandbox(args)
    if args.command == "history":
        return run_history(args, load_cli_settings)
    if args.command == "audit":
        return run_audit(args, load_cli_settings)
    if args.command == "mitigate":
        return run_mitigate(args, load_cli_settings)
    if args.command == "revert":
        return run_revert(args, load_cli_settings)
    if args.command == "findings":
        return run_findings(args, load_cli_settings)
    if args.command == "iam-policy":
        return run_iam(args)
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
    if problem := _context_problem(args, settings):
        parser.error(problem)  # exit 2 with the usage line, as any other bad flag
    from .ui.memory import collector_held_off  # before the imports it holds the collector off for

    with collector_held_off():
        from .ui.launch import run_tui
        from .ui.signals import signals_exit

        with signals_exit():
            return run_tui(args, settings)


def _context_problem(args: argparse.Namespace, settings: Settings) -> str | None:
    """Why the flags name no usable context (an unknown --context), or None."""
    from .aws.contexts import ContextError, active_context

    try:
        active_context(
            settings,
            name=getattr(args, "context", None),
            profile=getattr(args, "profile", None),
            region=getattr(args, "region", None),
        )
    except ContextError as err:
        if settings.organization is not None and getattr(args, "context", None):
            return None  # maybe one of the organization's: the app looks once it has listed them
        return str(err)
    return None


def load_cli_settings(args: argparse.Namespace) -> Settings | None:
    """The settings for an app command, or None after printing why the config file cannot be used."""
    ignore_errors = bool(getattr(args, "ignore_config", False))
    try:
        settings = load_settings(getattr(args, "config", None), ignore_errors=ignore_errors)
        if settings.keymap:
            settings = _known_keymap(settings, ignore_errors=ignore_errors)
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


def _known_keymap(settings: Settings, *, ignore_errors: bool) -> Settings:
    """The settings if every `[keymap]` id is one the UI has (config.py cannot know them: a layer below)."""
    from .ui.binding_ids import binding_ids

    try:
        check_keymap_ids(settings, binding_ids())
    except ConfigError as err:
        if not ignore_errors:
            raise
        return Settings(source=settings.source, error=err)
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
        # Read-only: listing never writes the file, and lists a journal in a directory it cannot write.
        with Journal.open(path, read_only=True) as journal:
            entries = journal.entries(args.limit)
    except JournalError as err:
        return fail(err, 2)
    with stdout_pipe():
        if args.json:
            for entry in entries:
                # ASCII: a bidi override or a zero-width character from AWS arrives as a JSON escape.
                print(json.dumps(entry.to_json(), ensure_ascii=True))
        elif entries:
            print(format_journal(entries))
        else:
            print(f"The journal is empty ({path}).")
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
        return fail(err)
    if not results:
        print('No "outcome unknown" entries to reconcile.')
    for result in results:
        print(f"{result.entry_id}  {result.operation}: {plain(result.note)}")
    return 0 if all(r.closed for r in results) else 1


def format_journal(entries: list[JournalEntry]) -> str:
    rows = [("ID", "TIME (UTC)", "OPERATION", "ACCOUNT/REGION", "OUTCOME")]
    for entry in entries:
        time = "?" if entry.time is None else entry.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        outcome = entry.outcome
        if entry.damaged:
            outcome += f" [damaged: {', '.join(entry.damaged)} unreadable]"
        cells = (str(entry.id), time, entry.operation, f"{entry.account}/{entry.region}", outcome)
        # One line per entry, whatever AWS put in it, and no terminal control in any cell.
        rows.append(tuple(plain(safe(cell)) for cell in cells))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    )


def run_sandbox(args: argparse.Namespace) -> int:
    try:
        from .sandbox.fleet import seed_fleet
        from .sandbox.organization import plan, seed_organization, summary
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
    try:
        members = plan(args.accounts, args.seed, args.regions, args.broken_role_accounts)
    except ValueError as err:
        print(f"iot-defender-tui: --broken-role-accounts: {err}", file=sys.stderr)
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
        drift=args.drift,
        drift_new=args.drift_new,
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
        seed_organization(members, args.seed)
        # The URL line first: ui/launch.py reads it.
        print(f"Device Defender sandbox ({args.fleet} fleet, {args.region}) at {url}", flush=True)
        for line in summary(members):
            print(line, flush=True)
        stop.wait()
    finally:
        server.stop()
    return 0
