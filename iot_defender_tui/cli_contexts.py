"""`--context NAME` and `--all-contexts` for the automation commands (issue 17, point 5).

The commands' connection is the base one (flags, environment, config) moved into the chosen context
(`ConnectionSettings.for_context`), so a context's profile, region, role and read_only hold as in the TUI.
An `[organization]`'s contexts are listed from AWS only when they are needed: for `--all-contexts`, or for a
`--context` name that is not a static one. Where each finding comes from (account, region, context) is
known from the context when it says, else from one STS call made beside the first requests.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .cli_common import checked, plain
from .config import Settings, profile_problem

Job = Callable[["Target"], Awaitable[int]]

if TYPE_CHECKING:
    from .aws.contexts import Context
    from .aws.session import ConnectionSettings
    from .export import Source, Writer

CONTEXT_HELP = (
    "run in this context: a [[contexts]] table of the config file, one of --region a,b (named "
    "PROFILE/REGION), or an account/region of [organization] (listed from AWS only for a name that is "
    "not one of the others)"
)


def add_context_flags(parser: argparse.ArgumentParser, *, every: str | None, note: str = "") -> None:
    """--context, and --all-contexts when `every` (its help) is given; a command without it says why in
    `note`, added to --context's help."""
    if every is None:
        help_text = f"{CONTEXT_HELP}; {note}" if note else CONTEXT_HELP
        # A context's name has a profile name's shape (config.py).
        parser.add_argument("--context", type=checked(profile_problem), metavar="NAME", help=help_text)
        return
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--context", type=checked(profile_problem), metavar="NAME", help=CONTEXT_HELP)
    which.add_argument("--all-contexts", action="store_true", help=every)


def _region_list(args: argparse.Namespace) -> list[str]:
    from .aws.contexts import split_regions

    region = getattr(args, "region", None)
    return split_regions(region) if region else []


def base_connection(args: argparse.Namespace, settings: Settings) -> ConnectionSettings:
    """The connection of the flags, environment and config, in no context (a region list is contexts)."""
    from .aws.session import connection_for

    plain_args = argparse.Namespace(**vars(args))
    plain_args.context = None
    if plain_args.region and "," in plain_args.region:
        plain_args.region = None
    return connection_for(plain_args, settings)


@dataclass(frozen=True, slots=True)
class Target:
    """One place a command works: its connection and the context it is in (None: no named context)."""

    connection: ConnectionSettings
    context: Context | None = None

    @property
    def name(self) -> str | None:
        return self.context.name if self.context else None


async def one_target(args: argparse.Namespace, settings: Settings, *, many: bool = False) -> Target:
    """The flags' one place to work: `--context NAME`'s, or no named context. ContextError (a usage error)
    for an unknown name, or for a region list without --context (`many`: the command has --all-contexts)."""
    from .aws.context_fanout import find_context
    from .aws.contexts import ContextError

    base = base_connection(args, settings)
    listed = _region_list(args)
    name = getattr(args, "context", None)
    if name is None:
        if len(listed) > 1:
            also = " or run in each with --all-contexts" if many else ""
            names = ", ".join(f"{base.profile or 'default'}/{r}" for r in listed)
            raise ContextError(f"--region {args.region} makes a context per region: pick one with "
                               f"--context NAME ({names}){also}")  # fmt: skip
        return Target(base)
    context = await find_context(base, settings, name, profile=getattr(args, "profile", None), regions=listed)
    return Target(base.for_context(context), context)


async def every_target(
    args: argparse.Namespace, settings: Settings, out: Output
) -> tuple[list[Target], bool]:
    """Every context's place to work (`--all-contexts`), and whether the organization's accounts could
    not be listed (said on stderr and in `out`'s report: the other contexts still run). ContextError when
    there is none."""
    from .aws.context_fanout import every_context
    from .aws.contexts import ContextError

    base = base_connection(args, settings)
    found, problem = await every_context(
        base, settings, profile=getattr(args, "profile", None), regions=_region_list(args)
    )
    if problem is not None:
        report("[organization]", problem)
        out.failed("[organization]", problem)
    elif not found:
        raise ContextError(
            "--all-contexts: there are no contexts (add [[contexts]] or [organization] to config.toml, "
            "or pass --region a,b)"
        )
    return [Target(base.for_context(c), c) for c in found], problem is not None


