"""`iot-defender-tui findings`: an audit's findings on stdout for scripts and CI (issue 15).

A sibling of cli.py that cli.py registers, like cli_history. The formats are export.py's, so `audit run`
can print the same ones: this module only chooses the audit, filters, and streams pages to a writer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import re
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .cli_common import add_connection_flags, fail, plain, stdout_pipe
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
from .config import Settings

if TYPE_CHECKING:
    from .aws.models import AuditTask, Finding
    from .export import Source

T = TypeVar("T")
LoadSettings = Callable[[argparse.Namespace], Settings | None]
FORMATS = ("table", "json", "jsonl", "csv", "asff", "ocsf", "junit")  # export.FORMATS, not imported at start
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
_TASK_ID = re.compile(r"[a-zA-Z0-9_-]{1,40}")  # AWS's taskId
_CHECK = re.compile(r"[a-zA-Z0-9_-]{1,200}")
READERS = 8  # checks read at the same time
EXIT_CODES = """exit codes:
  0  the findings were printed (none found is not a failure)
  1  an AWS, network or credentials error, or no completed audit for --latest (one line on stderr);
     with --all-contexts: in any context (each named on its line; the other contexts are printed)
  2  a usage error (an unknown --context; --task or --new-since with --all-contexts), a broken config
     file or an unreadable --baseline file

examples:
  iot-defender-tui findings --latest --severity CRITICAL HIGH
  iot-defender-tui findings --latest --format json > baseline.json
  iot-defender-tui findings --latest --baseline baseline.json --format junit > report.xml
  iot-defender-tui findings --task TASK_ID --format jsonl | jq .resource_id
  iot-defender-tui findings --all-contexts --latest --format jsonl | jq '[.account, .region, .check_name]'"""


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not pattern.fullmatch(text):
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}")
        return text

    return parse


def add_findings_commands(commands: Any) -> list[argparse.ArgumentParser]:
    """Add `findings` to cli's subparsers; returns the parsers that read the config."""
    task_id = _matching(_TASK_ID, "an audit task id (1 to 40 letters, digits, '-' or '_')")
    findings = commands.add_parser(
        "findings",
        help="print an audit's findings: table, JSON, JSON lines, CSV, ASFF, OCSF or JUnit XML",
        description="Print the non-compliant findings of one audit to stdout, streamed page by page\n"
        "(progress on stderr when it is a terminal). Suppressed findings are left out unless\n"
        "--include-suppressed. Only reads AWS. Every format names each finding's account and region\n"
        "(and context, with --context or --all-contexts).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = findings.add_mutually_exclusive_group(required=True)
    which.add_argument("--task", type=task_id, metavar="ID", help="the audit task's id")
    which.add_argument("--latest", action="store_true", help="the newest completed audit (last 90 days)")
    findings.add_argument(
        "--check",
        type=_matching(_CHECK, "a check name"),
        nargs="+",
        action="extend",
        metavar="NAME",
        help="only these checks (e.g. LOGGING_DISABLED_CHECK)",
    )
    findings.add_argument(
        "--severity", type=str.upper, nargs="+", action="extend", choices=SEVERITIES, metavar="SEV",
        help="only these severities: CRITICAL, HIGH, MEDIUM, LOW",
    )  # fmt: skip
    new = findings.add_mutually_exclusive_group()
    new.add_argument(
        "--new-since",
        type=task_id,
        metavar="TASK",
        help="only findings whose check and resource were not found by audit TASK",
    )
    new.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="only findings not in FILE (written by `findings --format json` or jsonl)",
    )
    findings.add_argument("--include-suppressed", action="store_true", help="list suppressed findings too")
    findings.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    add_connection_flags(findings, region_list=True)
    add_context_flags(
        findings,
        every="every context at once (the [[contexts]] tables, --region a,b's, the [organization]'s): "
        "with --latest, each context's newest audit; 8 contexts at a time, 2 per account",
    )
    findings.add_argument(
        "--no-rate-limit", action="store_true", help="do not pace requests to AWS's per-API quotas"
    )
    return [findings]


