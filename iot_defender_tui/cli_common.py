"""What cli.py and cli_history.py both need: argument checks, one-line messages, a closed pipe taken calmly.

Its own module (below both in the layers contract) so that cli_history need not import cli.py, which
registers it: neither copy could drift from the other.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from .config import endpoint_problem, profile_problem, region_problem


def checked(problem: Callable[[str], str | None]) -> Callable[[str], str]:
    """An argparse type from a config check (`region_problem` …): the text, or the check's reason."""

    def parse(text: str) -> str:
        if reason := problem(text):
            raise argparse.ArgumentTypeError(reason)
        return text

    return parse


def plain(text: str) -> str:
    """One printable line: AWS's words may hold newlines or terminal control sequences."""
    return "".join(c if c.isprintable() else " " for c in " ".join(text.split()))


def fail(err: BaseException, code: int = 1) -> int:
    """Say the error on one line of stderr, never a traceback; the exit code to return."""
    print(f"iot-defender-tui: {plain(str(err))}", file=sys.stderr)
    return code


def run_async(main: Callable[[], Awaitable[int]], *expected: type[BaseException]) -> int:
    """A command's coroutine run to its exit code: an AWS, journal or read-only error, or one of
    `expected` (its `exit_status`, else 1), is one line on stderr; so is a context error (exit 2);
    ^C exits 130."""
    from .aws.contexts import ContextError
    from .aws.errors import AwsError
    from .aws.guard import ReadOnlyError
    from .aws.journal import JournalError

    try:
        with stdout_pipe():
            return asyncio.run(main())  # type: ignore[arg-type]
    except ContextError as err:  # an unknown --context: a usage error, as in the TUI
        return fail(err, 2)
    except (AwsError, JournalError, ReadOnlyError, *expected) as err:
        return fail(err, getattr(err, "exit_status", 1))
    except KeyboardInterrupt:
        return 130


@contextmanager
def stdout_pipe() -> Iterator[None]:
    """Print a command's output: a reader that stops early (`| head`) is not an error."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # Keep Python from complaining at exit as it flushes the closed pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def confirmed(question: str) -> bool:
    """Ask on the terminal; not a terminal (a script without --yes) is a no, said on stderr."""
    if not sys.stdin.isatty():
        print("Not a terminal: pass --yes to make the changes.", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def regions(text: str) -> str:
    """One region, or a comma list checked region by region (aws/contexts.py makes a context of each)."""
    parts = [part.strip() for part in text.split(",")]
    for part in parts:
        if problem := region_problem(part):
            raise argparse.ArgumentTypeError(problem)
    return ",".join(parts)


def add_connection_flags(parser: argparse.ArgumentParser, *, region_list: bool = False) -> None:
    """--profile, --region and --endpoint-url, checked as the config file's values are; `region_list`:
    --region takes a,b too (a context per region, for a command with --context)."""
    parser.add_argument("--profile", type=checked(profile_problem), help="AWS profile")
    if region_list:
        parser.add_argument(
            "--region",
            type=regions,
            help="AWS region; a comma list a,b makes a context per region (PROFILE/REGION), to pick with "
            "--context",
        )
    else:
        parser.add_argument("--region", type=checked(region_problem), help="AWS region")
    parser.add_argument("--endpoint-url", type=checked(endpoint_problem), help="e.g. a sandbox's URL")
