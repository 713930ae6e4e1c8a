"""`iot-defender-tui audit run`: an on-demand audit from a script or a CI job — started (journaled, like
the TUI's), followed, its findings printed in any `findings` format, and an exit code tied to severity
(prowler's convention: 3 when a finding at or above --fail-on)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections.abc import Callable
from typing import Any

from .cli_common import add_connection_flags, plain, run_async
from .cli_contexts import (
    Output,
    Target,
    add_context_flags,
    every_target,
    in_each,
    one_target,
    started,
    stop,
    where_from,
)
from .cli_findings import FORMATS
from .config import Settings, journal_path

LoadSettings = Callable[[argparse.Namespace], Settings | None]
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
POLL_SECONDS = 2.0  # DescribeAuditTask while the audit runs (its quota is 10/s: far from it)
EXIT_CODES = """exit status:
  0  the audit completed (with --fail-on: no unsuppressed finding at or above it); without --wait: started
  1  the audit failed or was canceled, --timeout passed, or an AWS, network or journal error (a
     read-only context refuses to start an audit)
  2  usage or config error (an unknown --context)
  3  with --fail-on: a finding at or above that severity
with --all-contexts, the worst of the contexts': 1 if any context failed (each named on its line on
stderr; the others still run), else 3 if any had a finding at or above --fail-on, else 0.
Without --wait, --all-contexts prints CONTEXT<tab>TASK_ID lines."""


def _check_list(text: str) -> tuple[str, ...]:
    names = tuple(n.strip().upper() for n in text.split(",") if n.strip())
    if not names or not all(n.replace("_", "").isalnum() for n in names):
        raise argparse.ArgumentTypeError("check names separated by commas (e.g. LOGGING_DISABLED_CHECK)")
    return names


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError("seconds, more than 0 and at most 86400")
    return value


def add_audit_commands(commands: Any) -> list[argparse.ArgumentParser]:
    audit = commands.add_parser("audit", help="start an on-demand audit and follow it (for scripts and CI)")
    actions = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    run = actions.add_parser(
        "run",
        help="start an on-demand audit; with --wait follow it and print its findings",
        description="Start an on-demand audit of the given checks (default: every check enabled in the\n"
        "audit settings). With --wait, follow it to the end (progress on stderr when it is a terminal)\n"
        "and print its unsuppressed findings to stdout as `findings` does. Starting an audit is a\n"
        "change: it is refused in read-only mode and journaled.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = run.add_mutually_exclusive_group()
    which.add_argument("--checks", type=_check_list, metavar="A,B", help="these checks")
    which.add_argument("--all-enabled", action="store_true", help="every enabled check (the default)")
    run.add_argument("--wait", action="store_true", help="follow the audit and print its findings")
    run.add_argument("--timeout", type=_seconds, metavar="S", help="with --wait: give up after S seconds")
    run.add_argument(
        "--fail-on", type=str.upper, choices=SEVERITIES, metavar="SEVERITY",
        help="with --wait: exit 3 when a finding is at or above SEVERITY (CRITICAL, HIGH, MEDIUM, LOW)",
    )  # fmt: skip
    run.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    add_connection_flags(run, region_list=True)
    add_context_flags(
        run,
        every="in every context at once (the [[contexts]] tables, --region a,b's, the [organization]'s): "
        "8 at a time, 2 per account; a read-only context is an error",
    )
    run.add_argument("--no-rate-limit", action="store_true", help="do not pace requests to AWS's quotas")
    return [run]


def run_audit(args: argparse.Namespace, load_settings: LoadSettings) -> int:
    if (args.timeout or args.fail_on) and not args.wait:
        print("iot-defender-tui: --timeout and --fail-on need --wait", file=sys.stderr)
        return 2
    settings = load_settings(args)
    if settings is None:
        return 2
    return run_async(lambda: _run(args, settings), _Ended)


class _Ended(Exception):
    """The audit ended other than COMPLETED, or the wait timed out."""


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from .aws.errors import AwsError
    from .aws.guard import ReadOnlyError
    from .aws.journal import Journal, JournalError

    out = Output(args.format)
    with Journal.open(journal_path()) as journal:
        if not args.all_contexts:
            target = await one_target(args, settings, many=True)
            return await _audit(args, settings, target, journal, out, many=False)
        targets, incomplete = await every_target(args, settings, out)

        def job(target: Target) -> Any:
            return _audit(args, settings, target, journal, out, many=True)

        code = await in_each(targets, job, (AwsError, JournalError, ReadOnlyError, _Ended), out)
        if args.wait:
            out.close(every=True)
    return 1 if incomplete else code


async def _audit(
    args: argparse.Namespace, settings: Settings, target: Target, journal: Any, out: Output, *, many: bool
) -> int:
    from .aws.catalogue import severity_rank
    from .aws.client import DefenderClient
    from .aws.session import tuning_for

    named = f"{plain(target.name)}: " if many and target.name else ""
    async with DefenderClient(target.connection, journal=journal, tuning=tuning_for(args, settings)) as dd:
        checks = args.checks or (await dd.describe_audit_configuration()).enabled_checks
        if not checks:
            raise _Ended("no check is enabled in the audit settings: name them with --checks")
        task_id = await dd.start_audit(checks)
        print(f"{named}Started audit {task_id} of {len(checks)} checks", file=sys.stderr)
        if not args.wait:
            print(f"{target.name}\t{task_id}" if many else task_id)
            return 0
        where = started(where_from(dd, target, required=args.format in ("asff", "ocsf")))
        try:
            task = await _follow(dd, task_id, args.timeout, progress=not many)
            source = dataclasses.replace(await where, task=task)
        finally:
            await stop(where)
        writer = out.open(source, checks)
        worst, count = len(SEVERITIES), 0
        async for page in dd.iter_findings(task_id=task_id, include_suppressed=False):
            writer.write(page, source)
            count += len(page)
            worst = min([worst, *(severity_rank(f.severity) for f in page)])
    if not many:
        out.close()
    if args.fail_on and worst <= severity_rank(args.fail_on):
        print(f"iot-defender-tui: {named}{count} findings, the worst {SEVERITIES[worst]}: at or above "
              f"--fail-on {args.fail_on}", file=sys.stderr)  # fmt: skip
        return 3
    return 0


async def _follow(dd: Any, task_id: str, timeout: float | None, *, progress: bool = True) -> Any:
    """Describe the audit until it ends; the described task (COMPLETED), or _Ended. `progress`: a line
    on a terminal's stderr, rewritten in place (not for several audits at once)."""
    begun = time.monotonic()
    tty = progress and sys.stderr.isatty()
    while True:
        task = await dd.describe_audit_task(task_id)
        stats = task.statistics
        if tty and stats:
            line = f"\raudit {task_id}: {stats.done}/{stats.total} checks"
            print(line, end="", file=sys.stderr, flush=True)
        if task.status == "COMPLETED":
            if tty:
                print(file=sys.stderr)
            return task
        if task.status in ("FAILED", "CANCELED"):
            raise _Ended(f"audit {task_id} {plain(task.status)}")
        if timeout is not None and time.monotonic() - begun > timeout:
            raise _Ended(f"audit {task_id} still {plain(task.status)} after {timeout:g} s (--timeout)")
        await asyncio.sleep(POLL_SECONDS)
