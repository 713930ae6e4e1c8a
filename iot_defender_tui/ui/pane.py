"""What every pane shares: access to the AWS client, and polling that never overlaps or runs hidden.

A pane polls with one exclusive worker in its own group, re-armed with a timer only after the previous
poll finished, so a slow network never piles up requests; it stops while the pane is not shown.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar

from textual.containers import Container
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from ..aws.ratelimit import RETRYING
from .contract import defender

if TYPE_CHECKING:
    from ..aws.client import DefenderClient
    from ..config import Settings


class Pane(Container):
    """Subclasses implement `poll()` (fetch + update, async) and `busy` (something IN_PROGRESS)."""

    title: ClassVar[str] = ""
    busy: bool = False  # set by poll(): fast polling while something is in progress
    retries: int = 0  # throttled requests of the running poll retried so far
    listed: bool = False  # the first answer arrived: before it, a count or "none" would mean nothing

    def __init__(self, *children, **kwargs) -> None:
        super().__init__(*children, **kwargs)
        self._timer: Timer | None = None
        self._to_say: list[str] = []  # notifications waiting for the refresh that shows their change

    def _workspace(self) -> Any:
        """The context's workspace this pane is in (ui/workspace.py), None outside one (a test's app)."""
        return next((node for node in self.ancestors if getattr(node, "is_workspace", False)), None)

    # A pane talks to its own context's client, whichever context is shown (a worker of a pane being
    # hidden by a switch never sends to the context switched to).
    @property
    def dd(self) -> DefenderClient:
        ws = self._workspace()
        return ws.dd if ws is not None else defender(self.app).dd

    @property
    def settings(self) -> Settings:
        return defender(self.app).settings

    @property
    def read_only(self) -> bool:
        ws = self._workspace()
        return bool(ws.read_only if ws is not None else defender(self.app).read_only)

    async def poll(self) -> None:
        raise NotImplementedError

    def interval(self) -> float:
        s = self.settings
        return s.audit_poll_seconds if self.busy else s.idle_poll_seconds

    def refresh_now(self) -> None:
        """Poll at once (the `r` key, or after a change this pane made)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.run_worker(self._poll, group=f"poll-{self.id}", exclusive=True, exit_on_error=False)

    def refresh_then_say(self, message: str) -> None:
        """A change this pane made: its list is refreshed first and the notification comes after, so
        "Saved …" never sits over a list that does not show the change yet."""
        self._to_say.append(message)
        self.refresh_now()

    async def _poll(self) -> None:
        self.retries = 0
        RETRYING.set(self._retried)  # this worker's own context: other panes' retries are theirs
        cancelled = False
        try:
            await self.poll()
            self.listed = True
        except asyncio.CancelledError:
            cancelled = True  # a newer poll took over: it says what is pending
            raise
        finally:
            if self.retries:
                self.retries = 0
                self.show_retries()
            if not cancelled:  # said even if the refresh failed: the change itself was made
                said, self._to_say = self._to_say, []
                for message in said:
                    self.app.notify(message, markup=False)

    def _retried(self) -> None:
        self.retries += 1
        self.show_retries()

    def show_retries(self) -> None:
        """Say `self.retries` (throttled requests of this poll retried so far) where data is missing."""

    def waiting(self) -> str:
        """What a list says before its first answer: loading, or how many throttled requests were retried."""
        return f"throttled, retrying ({self.retries})…" if self.retries else "loading…"

    def pause(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.workers.cancel_group(self, f"poll-{self.id}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker.StateChanged does not bubble: hand every worker's end to the app, the one place that
        # turns errors into the status line.
        defender(self.app).report_worker(event.worker, event.state)
        if event.worker.group != f"poll-{self.id}":
            return
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR) and self.is_attached and self.is_on_screen:
            # Re-armed only when a poll ended: polls never overlap. Errors back off to the idle rate;
            # the app shows them in the status line (it watches every worker).
            delay = self.interval() if event.state == WorkerState.SUCCESS else self.settings.idle_poll_seconds
            self._timer = self.set_timer(delay, self.refresh_now)
