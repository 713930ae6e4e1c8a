"""The DefenderClient's plumbing: client lifecycle, the one read path and the one write path.

Every read goes through `_call`: wait for the operation's token bucket, send (botocore retries
transient failures in standard mode), retry throttling that outlasted botocore, and map any failure to
an AwsError. Writes go through `_mutate`, which is where `--read-only` and the journal live; they are
sent by clients without botocore's retries, and what may be resent or must be checked after an error is
decided in aws/mutations.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from . import fastparse, guard, mutations
from .errors import THROTTLING_CODES, AwsError, NotFoundError, map_error
from .models_resources import Identity
from .pagination import PageSpec, pages
from .ratelimit import RateLimiter, retry_throttled
from .session import ConnectionSettings, Tuning, create_session, effective_region, fail_fast_on_refused

if TYPE_CHECKING:
    from aiobotocore.session import AioSession

    from .journal import Journal

EAGER_SERVICES = ("iot",)  # STS (the identity), IAM and SNS are opened on first use


def _is_throttle(exc: BaseException) -> bool:
    if not isinstance(exc, ClientError):
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return exc.response.get("Error", {}).get("Code") in THROTTLING_CODES or status == 429


def _result_for_journal(response: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


class ClientCore:
    def __init__(
        self,
        settings: ConnectionSettings,
        journal: Journal | None = None,
        *,
        tuning: Tuning | None = None,
        journal_problem: str | None = None,
        session: AioSession | None = None,
    ):
        """`session`: one from `create_session` for the same profile (and role), shared by the clients of
        its regions: each session loads botocore's models and endpoint data itself, ~0.1 s a client that
        fifty contexts' clients (the Fleet overview) would pay one after another on the event loop."""
        self.settings = settings
        self.journal = journal
        # Why there is no journal (shown when a write is refused); a client without one sends no write.
        self.journal_problem = journal_problem if journal is None else None
        self.tuning = tuning or Tuning()
        self.region: str | None = None
        self._stack: AsyncExitStack | None = None
        self._clients: dict[str, Any] = {}
        self._writers: dict[str, Any] = {}  # the same services without botocore's retries, for writes
        self._limiter = RateLimiter(self.tuning.rate_scale)
        self._identity: Identity | None = None
        self._session: Any = None
        self._shared_session = session
        self._opening = asyncio.Lock()
        # Attempts on the wire: when each was sent, by the task sending it (a task sends one at a time).
        self._sent: dict[asyncio.Task[Any], float] = {}
        self._answered_at = 0.0  # when the endpoint last answered anything, a throttling error included

    # -- lifecycle -----------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        # Clients are made here, inside the running loop: aiohttp sessions are bound to the loop that
        # created them, so nothing of this may outlive `async with` or be shared between loops.
        stack = AsyncExitStack()
        try:
            self._session = self._shared_session or create_session(self.settings)
            self.region = await effective_region(self.settings, self._session)
            self._stack = stack
            for service in EAGER_SERVICES:
                await self._open(service)
            fastparse.register(self._clients["iot"])
        except BaseException as exc:
            self._stack = None
            await stack.aclose()
            self._clients.clear()
            self._writers.clear()
            if isinstance(exc, BotoCoreError | ClientError):
                raise map_error(exc, None, self.settings.profile) from exc
            raise
        self._stack = stack
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        stack, self._stack = self._stack, None
        self._clients.clear()
        self._writers.clear()
        if stack is not None:
            await stack.aclose()

    async def _open(self, service: str, *, writer: bool = False) -> Any:
        if self._stack is None:
            raise RuntimeError("DefenderClient is not open: use `async with DefenderClient(...)`")
        endpoint = self.settings.endpoint_for(service)
        # A plain-HTTP endpoint (a local sandbox) has no TLS to verify: not loading the CA bundle for it
        # saves ~45 ms before a client's first request.
        plain = {"verify": False} if endpoint and endpoint.lower().startswith("http://") else {}
        creator = self._session.create_client(
            service,
            region_name=self.region,
            endpoint_url=endpoint,
            config=self.tuning.botocore_config(retries=not writer),
            **plain,
        )
        client = await self._stack.enter_async_context(creator)
        fail_fast_on_refused(client)
        # Each attempt on the wire, from its send to its answer: botocore's back-off sleeps between
        # throttled attempts are not waits for an answer.
        client.meta.events.register("before-send", self._sending)
        client.meta.events.register("needs-retry", self._heard)  # after every attempt, retried or not
        (self._writers if writer else self._clients)[service] = client
        return client

    async def _client(self, service: str, *, writer: bool = False) -> Any:
        """IoT is opened with the client; STS, IAM and SNS when first used: IAM's and SNS's models cost
        ~6 MB that most sessions never need (pickers, creating a role), and `--task` asks for findings
        before the identity. A service's writer (no retries) is opened with its first write."""
        clients = self._writers if writer else self._clients
        client = clients.get(service)
        if client is None:
            async with self._opening:
                client = clients.get(service) or await self._open(service, writer=writer)
        return client

    # -- the request paths -----------------------------------------------------------------------------
    async def _call(self, service: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        try:
            method = getattr(await self._client(service), xform_name(operation))
        except (BotoCoreError, ClientError) as exc:
            raise map_error(exc, operation, self.settings.profile, service=service) from exc
        kwargs = {k: v for k, v in params.items() if v is not None}

        async def once() -> dict[str, Any]:
            await self._limiter.acquire(service, operation)
            try:
                return await method(**kwargs)
            finally:
                self._answered()  # cancelled mid-attempt, botocore says nothing more about it

        try:
            return await retry_throttled(once, _is_throttle, self.tuning.backoff)
        except (BotoCoreError, ClientError) as exc:
            raise map_error(exc, operation, self.settings.profile, service=service) from exc

    def _sending(self, **_: object) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._sent[task] = time.monotonic()

    def _heard(self, response: Any = None, **_: object) -> None:
        self._answered()
        if response is not None:  # an HTTP answer; None: the attempt raised (timeout, connection lost)
            self._answered_at = time.monotonic()

    def _answered(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._sent.pop(task, None)

    def longest_wait(self) -> float:
        """Seconds a request on the wire has waited with no answer from the endpoint meanwhile (0 when none
        is out). A paused or silently dropped endpoint answers nothing until the read timeout (30 s): this
        says so sooner."""
        for task in [t for t in self._sent if t.done()]:
            del self._sent[task]  # its attempt ended without botocore saying so (cancelled)
        waiting = self._sent.values()
        if not waiting:
            return 0.0
        return time.monotonic() - max(min(waiting), self._answered_at)

    async def _read(self, service: str, operation: str, params: Mapping[str, Any] | None = None) -> dict:
        if guard.is_mutating(operation):
            # A programming error, not a user one: writes must pass the read-only guard and the journal.
            raise RuntimeError(f"{operation} changes the account: send it with _mutate")
        return await self._call(service, operation, params or {})

    def _ensure_writable(self, operation: str) -> None:
        """Refuse `operation` in read-only mode or without a journal; a write that first reads what it
        will change calls this before those reads too, so a refused write sends nothing at all."""
        problem = None if self.journal is not None else self.journal_problem or "no journal is open"
        guard.ensure_writable(operation, self.settings.read_only, problem)

    async def _mutate(
        self,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        *,
        prior: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The only way a request that changes the account is sent; `prior` is journaled with it (what it
        will replace, where AWS keeps no record).

        After an error AWS may have acted on (a 5xx, a read timeout, a dropped connection), the journal
        entry stays "outcome unknown" until what AWS did is known: checked now (mutations.VERIFIERS),
        closed with the finding; or left for reconcile_journal. A write found done is returned as a success
        whose ResponseMetadata["Verified"] says what was checked.
        """
        self._ensure_writable(operation)
        journal = self.journal
        assert journal is not None
        sent = {k: v for k, v in params.items() if v is not None}
        me = await self.identity()
        # SQLite's fsync may take a while: not on the event loop. Awaited, so the intent is on disk
        # before the request leaves.
        entry = await asyncio.to_thread(
            journal.record_intent,
            identity_arn=me.arn,
            account=me.account,
            region=self.region or "",
            operation=operation,
            params=sent,
            prior=prior,
        )
        try:
            response, verdict = await self._send_write(service, operation, sent)
        except mutations.NotCarriedOutError as err:
            await asyncio.to_thread(journal.mark_reconciled, entry, f"not carried out: {err.message}")
            raise
        except mutations.OutcomeUnknownError:
            raise  # the entry stays an intent: reconcile_journal asks AWS again later
        except AwsError as err:  # AWS refused it, or it was never sent
            await asyncio.to_thread(journal.record_outcome, entry, error=str(err))
            raise
        # A cancelled await (the app closing) may come after AWS acted: the entry stays an intent.
        if verdict is not None:
            await asyncio.to_thread(journal.mark_reconciled, entry, f"carried out: {verdict}")
        else:
            await asyncio.to_thread(journal.record_outcome, entry, result=_result_for_journal(response))
        return response

    async def _send_write(
        self, service: str, operation: str, params: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        """Send a write once, and again only when that is safe; (response, what was verified or None)."""
        try:
            method = getattr(await self._client(service, writer=True), xform_name(operation))
        except (BotoCoreError, ClientError) as exc:
            raise map_error(exc, operation, self.settings.profile, service=service) from exc
        backoff = self.tuning.backoff
        waits = resends = 0
        ambiguous: BaseException | None = None  # the first answer after which AWS may have acted
        known = await mutations.before(self, operation, params)
        sent_at = time.time()
        while True:
            await self._limiter.acquire(service, operation)
            try:
                response = await method(**params)
            except mutations.SEND_ERRORS as exc:
                kind = mutations.failure_kind(exc)
                error = map_error(exc, operation, self.settings.profile, service=service)
                if kind == "not sent" and waits < backoff.attempts + self.tuning.max_attempts:
                    await asyncio.sleep(backoff.delay(min(waits, backoff.attempts)))
                    waits += 1
                    continue
                gone = isinstance(error, NotFoundError) and operation.startswith("Delete")
                if ambiguous is not None and gone:  # an earlier attempt deleted it
                    return {}, f"it no longer exists (after {mutations.what_aws_answered(ambiguous)})"
                if kind != "ambiguous":
                    if ambiguous is not None:
                        raise self._unknown(operation, ambiguous, f"then {error.text}") from exc
                    raise error from exc
                ambiguous = ambiguous or exc
                answered = mutations.what_aws_answered(exc)
                verdict = await mutations.verify(self, operation, params, sent_at, known)
                if verdict.done:
                    metadata = {"Verified": f"{verdict.note} (after {answered})"}
                    return {**verdict.response, "ResponseMetadata": metadata}, metadata["Verified"]
                if operation in mutations.RESENDABLE and resends < mutations.RESEND_LIMIT:
                    await asyncio.sleep(backoff.delay(resends))
                    resends += 1
                    continue
                if verdict.done is False:
                    raise mutations.NotCarriedOutError(
                        error.code,
                        f"{answered}; checked: {verdict.note}. Nothing was changed: try again.",
                        operation,
                    ) from exc
                raise self._unknown(operation, exc, verdict.note) from exc
            return response, None  # AWS's own answer, even to a resend: a definite outcome

    def _unknown(self, operation: str, exc: BaseException, note: str) -> mutations.OutcomeUnknownError:
        return mutations.OutcomeUnknownError(
            "OutcomeUnknown",
            f"{mutations.what_aws_answered(exc)}; whether AWS carried it out is unknown ({note}). The "
            "journal keeps it as outcome unknown; check in AWS before trying again.",
            operation,
        )

    async def _pages(
        self,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        spec: PageSpec,
        *,
        prefetch: bool = False,
    ) -> AsyncIterator[list[Any]]:
        async def fetch(request: dict[str, Any]) -> Mapping[str, Any]:
            return await self._read(service, operation, request)

        async for page in pages(fetch, params, spec, prefetch=prefetch):
            yield page

    async def _all(self, service: str, operation: str, params: Mapping[str, Any], spec: PageSpec) -> list:
        found: list[Any] = []
        async for page in self._pages(service, operation, params, spec):
            found.extend(page)
        return found

    # -- who am I -----------------------------------------------------------------------------------------
    async def identity(self) -> Identity:
        """The caller's account and ARN (STS GetCallerIdentity), fetched once per client."""
        if self._identity is None:
            self._identity = Identity.from_api(await self._read("sts", "GetCallerIdentity"))
        return self._identity
