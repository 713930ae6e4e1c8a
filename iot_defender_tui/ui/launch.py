"""Starting the TUI: connection settings from flags, environment and config, and the `--sandbox` child.

`--sandbox` runs `python -m iot_defender_tui sandbox` as a child process on loopback and stops it
however the app ends (normal exit, exception, or interpreter exit through atexit).
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import IO

from ..aws.contexts import Context, build_contexts, split_regions
from ..aws.journal import Journal, JournalError
from ..aws.session import ConnectionSettings, connection_for, tuning_for
from ..config import OrganizationSettings, Settings, journal_path
from ..history.store import AuditStore
from .app import DefenderApp
from .history_link import close_store, open_store

SANDBOX_REGION = "us-east-1"
SANDBOX_ORGANIZATION_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")  # `--sandbox --accounts N`
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
URL = re.compile(r"https?://\S+")
START_TIMEOUT = 60.0  # importing moto on a slow machine takes seconds


class SandboxStartError(RuntimeError):
    pass


@dataclass
class SandboxChild:
    process: subprocess.Popen
    url: str
    errors: IO[str] | None = None

    def gone(self) -> str | None:
        """Why the sandbox cannot answer any more (it exited), or None while it runs."""
        code = self.process.poll()
        if code is None:
            return None
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        return f"The sandbox this app started has stopped ({how}): quit and start again with --sandbox."

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate, then kill if it lingers. Safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self.errors is not None:
            self.errors.close()
            self.errors = None


def start_sandbox(devices: int = 0, timeout: float = START_TIMEOUT, accounts: int = 0) -> SandboxChild:
    """Start a lab sandbox child and wait for the line with its URL."""
    command = [sys.executable, "-m", "iot_defender_tui", "sandbox", "--port", "0", "--fleet", "lab"]
    if devices:
        command += ["--devices", str(devices)]
    if accounts:
        command += ["--accounts", str(accounts), "--regions", ",".join(SANDBOX_ORGANIZATION_REGIONS)]
    env = {**os.environ, **DUMMY_CREDENTIALS}
    # stderr goes to a file, not a pipe nobody reads (a full pipe would block the child).
    errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by SandboxChild.stop
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, text=True, env=env
    )
    child = SandboxChild(process, "", errors)
    atexit.register(child.stop)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:  # readline cannot time out; a thread with a queue can
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        child.stop()
        raise SandboxStartError(f"the sandbox printed no URL within {timeout:g} s") from None
    match = URL.search(line or "")
    if match is None:
        child.stop()
        errors.seek(0)
        raise SandboxStartError(f"the sandbox did not start: {(line or '') + errors.read()[-2000:]}".strip())
    child.url = match.group(0)
    return child


def open_journal(*, sandbox: bool) -> tuple[Journal | None, str | None]:
    """The journal the TUI records to, or None and why: the app then runs read-only, as no change may be
    sent unrecorded. `--sandbox` gets one of its own that goes with the sandbox (Journal.temporary)."""
    try:
        return (Journal.temporary() if sandbox else Journal.open()), None
    except JournalError as err:
        # The cause first, then where: the status line is one row, and a long path would hide the cause.
        path = journal_path()
        return None, f"{err.reason} ({path})" if err.reason != str(err) and not sandbox else str(err)


def app_connection(args: argparse.Namespace, settings: Settings) -> tuple[ConnectionSettings, list[Context]]:
    """The app's base connection and the contexts `:` switches between (the config's `[[contexts]]`, then
    one per `--region a,b` region). The base is read-only by the flags and settings alone: the app adds a
    context's own read_only to that context's connection only."""
    connection = connection_for(args, settings)
    region = getattr(args, "region", None)
    regions = split_regions(region) if region else []
    contexts = build_contexts(settings, profile=getattr(args, "profile", None), regions=regions)
    if connection.context is not None:
        read_only = bool(getattr(args, "read_only", False)) or settings.read_only
        connection = dataclasses.replace(connection, read_only=read_only)
    return connection, contexts


def run_tui(args: argparse.Namespace, settings: Settings) -> int:
    child: SandboxChild | None = None
    organization = settings.organization
    open_context: str | None = None
    journal: Journal | None = None
    history: AuditStore | None = None
    try:
        if getattr(args, "sandbox", False):
            print("Starting the sandbox…", file=sys.stderr, flush=True)
            try:
                accounts = getattr(args, "accounts", 0) or 0
                child = start_sandbox(getattr(args, "devices", 0) or 0, accounts=accounts)
                if accounts:
                    # Its organization's accounts are the contexts, found by ListAccounts as AWS's are.
                    organization = OrganizationSettings(regions=SANDBOX_ORGANIZATION_REGIONS)
            except (SandboxStartError, OSError) as err:
                print(f"iot-defender-tui: {err}", file=sys.stderr)
                return 1
            # The sandbox takes any keys; these are set in this process only, for the app's client.
            os.environ.update(DUMMY_CREDENTIALS)
            read_only = bool(getattr(args, "read_only", False)) or settings.read_only
            connection = ConnectionSettings(
                region=SANDBOX_REGION, endpoint_url=child.url, read_only=read_only
            )
            contexts: list[Context] = []
        else:
            name = getattr(args, "context", None)
            static = {c.name for c in build_contexts(settings)}
            if name is not None and name not in static and organization is not None:
                # Not in the config: one of the organization's (cli.py let it through), chosen once listed.
                open_context, args = name, argparse.Namespace(**{**vars(args), "context": None})
            connection, contexts = app_connection(args, settings)
        journal, journal_problem = open_journal(sandbox=child is not None)
        history, history_problem = open_store(sandbox=child is not None)
        app = DefenderApp(
            connection,
            settings,
            journal,
            tuning=tuning_for(args, settings),
            open_task=getattr(args, "task", None),
            journal_problem=journal_problem,
            history_store=history,
            history_problem=history_problem,
            contexts=contexts,
            organization=organization,
            open_context=open_context,
        )
        if child is not None:
            app.endpoint_gone = child.gone  # said at once, not at the next poll (up to 30 s later)
        app.memory.start_up_done()  # what start-up made so far lives as long as the app (cli.main)
        app.run()
        return app.return_code or 0
    finally:
        if history is not None:
            close_store(history)
        if journal is not None:
            journal.close()
        if child is not None:
            child.stop()
