"""Fault soak: the real app, driven by keys, against a faulty sandbox that is killed and restarted.

    python tests/soak/soak.py [--minutes 10] [--port N]

The sandbox is a child process on one fixed loopback port, with `--throttle-rate 0.2 --error-rate 0.05
--error-after-rate 0.02 --latency-ms 50` (the last rate only if this sandbox has it). The app
(`DefenderApp` under `run_test`, real workers, real HTTP, a journal in a temporary file) is driven by keys
in a loop: an audit from Schedules (`2`, `o`, picker, `y`), its findings in Results, suppress and
unsuppress one (`s`, `S`), a mitigation action made in Mitigation (`n`, F3 for its role) and applied to a
marked finding (`space`, `a`). At a third and two thirds of the run the sandbox is killed (SIGKILL) and a
fresh one started on the same port: the app must carry on by itself. At the end the faults are switched
off (`POST /_sandbox/faults`) and the seconds until Results shows what the server has are measured; then
a second app on the same journal reconciles it, as a restart after a crash would.

Prints one JSON object: crashes, worker errors nobody reported, duplicate tasks (server tasks beyond what
the user confirmed, per sandbox life), journal entries left without outcome, recovery seconds, and
whether the screen's final lists equal the server's. `soak(seconds)` is what tests/soak/test_soak.py runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from textual.worker import Worker, WorkerState  # noqa: E402

from iot_defender_tui.aws.journal import Journal  # noqa: E402
from iot_defender_tui.aws.session import ConnectionSettings, Tuning  # noqa: E402
from iot_defender_tui.config import Settings  # noqa: E402
from iot_defender_tui.ui.app import DefenderApp  # noqa: E402

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
FAULTS = {"--throttle-rate": 0.2, "--error-rate": 0.05, "--error-after-rate": 0.02, "--latency-ms": 50}
OFF = "throttle_rate=0&error_rate=0&latency_ms=0"
IDLE_POLL = 3.0  # the app's idle poll: recovery after the faults stop is measured against it
SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"
# Workers that send changes: the sandbox is killed only while none runs, so every confirmed change
# belongs to one sandbox's life.
WRITE_GROUPS = {
    "results-change",
    "apply-start",
    "create-role",
    "action-form",
    "schedule-form",
    "settings-save",
    "mitigation-change",
    "schedules-change",
    "schedules-audit",
}
STEP = 20.0  # the longest wait for one step of a flow before it is given up


def log(text: str) -> None:
    os.write(2, f"{time.strftime('%H:%M:%S')} soak: {text}\n".encode())


# -- the sandbox child ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fault_flags() -> list[str]:
    """The soak's faults, without those this sandbox does not know (`--error-after-rate` is newer)."""
    from iot_defender_tui.cli import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    known = commands.choices["sandbox"].format_help()
    return [part for flag, value in FAULTS.items() if flag in known for part in (flag, str(value))]


class Sandbox:
    running: ClassVar[set[Sandbox]] = set()

    def __init__(self, port: int, flags: list[str], workdir: Path) -> None:
        self.port, self.flags, self.workdir = port, flags, workdir
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.lives = 0

    def start(self, timeout: float = 90.0) -> None:
        command = [sys.executable, "-m", "iot_defender_tui", "sandbox", "--port", str(self.port)]
        command += ["--fleet", "lab", "--audit-seconds", "1", "--mitigation-seconds", "0.5", *self.flags]
        self.lives += 1
        Sandbox.running.add(self)
        errors = (self.workdir / f"sandbox-{self.lives}.err").open("w")
        env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, text=True, env=env
        )
        errors.close()
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = self.process.stdout.readline()  # the URL line, printed once the fleet is seeded
        if self.url not in line or time.monotonic() > deadline:
            self.kill()
            raise RuntimeError(f"the sandbox did not start on port {self.port}: {line!r}")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, connections drop mid-request."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def admin(self, path: str, method: str = "GET") -> dict:
        request = urllib.request.Request(f"{self.url}/_sandbox/{path}", method=method)
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.load(reply)