def run_findings(args: argparse.Namespace, load_settings: LoadSettings) -> int:
    if args.all_contexts and (args.task or args.new_since):
        print("iot-defender-tui: --all-contexts takes --latest, not --task or --new-since: an audit task id "
              "belongs to one account and region (pick it with --context NAME)", file=sys.stderr)  # fmt: skip
        return 2
    settings = load_settings(args)
    if settings is None:
        return 2
    baseline: Baseline | None = None
    if args.baseline is not None:  # before connecting: a bad file is a usage error, said at once
        try:
            baseline = read_baseline(args.baseline)
        except (OSError, ValueError) as err:
            return fail(ValueError(f"--baseline {args.baseline}: {err}"), 2)
    from .aws.contexts import ContextError
    from .aws.errors import AwsError

    code = 0
    try:
        with stdout_pipe():
            code = asyncio.run(_main(args, settings, baseline))
    except ContextError as err:
        return fail(err, 2)
    except (AwsError, _NoAudit) as err:
        return fail(err)
    except KeyboardInterrupt:
        return 130
    return code


class _NoAudit(Exception):
    pass


@dataclasses.dataclass
class Baseline:
    """A --baseline file's findings: those it names the account and region of are known there only
    (a baseline of one account says nothing of another's); those of a file written before findings named
    them, everywhere."""

    anywhere: set[int] = dataclasses.field(default_factory=set)
    at: dict[tuple[str, str], set[int]] = dataclasses.field(default_factory=dict)

    def known(self, account: str, region: str) -> set[int]:
        return self.anywhere | self.at.get((account, region), set())


def read_baseline(path: Path) -> Baseline:
    from .export import baseline_entries
    from .history.codec import identity

    baseline = Baseline()
    for check, resource, where in baseline_entries(path.read_text(encoding="utf-8")):
        known = baseline.anywhere if where is None else baseline.at.setdefault(where, set())
        known.add(identity(check, resource))
    return baseline


def _client_for(args: argparse.Namespace, settings: Settings, target: Target) -> Any:
    from .aws.client import DefenderClient
    from .aws.session import tuning_for

    # Read-only: listing findings changes nothing (and no journal is opened to record a change).
    connection = dataclasses.replace(target.connection, read_only=True)
    return DefenderClient(connection, tuning=tuning_for(args, settings))


async def latest_task(dd: Any) -> AuditTask:
    """The newest COMPLETED audit of the last 90 days (as long as AWS keeps them)."""
    from .history.sync import RETENTION_DAYS, window_start

    now = datetime.now(UTC)
    start = window_start(now, RETENTION_DAYS)  # a few minutes short of 90 days: AWS refuses 90 exactly
    tasks = await dd.list_audit_tasks(start, now + timedelta(minutes=1), status="COMPLETED")
    if not tasks:
        raise _NoAudit("no completed audit in the last 90 days")
    oldest = datetime.min.replace(tzinfo=UTC)
    return max(tasks, key=lambda t: t.start_time or oldest)


async def _main(args: argparse.Namespace, settings: Settings, baseline: Baseline | None) -> int:
    from .aws.errors import AwsError

    out = Output(args.format)
    progress = _Progress() if sys.stderr.isatty() else None
    if not args.all_contexts:
        await _run(args, settings, await one_target(args, settings, many=True), out, baseline, progress)
        out.close()
        if progress and out.writer:
            progress.done(out.writer.count)
        return 0
    targets, incomplete = await every_target(args, settings, out)

    def job(target: Target) -> Any:
        return _run(args, settings, target, out, baseline, progress)

    code = await in_each(targets, job, (AwsError, _NoAudit), out)
    out.close(every=True)
    if progress and out.writer:
        progress.done(out.writer.count)
    return 1 if incomplete else code


async def _run(
    args: argparse.Namespace,
    settings: Settings,
    target: Target,
    out: Output,
    baseline: Baseline | None,
    progress: _Progress | None,
) -> int:
    async with _client_for(args, settings, target) as dd:
        # Where the findings come from (STS, unless the context knows its account): asked now, beside
        # the audit's list and first page, so the first line waits for no round trip of its own.
        where = started(where_from(dd, target, required=args.format in ("asff", "ocsf")))
        try:
            task_id = (await latest_task(dd)).task_id if args.latest else args.task
            checks = list(dict.fromkeys(args.check or []))  # each once, in the order given
            lead = dd.iter_findings(
                task_id=task_id,
                check_name=checks[0] if checks else None,
                include_suppressed=None if args.include_suppressed else False,  # False: the unsuppressed only
                prefetch=True,
            )
            # The first page is asked for now: AWS works on it while the audit is described.
            async with head_start(lead) as lead:
                task, source = await asyncio.gather(dd.describe_audit_task(task_id), where)
                source = dataclasses.replace(source, task=task)
                await _print(args, dd, source, lead, checks, baseline, out, progress)
        finally:
            await stop(where)
    return 0


