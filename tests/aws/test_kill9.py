"""Kill -9 between a mitigation's intent and its outcome; the next start reconciles the entry with AWS.

tests/aws/test_client_safety.py abandons the request inside one process (a cancelled await); here the
process itself dies: a child opens a journaled client and starts a mitigation task; the sandbox holds
the request (a hook in its handler) until the child, whose journal has the intent, is SIGKILLed; then
AWS (the sandbox) carries it out, as AWS does with a request whose sender vanished.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from iot_defender_tui.aws.client import DefenderClient, reconcile_journal
from iot_defender_tui.aws.journal import OUTCOME_UNKNOWN, Journal
from iot_defender_tui.sandbox.handlers.mitigation_tasks import MitigationTasksMixin
from tests.support.mitigation import NEEDS, SHARED, audit_task, cert_finding, device_certificate, make_role
from tests.support.sandbox import make_client, sandbox_settings

DAY = {"startTime": time.time() - 86400, "endTime": time.time() + 86400}

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import asyncio, sys
from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.aws.session import ConnectionSettings

async def main(url, journal_path, finding):
    settings = ConnectionSettings(profile=None, region="us-east-1", endpoint_url=url)
    async with DefenderClient(settings, Journal.open(journal_path)) as dd:
        await dd.identity()
        await dd.start_mitigation_task({"findingIds": [finding]}, {sys.argv[4]: ["deactivate"]})
        print("answered", flush=True)

asyncio.run(main(*sys.argv[1:4]))
"""


class Held:
    """Wraps the sandbox's StartAuditMitigationActionsTask: each request waits for `release` first."""

    def __init__(self, handler):
        self.handler = handler
        self.arrived, self.release, self.done = threading.Event(), threading.Event(), threading.Event()

    def __call__(self, response):
        self.arrived.set()
        self.release.wait(timeout=30)
        try:
            return self.handler(response)
        finally:
            self.done.set()


async def test_a_mitigation_killed_mid_request_is_reconciled(
    sandbox_url, aws_env, tmp_path: Path, monkeypatch
):
    held = Held(MitigationTasksMixin.start_audit_mitigation_actions_task)

    def start_audit_mitigation_actions_task(response):  # a function, so it binds as the handler did
        return held(response)

    monkeypatch.setattr(
        MitigationTasksMixin, "start_audit_mitigation_actions_task", start_audit_mitigation_actions_task
    )
    iot = make_client(sandbox_url)
    role = make_role(sandbox_url, "MitigationRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    iot.create_mitigation_action(
        actionName="deactivate",
        roleArn=role,
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )
    finding = cert_finding(audit_task(), device_certificate(iot)[0])
    path = tmp_path / "journal.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, sandbox_url, str(path), finding.finding_id, SHARED],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert held.arrived.wait(timeout=30), "the request never reached the sandbox"
        with Journal.open(path) as watching:
            (intent,) = watching.unknown_outcomes()  # committed before the request left
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
        assert child.stdout is not None and child.stdout.read() == ""  # killed before any answer
    finally:
        held.release.set()
        if child.poll() is None:
            child.kill()
            child.wait()
    assert intent.operation == "StartAuditMitigationActionsTask"
    task_id = intent.params["taskId"]

    # The sandbox carries out the request the dead process sent; the journal still says "outcome unknown".
    assert held.done.wait(timeout=30)
    assert [t["taskId"] for t in iot.list_audit_mitigation_actions_tasks(**DAY)["tasks"]] == [task_id]
    journal = Journal.open(path)
    (entry,) = journal.entries()
    assert (entry.id, entry.outcome) == (intent.id, OUTCOME_UNKNOWN)

    async with DefenderClient(sandbox_settings(sandbox_url), journal) as dd:  # the next start
        (result,) = await reconcile_journal(dd, journal)
    assert result.closed and result.entry_id == intent.id
    assert result.note.startswith(f"carried out: mitigation task {task_id} is ")
    (entry,) = journal.entries()
    assert entry.state == "reconciled" and task_id in (entry.reconcile_note or "")
    assert journal.unknown_outcomes() == []