def server_client(url: str) -> Any:
    """The harness's own view of the sandbox, patient enough to see through the faults."""
    config = Config(retries={"mode": "standard", "max_attempts": 20}, connect_timeout=5, read_timeout=20)
    return boto3.client(
        "iot",
        endpoint_url=url,
        region_name=REGION,
        config=config,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def server_tasks(url: str) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Audit tasks (id → type, status) and mitigation tasks (id → status) the sandbox has."""
    iot = server_client(url)
    now = datetime.now(UTC)
    window = {"startTime": now - timedelta(days=89), "endTime": now + timedelta(minutes=5)}
    audits: dict[str, tuple[str, str]] = {}
    for page in iot.get_paginator("list_audit_tasks").paginate(**window):
        audits.update({t["taskId"]: (t["taskType"], t["taskStatus"]) for t in page["tasks"]})
    mitigations: dict[str, str] = {}
    for page in iot.get_paginator("list_audit_mitigation_actions_tasks").paginate(**window):
        mitigations.update({t["taskId"]: t["taskStatus"] for t in page["tasks"]})
    return audits, mitigations


def reactivate_certificates(url: str) -> int:
    """What a user does with the CLI between two mitigations: turn the deactivated certificates back on."""
    iot = server_client(url)
    inactive = [
        c["certificateId"] for c in iot.list_certificates()["certificates"] if c["status"] == "INACTIVE"
    ]
    for cert in inactive:
        iot.update_certificate(certificateId=cert, newStatus="ACTIVE")
    return len(inactive)


# -- the app ----------------------------------------------------------------------------------------
class SoakApp(DefenderApp):
    """The real app, keeping what it told the user and which worker errors it reported."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []
        self.reported: set[int] = set()

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.notes.append(str(message))
        super().notify(message, *args, **kwargs)

    def report_worker(self, worker: Worker, state: WorkerState) -> None:
        if state == WorkerState.ERROR:
            self.reported.add(id(worker))
        super().report_worker(worker, state)

    def bell(self) -> None:
        pass


class WorkerWatch:
    """Every worker of the process that ends in ERROR (Worker.state's setter is where all ends pass)."""

    def __init__(self) -> None:
        self.errored: dict[int, Worker] = {}
        self._original = Worker.state

    def __enter__(self) -> WorkerWatch:
        original = self._original

        def set_state(worker: Worker, state: WorkerState) -> None:
            original.fset(worker, state)  # type: ignore[misc]
            if state == WorkerState.ERROR:
                self.errored[id(worker)] = worker  # its error is set just after its state

        Worker.state = property(original.fget, set_state)  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        Worker.state = self._original  # type: ignore[method-assign]

    def unreported(self, apps: list[SoakApp]) -> list[str]:
        reported = set().union(*(app.reported for app in apps))
        return [
            f"{w.group}/{w.name}: {w.error!r}"[:300] for key, w in self.errored.items() if key not in reported
        ]


@dataclass
class Life:
    """One sandbox life: what the user confirmed in it and which journal entries it spans."""

    first_entry: int
    seeded: set[str] = field(default_factory=set)  # tasks the fleet came with
    audit_confirms: int = 0
    apply_confirms: int = 0
    server_audits: int = 0
    server_mitigations: int = 0
    journal: Counter = field(default_factory=Counter)


class Driver:
    def __init__(self, app: SoakApp, pilot: Any, sandbox: Sandbox, journal: Journal) -> None:
        self.app, self.pilot, self.sandbox, self.journal = app, pilot, sandbox, journal
        self.lives = [Life(first_entry=1)]
        self.flows: Counter = Counter()
        self.actions = 0  # mitigation actions made so far (a fresh sandbox has none)
        self.action_name: str | None = None
        self.mismatch = ""  # why the screen last differed from the server

    @property
    def life(self) -> Life:
        return self.lives[-1]

    async def until(self, condition: Any, timeout: float = STEP) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(Exception):  # a widget may be mid-mount; try again
                if condition():
                    return True
            if time.monotonic() > deadline:
                return False
            await self.pilot.pause(0.05)

    def screen_is(self, name: str) -> bool:
        # A subclass counts: the apply dialog confirms with ApplyConfirm, a ConfirmModal.
        return any(cls.__name__ == name for cls in type(self.app.screen).__mro__)

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)

    async def base(self) -> None:
        """Back to the panes, closing whatever dialog a failed step left open."""
        for _ in range(8):
            if len(self.app.screen_stack) <= 1:
                return
            await self.press("escape")
            await self.pilot.pause(0.2)

    async def show(self, key: str, pane_id: str) -> Any:
        await self.base()
        await self.press(key)
        shown = lambda: (p := self.app.current_pane()) is not None and p.id == pane_id  # noqa: E731
        if not await self.until(shown, 3):
            # Seen after an apply switched to Mitigation: the key was lost. A user presses it again.
            self.flows[f"pane key {key} pressed again"] += 1
            await self.press(key)
        if not await self.until(shown):
            raise StepFailed(f"pane {pane_id} (screen {self.app.screen}, focus {self.app.focused})")
        pane = self.app.current_pane()
        await self.until(lambda: self.app.focused is not None)
        return pane

    async def confirm(self) -> None:
        if not await self.until(lambda: self.screen_is("ConfirmModal")):
            raise StepFailed("confirmation")
        await self.press("y")

    # -- flows --------------------------------------------------------------------------------------
    async def audit(self) -> str | None:
        """Schedules → o → every enabled check → y; returns the short id the outcome is told with."""
        schedules = await self.show("2", "schedules")
        await self.until(lambda: not getattr(schedules, "_starting", False), 10)
        notes = len(self.app.notes)
        await self.press("o")
        if not await self.until(lambda: self.screen_is("CheckPickerModal")):
            raise StepFailed("check picker")
        await self.press("enter")
        await self.confirm()
        self.life.audit_confirms += 1
        # "Audit 1a2b3c4d… COMPLETED: …" (a mitigation task's outcome may come meanwhile)
        outcome = lambda n: n.startswith("Audit ") and " COMPLETED" in n  # noqa: E731
        if not await self.until(lambda: any(outcome(n) for n in self.app.notes[notes:]), 60):
            raise StepFailed("audit outcome")
        done = next(n for n in self.app.notes[notes:] if outcome(n))
        return done.split()[1].rstrip("…")

    async def results_of(self, short: str) -> Any:
        results = await self.show("3", "results")
        for _ in range(3):
            if results.level == 0:
                break
            await self.press("escape")
            await self.pilot.pause(0.1)
        tasks = results.query_one("#tasks")
        if not await self.until(lambda: any(str(k).startswith(short) for k in tasks.visible_keys())):
            raise StepFailed("the audit in Results")
        key = next(k for k in tasks.visible_keys() if str(k).startswith(short))
        await self.press("home")
        for _ in range(tasks.visible_keys().index(key)):
            await self.press("down")
        await self.press("enter")
        checks = results.query_one("#checks")
        if not await self.until(lambda: results.level == 1 and SHARED in checks.visible_keys()):
            raise StepFailed("the audit's checks")
        await self.press("home")
        for _ in range(checks.visible_keys().index(SHARED)):
            await self.press("down")
        await self.press("enter")
        findings = results.query_one("#findings")
        if not await self.until(
            lambda: results.level == 2 and findings.row_count and not results.stream.loading
        ):
            raise StepFailed("the findings")
        return results

    async def suppress_and_back(self, results: Any) -> None:
        await self.press("s")
        if not await self.until(lambda: self.screen_is("SuppressModal")):
            raise StepFailed("suppress dialog")
        await self.press("enter")  # 1 week
        await self.pilot.pause(0.1)
        await self.press("enter")  # no description
        await self.change(results, "Suppressed")
        await self.press("S")
        await self.change(results, "Unsuppressed")

    async def change(self, results: Any, past: str) -> None:
        """Confirm, then the change's end: a note when it went through, the status line when one failed
        ("Suppressed 0 of 1; 1 failed: …")."""
        notes = len(self.app.notes)
        status = self.app.query_one("#status")
        await self.confirm()
        noted = lambda: any(past in n for n in self.app.notes[notes:])  # noqa: E731
        if not await self.until(lambda: noted() or str(status.render()).startswith(past)):
            raise StepFailed(past.lower())
        await self.until(lambda: not results.suppressions.progress, 10)
        if not noted():
            raise StepFailed(f"{past.lower()}: {status.render()}"[:200])

    async def make_action(self) -> None:
        """Mitigation → n → a deactivate-certificate action, its role made with F3."""
        mitigation = await self.show("4", "mitigation")
        self.actions += 1
        name = f"Soak{self.sandbox.lives}x{self.actions}"
        await self.press("n")
        if not await self.until(lambda: self.screen_is("ActionForm")):
            raise StepFailed("action form")
        await self.press(*name)
        await self.press("f3")
        if not await self.until(lambda: self.screen_is("CreateRoleModal")):
            raise StepFailed("create-role dialog")
        await self.press("ctrl+s")
        await self.confirm()
        if not await self.until(lambda: self.screen_is("ActionForm")):
            raise StepFailed("role created")
        await self.press("ctrl+s")
        await self.confirm()
        actions = mitigation.query_one("#actions")
        if not await self.until(lambda: name in actions.visible_keys()):
            raise StepFailed("action listed")
        self.action_name = name

    async def apply(self, results: Any) -> None:
        await self.press("space", "a")
        if not await self.until(lambda: self.screen_is("ApplyMitigationScreen")):
            raise StepFailed("apply dialog")
        screen = self.app.screen
        if not await self.until(lambda: screen.query_one("SelectionList").option_count >= 1):
            raise StepFailed("actions offered")
        await self.press("space", "enter")
        await self.confirm()
        self.life.apply_confirms += 1
        if not await self.until(
            lambda: self.app.screen is not screen and screen not in self.app.screen_stack
        ):
            raise StepFailed("mitigation started")

    async def round(self) -> None:
        if self.action_name is None:
            await self.step("action", self.make_action())
        await asyncio.to_thread(reactivate_certificates, self.sandbox.url)
        short = await self.step("audit", self.audit())
        if short is None:
            return
        results = await self.step("results", self.results_of(short))
        if results is None:
            return
        await self.step("suppress", self.suppress_and_back(results))
        if self.action_name is not None:
            await self.step("apply", self.apply(results))
        await self.step("refresh", self.refresh())

    async def refresh(self) -> None:
        for key, pane in (("1", "settings"), ("3", "results")):
            await self.show(key, pane)
            await self.press("r")
            await self.pilot.pause(0.3)

    async def step(self, name: str, work: Any) -> Any:
        try:
            result = await work
        except StepFailed as failed:
            status = str(self.app.query_one("#status").render())
            log(f"{name} gave up at {failed} (status line: {status})"[:400])
            self.flows[f"{name} gave up at {failed}"] += 1
            await self.base()
            return None
        self.flows[f"{name} done"] += 1
        log(f"{name} done")
        return result if result is not None else True

    # -- sandbox lives ------------------------------------------------------------------------------
    async def quiet(self, timeout: float = 30.0) -> None:
        """No change in flight: every confirmed change reached this sandbox, or failed."""

        def idle() -> bool:
            return not any(w.is_running and w.group in WRITE_GROUPS for w in self.app.workers)

        await self.until(idle, timeout)

    async def seeded(self) -> set[str]:
        audits, mitigations = await asyncio.to_thread(server_tasks, self.sandbox.url)
        return set(audits) | set(mitigations)

    def last_entry(self) -> int:
        entries = self.journal.entries(1)
        return entries[0].id if entries else 0

    async def end_life(self) -> None:
        await self.quiet()
        audits, mitigations = await asyncio.to_thread(server_tasks, self.sandbox.url)
        life = self.life
        made = {k: v for k, v in audits.items() if k not in life.seeded}
        life.server_audits = sum(1 for kind, _ in made.values() if kind == "ON_DEMAND_AUDIT_TASK")
        life.server_mitigations = len(set(mitigations) - life.seeded)
        last = self.last_entry()
        life.journal = Counter(
            e.operation for e in self.journal.entries() if life.first_entry <= e.id <= last
        )

    async def restart_sandbox(self) -> None:
        await self.end_life()
        log(f"killing sandbox life {self.sandbox.lives} (pid {self.sandbox.process.pid})")
        self.sandbox.kill()
        await asyncio.to_thread(self.sandbox.start)
        self.lives.append(Life(first_entry=self.last_entry() + 1, seeded=await self.seeded()))
        self.action_name = None  # a fresh sandbox has no action and no role

    # -- the end ----------------------------------------------------------------------------------------
    def shown(self, pane_id: str) -> dict[str, str] | None:
        """Task id → status as the pane's task table shows them (None: that pane is not shown)."""
        pane = self.app.current_pane()
        if pane is None or pane.id != pane_id:
            return None
        table = pane.query_one("#tasks")
        column = 2 if pane_id == "results" else 1
        return {str(k): table.row_cells(k)[column].plain.strip() for k in table.visible_keys()}

    async def server(self, pane_id: str) -> dict[str, str]:
        audits, mitigations = await asyncio.to_thread(server_tasks, self.sandbox.url)
        return {k: s for k, (_, s) in audits.items()} if pane_id == "results" else mitigations

    async def screen_equals_server(self, pane_id: str) -> bool:
        truth = await self.server(pane_id)
        shown = self.shown(pane_id)
        self.mismatch = "" if shown == truth else f"{pane_id}: screen {shown} server {truth}"
        return shown == truth

    async def agrees(self, pane_id: str) -> bool:
        """The shown pane's task list equals the server's, within a few polls."""
        deadline = time.monotonic() + 3 * IDLE_POLL + 10
        while time.monotonic() < deadline:
            if await self.screen_equals_server(pane_id):
                return True
            await self.pilot.pause(0.2)
        return False

    async def lists_agree(self) -> dict[str, bool]:
        """Whether Results and Mitigation, each shown, come to list what the server has (faults on)."""
        agree = {}
        for key, pane_id in (("3", "results"), ("4", "mitigation")):
            try:
                pane = await self.show(key, pane_id)
            except StepFailed:
                agree[pane_id] = False
                continue
            for _ in range(3):
                if getattr(pane, "level", 0) == 0:
                    break
                await self.press("escape")
            agree[pane_id] = await self.agrees(pane_id)
        return agree

    async def recovery(self) -> tuple[float | None, bool]:
        """The lists go stale while every request fails, then the faults stop: seconds until Results
        agrees with AWS again, and whether it was stale when they stopped (else there was nothing to see)."""
        results = await self.show("3", "results")
        for _ in range(3):
            if results.level == 0:
                break
            await self.press("escape")
        await self.quiet()
        await self.agrees("results")  # what there is to go stale
        after = "&error_after_rate=0" if "--error-after-rate" in self.sandbox.flags else ""
        self.sandbox.admin(f"faults?throttle_rate=0&error_rate=1{after}", "POST")
        await self.pilot.pause(IDLE_POLL + 1)  # a poll or more fails meanwhile
        # The account changes while the app cannot see it (moto's reset is never faulted): every
        # audit and mitigation task is gone.
        with urllib.request.urlopen(
            urllib.request.Request(f"{self.sandbox.url}/moto-api/reset", method="POST"), timeout=10
        ):
            pass
        before = self.shown("results")
        self.sandbox.admin(f"faults?{OFF}{after}", "POST")
        stopped = time.monotonic()
        stale = before != await self.server("results")
        while time.monotonic() - stopped < 3 * IDLE_POLL + 10:
            if await self.screen_equals_server("results"):
                return round(time.monotonic() - stopped, 2), stale
            await self.pilot.pause(0.1)
        return None, stale