async def in_each(
    targets: Sequence[Target], job: Job, expected: tuple[type[BaseException], ...], out: Output | None = None
) -> int:
    """`job` in every target, bounded as aws/context_fanout.py says; a target's `expected` error is one
    line on stderr naming its context (and in `out`'s report, for JUnit), and does not stop the others.
    The worst exit code."""
    from .aws.context_fanout import run_each

    by_context = {t.context: t for t in targets}

    async def guarded(context: Context | None) -> int:
        target = by_context[context]
        try:
            return await job(target)
        except expected as err:
            report(target.name, err)
            if out is not None:
                out.failed(target.name or "", err)
            return 1

    return worst(await run_each(list(by_context), guarded))  # type: ignore[arg-type]


def report(where: str | None, err: BaseException) -> None:
    """One line on stderr for what went wrong in one context, named first."""
    named = f"{plain(where)}: " if where else ""
    print(f"iot-defender-tui: {named}{plain(str(err))}", file=sys.stderr)


async def where_from(dd: Any, target: Target, *, required: bool = False) -> Source:
    """The account, region and context `dd`'s findings come from: the account from the context when it
    is known (an organization's, a table's account_id, a role's ARN), else from STS. Unless `required`
    (ASFF and OCSF cannot do without it), an STS that cannot be reached (a network with only an IoT
    endpoint) leaves the account empty, with a warning, rather than the findings unread."""
    from .aws.context_fanout import known_account, partition_of
    from .aws.errors import AwsError
    from .export import Source

    account = known_account(target.context) if target.context else None
    partition = partition_of(target.context)
    if account is None:
        try:
            me = await dd.identity()
        except AwsError as err:
            if required:
                raise
            print(f"iot-defender-tui: warning: {_named(target)}the account is not known (the findings "
                  f"name none): {plain(str(err))}", file=sys.stderr)  # fmt: skip
            me = None
        account = me.account if me else ""
        if me and me.arn.count(":") > 1:
            partition = me.arn.split(":")[1]
    region = dd.region or target.connection.region or ""
    return Source(account, region, partition=partition or "aws", context=target.name)


def _named(target: Target) -> str:
    return f"{plain(target.name)}: " if target.name else ""


def started(coroutine: Awaitable[Source]) -> asyncio.Future[Source]:
    """`coroutine` running now; its error, if nobody waits for it, not logged at exit."""
    future = asyncio.ensure_future(coroutine)
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    return future


async def stop(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.cancel()
    await asyncio.wait([future])


def worst(codes: Sequence[int]) -> int:
    """The run's exit code from each context's: an error (1) first, then 3 (a finding at or above
    --fail-on), then 0."""
    for code in (1, 3):
        if code in codes:
            return code
    return max(codes, default=0)


class Output:
    """The one writer a run's contexts share, made when the first has findings to write: a run that
    fails before that prints nothing (as a single audit's always did), unless every context was asked
    for (then the empty array, header or report is written: it has the errors, for JUnit)."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        self.writer: Writer | None = None

    def open(self, source: Source, checks: Sequence[str]) -> Writer:
        from .export import writer

        if self.writer is None:
            self.writer = writer(self.fmt, sys.stdout, source, checks)
        else:
            self.writer.expect(source, checks)
        return self.writer

    def failed(self, where: str, err: BaseException) -> None:
        from .export import Source

        if self.fmt == "junit":
            self.open(Source("", ""), ()).failed(where, str(err))

    def close(self, *, every: bool = False) -> None:
        from .export import Source

        if self.writer is None and every:
            self.open(Source("", ""), ())
        if self.writer is not None:
            self.writer.close()