async def _print(
    args: argparse.Namespace,
    dd: Any,
    source: Source,
    lead: AsyncIterator[Any],
    checks: list[str],
    baseline: Baseline | None,
    out: Output,
    progress: _Progress | None,
) -> None:
    from .history.codec import identity

    task = source.task
    assert task is not None
    if task.status != "COMPLETED":
        named = f"{plain(source.context)}: " if source.context else ""
        print(f"iot-defender-tui: warning: {named}audit {task.task_id} is {plain(task.status)}: its findings "
              "so far", file=sys.stderr)  # fmt: skip
    known = None if baseline is None else baseline.known(source.account, source.region)
    if args.new_since:
        known = set()
        async for page in dd.iter_findings(task_id=args.new_since, prefetch=True):
            known.update(identity(f.check_name, f.resource) for f in page)
    keep = _Keep(args, known)
    ran = [c.check_name for c in task.checks if keep.check(c.check_name)]
    writer = out.open(source, ran)
    async for page in _pages(args, dd, task, lead, checks, ran):
        writer.write([f for f in page if keep(f)], source)
        if progress:
            progress.update(writer.count)


async def _pages(
    args: argparse.Namespace,
    dd: Any,
    task: AuditTask,
    lead: AsyncIterator[Any],
    checks: list[str],
    ran: list[str],
) -> AsyncIterator[Any]:
    """Every page of the findings, in the order they arrive: up to two of the lead stream (the first
    --check's, or all checks'), then the checks still to read, READERS at a time and the biggest first
    (one check's pages are a chain of page tokens: several chains overlap), less what was printed."""
    if len(checks) == 1:  # one chain: nothing to overlap
        async for page in lead:
            yield page
        return
    printed: set[str] = set()  # at most two pages' ids
    finished = False
    for _ in range(2):  # the second shows whether the lead is more than one page
        page = await anext(lead, None)
        if page is None:
            finished = True
            break
        printed.update(f.finding_id for f in page)
        yield page
    if finished and not checks:
        return  # the lead was every check's findings
    if not finished:
        await lead.aclose()  # type: ignore[attr-defined]
    rest = checks[1:] if finished else checks or ran
    sizes = {c.check_name: c.non_compliant + c.suppressed_non_compliant for c in task.checks}
    order = sorted(rest, key=lambda name: -sizes.get(name, 0))
    suppressed = None if args.include_suppressed else False
    found = dd.fetch_findings(task.task_id, order, READERS, include_suppressed=suppressed, prefetch=True)
    async for _, page in found:
        yield [f for f in page if f.finding_id not in printed]


@contextlib.asynccontextmanager
async def head_start(pages: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """`pages`, its first page asked for on entry rather than when first read; on exit nothing is left
    running (the audit's description may fail before the first page is wanted)."""
    first = asyncio.ensure_future(anext(pages))

    async def started() -> AsyncIterator[T]:
        try:
            page = await first
        except StopAsyncIteration:
            return
        yield page
        async for page in pages:
            yield page

    try:
        yield started()
    finally:
        first.cancel()
        await asyncio.wait([first])
        if not first.cancelled():
            first.exception()  # read: an error nobody waited for is not logged at exit


class _Keep:
    """Which checks and findings the flags keep (AWS filters by one check at most, and by no severity)."""

    def __init__(self, args: argparse.Namespace, known: set[int] | None):
        self.args = args
        self.known = known

    def check(self, name: str) -> bool:
        from .aws.catalogue import check_info

        if self.args.check and name not in self.args.check:
            return False
        return not self.args.severity or check_info(name).severity in self.args.severity

    def __call__(self, f: Finding) -> bool:
        from .history.codec import identity

        if self.args.severity and f.severity not in self.args.severity:
            return False
        if f.is_suppressed and not self.args.include_suppressed:
            return False
        return self.known is None or identity(f.check_name, f.resource) not in self.known


class _Progress:
    """A count on a terminal's stderr, rewritten in place."""

    def update(self, count: int) -> None:
        print(f"\r{count:,} findings…", end="", file=sys.stderr, flush=True)

    def done(self, count: int) -> None:
        print(f"\r{count:,} {'finding' if count == 1 else 'findings'}   ", file=sys.stderr, flush=True)