class StepFailed(Exception):
    pass


async def drive(
    seconds: float, sandbox: Sandbox, journal: Journal, watch: WorkerWatch, tuning: Tuning
) -> dict:
    settings = Settings(audit_poll_seconds=1.0, mitigation_poll_seconds=1.0, idle_poll_seconds=IDLE_POLL)
    connection = ConnectionSettings(region=REGION, endpoint_url=sandbox.url)
    out: dict[str, Any] = {"crashes": 0, "crash_errors": []}
    apps: list[SoakApp] = []
    driver: Driver | None = None
    app = SoakApp(connection, settings, journal, tuning=tuning)
    apps.append(app)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            driver = Driver(app, pilot, sandbox, journal)
            driver.life.seeded = await driver.seeded()
            if not await driver.until(lambda: app.current_pane() is not None, 60):
                raise RuntimeError("the app never connected")
            started = time.monotonic()
            kills = [started + seconds / 3, started + 2 * seconds / 3]
            rounds = in_life = 0
            # Every life of the sandbox gets at least one round, however short the run.
            while in_life == 0 or time.monotonic() - started < seconds or kills:
                if kills and in_life and time.monotonic() >= kills[0]:
                    kills.pop(0)
                    await driver.restart_sandbox()
                    in_life = 0
                await driver.round()
                rounds, in_life = rounds + 1, in_life + 1
            out["rounds"] = rounds
            await driver.end_life()
            out["first_app_lists_agree"] = await driver.lists_agree()
            app.exit()
    except Exception as err:  # the app (or the drive) ended with an exception
        out["crash_errors"].append("".join(traceback.format_exception(err))[-3000:])
    if app._exception is not None or out["crash_errors"]:
        out["crashes"] += 1
        out["crash_errors"].append(repr(app._exception))
    if driver is not None:
        out["flows"] = dict(driver.flows)
        out["lives"] = [
            {
                "audit_confirms": life.audit_confirms,
                "server_on_demand_audits": life.server_audits,
                "apply_confirms": life.apply_confirms,
                "server_mitigation_tasks": life.server_mitigations,
                "journal": dict(life.journal),
            }
            for life in driver.lives
        ]
        out["duplicate_tasks"] = sum(
            max(0, life.server_audits - life.audit_confirms)
            + max(0, life.server_mitigations - life.apply_confirms)
            for life in driver.lives
        )
    # The app started again on the same journal, as after a crash: its reconciliation runs against the
    # sandbox that saw the last changes; then the recovery after faults, and the final lists.
    second = SoakApp(connection, settings, journal, tuning=tuning)
    apps.append(second)
    failed = False
    try:
        async with second.run_test(size=(120, 40)) as pilot:
            after = Driver(second, pilot, sandbox, journal)
            out["open_entries"] = await reconciled(after)
            out["recovery_seconds"], out["stale_when_faults_stopped"] = await after.recovery()
            out["status_line_after"] = str(second.query_one("#status").render())[:300]
            final = {"results": await after.screen_equals_server("results")}
            await after.show("4", "mitigation")
            final["mitigation"] = await after.agrees("mitigation")
            out["final_screen_equals_server"] = final
            if after.mismatch:
                out["final_mismatch"] = after.mismatch[:2000]
            second.exit()
    except Exception as err:
        failed = True
        out["crash_errors"].append("".join(traceback.format_exception(err))[-3000:])
    if second._exception is not None or failed:
        out["crashes"] += 1
        out["crash_errors"].append(repr(second._exception))
    out["unhandled_worker_errors"] = len(errors := watch.unreported(apps))
    out["unhandled_worker_error_list"] = errors[:20]
    out["poll_seconds"] = IDLE_POLL
    return out


