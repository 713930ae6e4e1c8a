"""The app's use of the local audit history (history/store.py) for the account and region it is on.

Reads and writes go to one thread of their own, never the event loop: a 100,000-finding audit is written
while its first load streams from AWS, in the order it came; a stored list is read back on demand
(history/browse.py, on a thread of its own), its first screenful first. The store failing after it was
opened (a full disk, a damaged page) is said once in the status line; the app goes on without it, as it
does when the store cannot be opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..aws.models import AuditTask, Finding
from ..history.drift import drift, previous_covering
from ..history.models import Drift
from ..history.store import AuditStore, HistoryError
from ..history.sync import SyncState, store_audit

if TYPE_CHECKING:
    from ..aws.client import DefenderClient
    from ..history.browse import StoredList

T = TypeVar("T")
APP_CACHE_MIB = 4  # SQLite's page cache for the app's writes, one AWS page at a time (see AuditStore)
FIRST_BATCH = 500  # a screen's worth and more: shown while a stored list's index is built


def open_store(*, sandbox: bool) -> tuple[AuditStore | None, str | None]:
    """The history, or None and why. `--sandbox` gets one of its own, removed on close: a sandbox is a new
    account every time, and its audits must not mix with the user's."""
    try:
        if not sandbox:
            return AuditStore.open(cache_mib=APP_CACHE_MIB), None
        directory = Path(tempfile.mkdtemp(prefix="iot-defender-tui-history-"))
        store = AuditStore.open(directory / "audit-history.sqlite3", cache_mib=APP_CACHE_MIB)
        store.temporary = directory  # type: ignore[attr-defined]
        return store, None
    except (HistoryError, OSError) as err:
        return None, getattr(err, "reason", str(err))


def close_store(store: AuditStore) -> None:
    store.close()
    directory = getattr(store, "temporary", None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


class HistoryLink:
    """The store, keyed to the connected account and region."""

    def __init__(self, store: AuditStore, account: str, region: str, failed: Callable[[str], None]) -> None:
        self.store, self.account, self.region = store, account, region
        self._failed = failed
        self._said = False
        # Made on the app's loop: a write failing on the history's thread is said back on the loop.
        self._loop = asyncio.get_running_loop()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")
        self._saved_tasks: set[str] = set()

    def close(self) -> None:
        self._thread.shutdown(wait=True, cancel_futures=False)  # what was handed over is written

    # -- reads (awaited) ------------------------------------------------------------------------------
    async def _run(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.wrap_future(self._thread.submit(call, *args))

    async def stored(self, task_id: str) -> bool:
        """Every finding of this completed audit is in the store: it can be read from there."""
        try:
            return await self._run(self.store.is_complete, self.account, self.region, task_id)
        except HistoryError as err:
            self._fail(err)
            return False

    async def older(self, listed: set[str]) -> list[AuditTask]:
        """Stored audits AWS no longer lists (past its 90 days, or from `history sync`), whole in the store
        so they open from it; [] if the store fails."""

        def read() -> list[AuditTask]:
            tasks = self.store.tasks(self.account, self.region)
            wanted = [t for t in tasks if t.task_id not in listed and t.status == "COMPLETED"]
            return [t for t in wanted if self.store.is_complete(self.account, self.region, t.task_id)]

        try:
            return await self._run(read)
        except HistoryError as err:
            self._fail(err)
            return []

    async def first(self, task_id: str, check_name: str | None) -> tuple[Finding, ...]:
        """The first screenful and more of a stored list, in its order."""
        args = (self.account, self.region, task_id, check_name, 0, FIRST_BATCH)
        return tuple(await self._run(self.store.findings_page, *args))

    async def browse(
        self, task_id: str, check_name: str | None, against: tuple[str, bool] | None = None
    ) -> StoredList:
        """A stored list to read on demand (history/browse.py), built on a thread of its own: its scan of a
        1,000,000-finding audit takes seconds, and the history's thread stays free for writes meanwhile."""
        from ..history.browse import StoredList  # numpy: imported when a stored list is first opened

        def build() -> StoredList:
            where = (self.store.path, self.account, self.region, task_id, check_name)
            stored = StoredList(*where, against=against)
            try:
                stored.load()
            except BaseException:
                stored.close()
                raise
            return stored

        future = asyncio.ensure_future(asyncio.to_thread(build))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:  # the list was left: its connection is closed once built
            future.add_done_callback(lambda f: f.cancelled() or f.exception() or f.result().close())
            raise

    async def ensure(self, dd: DefenderClient, task: AuditTask) -> None:
        """The completed audit whole in the store: what is missing is read from AWS (its checks with
        findings not stored yet), saved, and marked whole check by check, so an interruption resumes.
        As `history sync` does it, on threads of its own (the store's lock orders the writes)."""
        await self._run(lambda: None)  # what this link handed over first: the sync then sees it stored
        await store_audit(dd, self.store, task.task_id, SyncState(account=self.account, region=self.region))

    async def drift(
        self, later: str, earlier: str | None = None
    ) -> tuple[Drift, AuditTask, AuditTask] | None:
        """Drift from `earlier` (default: the previous stored audit of the same checks) to `later`; None
        when there is no earlier audit to compare with."""

        def compute() -> tuple[Drift, AuditTask, AuditTask] | None:
            before = earlier or previous_covering(self.store, self.account, self.region, later)
            if before is None:
                return None
            a = self.store.task(self.account, self.region, before)
            b = self.store.task(self.account, self.region, later)
            if a is None or b is None:
                return None
            return drift(self.store, self.account, self.region, before, later), a, b

        return await self._run(compute)

    def task(self, task_id: str) -> AuditTask | None:
        """A stored audit (read on the caller's thread: a single-row query)."""
        return self.store.task(self.account, self.region, task_id)

    # -- writes (handed over, not awaited) ------------------------------------------------------------
    def _write(self, call: Callable[..., object], *args: Any) -> Future[object]:
        future = self._thread.submit(call, *args)
        future.add_done_callback(self._check)
        return future

    def _check(self, future: Future[object]) -> None:
        """Runs on the history's thread: widgets are only touched from the loop."""
        error = None if future.cancelled() else future.exception()
        if error is not None and not isinstance(error, HistoryError):
            error = HistoryError(f"{type(error).__name__}: {error}")
        if error is not None:
            self._loop.call_soon_threadsafe(self._fail, error)

    def _fail(self, error: HistoryError) -> None:
        if not self._said:  # once: a store that failed fails every call after
            self._said = True
            self._failed(f"Audit history: {error.reason}. The app goes on without saving audits there.")

    def save_task(self, task: AuditTask) -> None:
        """A completed audit with its per-check results (what `stored` needs to know which checks ran)."""
        if task.status == "COMPLETED" and task.checks and task.task_id not in self._saved_tasks:
            self._saved_tasks.add(task.task_id)
            self._write(self.store.save_task, self.account, self.region, task)

    def save_findings(self, task_id: str, findings: Iterable[Finding]) -> None:
        self._write(self.store.save_findings, self.account, self.region, task_id, list(findings))

    def check_complete(self, task_id: str, check_names: Iterable[str]) -> None:
        for name in check_names:
            self._write(self.store.mark_check_complete, self.account, self.region, task_id, name)

    def suppressed(self, finding_ids: Iterable[str], suppressed: bool) -> None:
        self._write(self.store.set_suppressed, self.account, self.region, list(finding_ids), suppressed)

    def flush(self) -> None:
        """Wait for every write handed over so far (tests, and the app's exit)."""
        with contextlib.suppress(Exception):
            self._thread.submit(lambda: None).result()
