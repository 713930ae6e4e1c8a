"""`iot-defender-tui mitigate`: apply a mitigation action to an audit's findings from a script — the plan
shown (what changes on which resources), asked unless --yes, started (journaled, idempotent like the TUI's
apply: the same request while it runs finds the running task), followed, and each finding's outcome
printed."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from .cli_common import add_connection_flags, confirmed, plain, run_async
from .cli_contexts import add_context_flags, one_target
from .config import Settings, journal_path

LoadSettings = Callable[[argparse.Namespace], Settings | None]
POLL_SECONDS = 2.0
EXIT_CODES = """exit status:
  0  started (without --wait), or every execution succeeded
  1  an execution failed or was canceled, or an AWS, network or journal error
  2  usage or config error (an unknown --context)
  3  declined at the prompt (or not a terminal and no --yes)"""


def add_mitigate_commands(commands: Any) -> list[argparse.ArgumentParser]:
    mitigate = commands.add_parser(
        "mitigate",
        help="apply a mitigation action to an audit's findings of one check",
        description="Apply the mitigation action NAME to the findings of CHECK in audit TASK (all its\n"
        "unsuppressed findings, or those given with --finding): the plan is printed, then asked for\n"
        "unless --yes. A change: refused in read-only mode, journaled. With --wait, follow the task\n"
        "and print each finding's outcome.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mitigate.add_argument("--task", required=True, metavar="ID", help="the audit task the findings are of")
    mitigate.add_argument("--check", required=True, type=str.upper, metavar="CHECK", help="the check")
    mitigate.add_argument("--action", required=True, metavar="NAME", help="the mitigation action's name")
    mitigate.add_argument(
        "--finding", nargs="+", action="extend", metavar="ID", help="only these findings (default: all)"
    )
    mitigate.add_argument("--yes", action="store_true", help="do not ask")
    mitigate.add_argument("--wait", action="store_true", help="follow the task and print every outcome")
    add_connection_flags(mitigate, region_list=True)
    add_context_flags(mitigate, every=None, note="no --all-contexts: an audit's and a mitigation task's ids "
                      "are of one account and region")  # fmt: skip
    return [mitigate]


class _Stop(Exception):
    def __init__(self, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.exit_status = exit_status


def run_mitigate(args: argparse.Namespace, load_settings: LoadSettings) -> int:
    settings = load_settings(args)
    if settings is None:
        return 2
    return run_async(lambda: _run(args, settings), _Stop)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from .aws.client import DefenderClient
    from .aws.journal import Journal
    from .aws.session import tuning_for

    with Journal.open(journal_path()) as journal:
        connection = (await one_target(args, settings)).connection
        async with DefenderClient(connection, journal=journal, tuning=tuning_for(args, settings)) as dd:
            action = await dd.describe_mitigation_action(args.action)
            findings = await _findings(dd, args)
            if not findings:
                raise _Stop(f"no unsuppressed finding of {args.check} in audit {args.task}", 1)
            doing = getattr(action.params, "summary", None) or action.action_type
            print(f"Apply {plain(args.action)} ({plain(str(action.action_type))}: {plain(str(doing))}) "
                  f"to {len(findings)} finding{'s' * (len(findings) != 1)} of {args.check}:")  # fmt: skip
            for f in findings:
                print(f"  {f.finding_id}  {plain(f.resource.readable)}")
            if not args.yes and not confirmed(f"Start the mitigation task on {len(findings)} findings?"):
                raise _Stop("nothing started", 3)
            started = await dd.start_mitigation_task(
                {"findingIds": [f.finding_id for f in findings]}, {args.check: [args.action]}
            )
            task = started.task
            said = "already running" if started.reused else "started"
            print(f"Mitigation task {task.task_id} {said}", file=sys.stderr)
            if not args.wait:
                print(task.task_id)
                return 0
            while task.status not in ("COMPLETED", "FAILED", "CANCELED"):
                await asyncio.sleep(POLL_SECONDS)
                task = await dd.describe_mitigation_task(task.task_id)
            failed = 0
            for f in findings:
                for e in await dd.list_mitigation_executions(task.task_id, f.finding_id):
                    note = f"  {plain(e.error_code or '')} {plain(e.message or '')}".rstrip()
                    print(f"{f.finding_id}  {plain(f.resource.readable)}  {e.action_name}  {e.status}{note}")
                    failed += e.status in ("FAILED", "CANCELED")
    if task.status != "COMPLETED" or failed:
        raise _Stop(f"mitigation task {task.task_id} {task.status}: {failed} execution(s) did not succeed", 1)
    return 0


async def _findings(dd: Any, args: argparse.Namespace) -> list[Any]:
    if args.finding:
        wanted = list(dict.fromkeys(args.finding))
        found = await asyncio.gather(*(dd.describe_finding(i) for i in wanted))
        wrong = [f.finding_id for f in found if f.task_id != args.task or f.check_name != args.check]
        if wrong:
            raise _Stop(f"not findings of {args.check} in audit {args.task}: {', '.join(wrong)}", 2)
        return list(found)
    out = []
    async for page in dd.iter_findings(task_id=args.task, check_name=args.check, include_suppressed=False):
        out.extend(page)
    return out