async def reconciled(driver: Driver) -> dict[str, Any]:
    """Once the app's start-up reconciliation has run: the journal entries still without an outcome."""
    app, journal = driver.app, driver.journal

    def done() -> bool:
        workers = [w for w in app.workers if w.group == "reconcile"]
        settled = workers and all(w.is_finished for w in workers)
        return app.current_pane() is not None and bool(settled or not journal.unknown_outcomes())

    await driver.until(done, 60)
    left = journal.unknown_outcomes()
    return {"count": len(left), "operations": dict(Counter(e.operation for e in left))}


def soak(seconds: float, port: int | None = None, retry_mode: str | None = None) -> dict:
    """Run the soak for `seconds` of flows (plus start-up and the end's checks); returns the figures."""
    for name, value in CREDENTIALS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        workdir = Path(tmp)
        sandbox = Sandbox(port or free_port(), fault_flags(), workdir)
        began = time.monotonic()
        # As `--sandbox` runs the app (no pacing); the retry mode is the app's unless asked.
        tuning = Tuning(rate_scale=None, **({"retry_mode": retry_mode} if retry_mode else {}))
        sandbox.start()
        journal = Journal.open(workdir / "journal.sqlite3")
        try:
            with WorkerWatch() as watch:
                out = asyncio.run(drive(seconds, sandbox, journal, watch, tuning))
        finally:
            journal.close()
            sandbox.kill()
        out["faults"] = " ".join(sandbox.flags)
        out["sandbox_lives"] = sandbox.lives
        out["port"] = sandbox.port
        out["wall_seconds"] = round(time.monotonic() - began, 1)
        return out


