"""survey(): every context gets its row, at most N reads in flight overall and per account, one failure
never stops the others, and leaving early cancels what is still running. No clocks: reads wait on events
the test releases, and in-flight reads are counted."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from botocore.exceptions import ClientError

from iot_defender_tui.aws.contexts import Context
from iot_defender_tui.aws.errors import AccessDeniedError, AwsError
from iot_defender_tui.aws.survey import account_key, survey


def contexts(n: int, *, profile: str | None = None, prefix: str = "ctx") -> list[Context]:
    return [Context(f"{prefix}{k}", profile, f"region-{k}") for k in range(n)]


class Reads:
    """A read that counts itself in flight and waits until the test lets it go."""

    def __init__(self) -> None:
        self.in_flight: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.overall = self.most_overall = 0
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, context: Context) -> str:
        key = account_key(context)
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        self.most[key] = max(self.most.get(key, 0), self.in_flight[key])
        self.overall += 1
        self.most_overall = max(self.most_overall, self.overall)
        self.started.append(context.name)
        try:
            await self.release.wait()
            return f"read {context.name}"
        finally:
            self.in_flight[key] -= 1
            self.overall -= 1


async def settle() -> None:
    for _ in range(20):  # let every task that can start do so
        await asyncio.sleep(0)


async def test_at_most_concurrency_reads_in_flight_and_every_context_gets_its_row() -> None:
    reads = Reads()
    fleet = [c for n in range(6) for c in contexts(5, profile=f"account{n}", prefix=f"a{n}-")]
    got: dict[str, object] = {}

    async def consume() -> None:
        async for context, result in survey(fleet, reads, concurrency=7, per_account=4):
            got[context.name] = result

    consumer = asyncio.create_task(consume())
    await settle()
    assert reads.overall == 7  # as many as allowed started, no more
    reads.release.set()
    await consumer
    assert reads.most_overall == 7
    assert got == {c.name: f"read {c.name}" for c in fleet}


async def test_one_account_gets_at_most_per_account_reads_while_others_go_on() -> None:
    reads = Reads()
    # The busy account's contexts come first: the others must not queue behind them.
    fleet = contexts(10, profile="busy", prefix="busy") + contexts(3, profile="quiet", prefix="quiet")
    consumer = asyncio.create_task(_drain(survey(fleet, reads, concurrency=16, per_account=2)))
    await settle()
    assert reads.in_flight == {"profile:busy": 2, "profile:quiet": 2}
    reads.release.set()
    results = await consumer
    assert reads.most == {"profile:busy": 2, "profile:quiet": 2}
    assert len(results) == 13


async def _drain(rows) -> list:
    return [row async for row in rows]


async def test_a_failing_context_is_its_own_row_and_the_others_fill() -> None:
    def denied() -> ClientError:
        body = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform: iot:X"}}
        return ClientError(body, "DescribeAccountAuditConfiguration")  # type: ignore[arg-type]

    async def read(context: Context) -> str:
        if context.name == "ctx1":
            raise denied()
        if context.name == "ctx2":
            raise RuntimeError("something unexpected")
        await asyncio.sleep(0)
        return "fine"

    got = {c.name: r for c, r in await _drain(survey(contexts(5), read, concurrency=2))}
    assert isinstance(got["ctx1"], AccessDeniedError)
    assert isinstance(got["ctx2"], AwsError) and "something unexpected" in got["ctx2"].text
    assert [got[f"ctx{k}"] for k in (0, 3, 4)] == ["fine"] * 3


async def test_results_come_as_reads_end_not_in_context_order() -> None:
    gates = {name: asyncio.Event() for name in ("ctx0", "ctx1", "ctx2")}

    async def read(context: Context) -> str:
        await gates[context.name].wait()
        return context.name

    rows = survey(contexts(3), read)
    first = asyncio.create_task(anext(rows))
    await settle()
    gates["ctx2"].set()
    assert (await first)[1] == "ctx2"
    gates["ctx0"].set()
    gates["ctx1"].set()
    assert sorted([r async for _, r in rows]) == ["ctx0", "ctx1"]


async def test_leaving_early_cancels_the_reads_still_running() -> None:
    reads = Reads()
    cancelled: list[str] = []

    async def read(context: Context) -> str:
        if context.name == "ctx0":
            return "quick"
        try:
            return await reads(context)
        except asyncio.CancelledError:
            cancelled.append(context.name)
            raise

    async with contextlib.aclosing(survey(contexts(4), read)) as rows:
        async for _context, result in rows:
            assert result == "quick"
            break
    assert sorted(cancelled) == ["ctx1", "ctx2", "ctx3"]
    assert reads.overall == 0


async def test_cancelling_the_consumer_stops_every_read() -> None:
    reads = Reads()
    consumer = asyncio.create_task(_drain(survey(contexts(5), reads, per_account=8)))
    await settle()
    assert reads.overall == 5
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert reads.overall == 0


def test_contexts_of_one_account_share_a_key() -> None:
    role = Context("a", None, "us-east-1", role_arn="arn:aws:iam::111122223333:role/Audit")
    other_region = Context("b", "admin", "eu-west-1", role_arn="arn:aws:iam::111122223333:role/Audit")
    assert account_key(role) == account_key(other_region) == "account:111122223333"
    assert account_key(Context("c", "dev", "us-east-1")) != account_key(Context("d", "prod", "us-east-1"))


async def test_bounds_below_one_are_refused() -> None:
    with pytest.raises(ValueError):
        await _drain(survey(contexts(1), Reads(), concurrency=0))
