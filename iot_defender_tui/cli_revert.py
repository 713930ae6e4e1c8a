"""`iot-defender-tui revert --mitigation-task ID`: undo a finished mitigation task where AWS allows it
(aws/revert.py), after showing every change and asking; each change journaled like the TUI's."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from .cli_common import add_connection_flags, confirmed, fail, plain
from .cli_contexts import add_context_flags, one_target
from .config import Settings, journal_path

LoadSettings = Callable[[argparse.Namespace], Settings | None]
EPILOG = (
    "exit status: 0 every possible change made (or nothing to undo), 1 a change failed or an AWS, "
    "network or journal error, 2 usage (an unknown --context), 3 declined at the prompt"
)


def add_revert_commands(commands: Any) -> list[argparse.ArgumentParser]:
    revert = commands.add_parser(
        "revert",
        help="undo a finished mitigation task where AWS allows it",
        description="Undo what a finished mitigation task did, where AWS allows it: re-activate the "
        "certificates and CA certificates it deactivated, make the policy versions it replaced the "
        "default again, take out of groups the things it added, put back the logging options it "
        "replaced (the last two from the journal, for a task this app started: AWS does not record "
        "them). What cannot be undone (an SNS message) is listed with why. Every change is shown and "
        "confirmed first, and journaled.",
        epilog=EPILOG,
    )
    revert.add_argument("--mitigation-task", required=True, metavar="ID", help="the mitigation task's id")
    revert.add_argument("--yes", action="store_true", help="do not ask: make the changes shown")
    add_connection_flags(revert, region_list=True)
    add_context_flags(revert, every=None, note="no --all-contexts: a mitigation task's id is of one "
                      "account and region")  # fmt: skip
    return [revert]


def run_revert(args: argparse.Namespace, load_settings: LoadSettings) -> int:
    settings = load_settings(args)
    if settings is None:
        return 2
    return asyncio.run(_revert(args, settings))


async def _revert(args: argparse.Namespace, settings: Settings) -> int:
    from .aws.client import DefenderClient
    from .aws.contexts import ContextError
    from .aws.errors import AwsError
    from .aws.guard import ReadOnlyError
    from .aws.journal import Journal, JournalError
    from .aws.revert import NotFinished, apply, describe, plan
    from .aws.session import tuning_for

    # Read-only in the config (or the context) is kept: the client's guard refuses the changes, after the
    # plan is shown.
    try:
        connection = (await one_target(args, settings)).connection
        with Journal.open(journal_path()) as journal:
            async with DefenderClient(connection, journal=journal, tuning=tuning_for(args, settings)) as dd:
                task, undos = await plan(dd, args.mitigation_task)
                lines = describe(undos)
                possible = [u for u in undos if u.possible]
                print(f"Mitigation task {plain(task.task_id)} ({task.status}):")
                for line in lines or ["it changed nothing that can be undone"]:
                    print(f"  {plain(line)}")
                if not possible:
                    return 0
                changes = len({(u.operation, u.args) for u in possible})
                if not args.yes and not confirmed(f"Make these {changes} change{'s' * (changes != 1)}?"):
                    print("Nothing changed.", file=sys.stderr)
                    return 3
                outcomes = await apply(dd, possible)
    except ContextError as err:
        return fail(err, 2)
    except NotFinished as err:
        return fail(err)
    except (AwsError, JournalError, ReadOnlyError) as err:
        return fail(err)
    for outcome in outcomes:
        state = "done" if outcome.error is None else f"FAILED: {outcome.error}"
        print(f"{plain(outcome.undo.what)}: {plain(state)}")
    return 0 if all(o.error is None for o in outcomes) else 1