def _dump_tasks(*_: object) -> None:
    with contextlib.suppress(RuntimeError):
        for task in asyncio.all_tasks(asyncio.get_running_loop()):
            task.print_stack(limit=12, file=sys.stderr)


def _terminated(*_: object) -> None:
    """SIGTERM: the sandbox child goes too (an exception here would only end the app being driven)."""
    for sandbox in Sandbox.running:
        sandbox.kill()
    os._exit(143)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument(
        "--port", type=int, default=None, help="loopback port of the sandbox (default: a free one)"
    )
    parser.add_argument(
        "--retry-mode", choices=["adaptive", "standard"], help="botocore's (default: the app's)"
    )
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID`: where a stuck run's threads are
    signal.signal(signal.SIGUSR2, _dump_tasks)  # `kill -USR2 PID`: and its asyncio tasks
    signal.signal(signal.SIGTERM, _terminated)
    out = soak(args.minutes * 60, args.port, args.retry_mode)
    print(json.dumps(out, indent=2))
    ok = (
        out["crashes"] == 0
        and out["unhandled_worker_errors"] == 0
        and out.get("duplicate_tasks") == 0
        and out["open_entries"]["count"] == 0
        and out.get("recovery_seconds") is not None
        and all(out.get("final_screen_equals_server", {}).values())
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
