"""Credentials never leave the request signature: not into the journal, the screen, logs or error text.

Distinctive fake keys are put in the environment (where the AWS SDK finds them); every place the app
writes to is then searched for them: the journal's bytes, every pane's screen and the screen after an
error, log records, the CLI's stdout and stderr, and the text of AwsErrors for refused credentials.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.errors import AwsError
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.ui.app import DefenderApp
from tests.support import ui
from tests.support.sandbox import FAST, sandbox_settings
from tests.support.ui import connected

until = partial(ui.until, timeout=20.0)  # this module's waits keep the patience they had

ACCESS_KEY = "AKIASECRETPROBE7Q2X"
SECRET_KEY = "SecretProbeKey/9f3Kx+Zq7Lw0vTn4Hs8Jd2Gm5Rc1Yb6Ue"
SESSION_TOKEN = "SessionProbeToken//IQoJb3JpZ2luX2VjEXAMPLEtoken+probe=="
SECRETS = (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
ROOT = Path(__file__).resolve().parents[2]


def leaks(text: str | bytes) -> list[str]:
    """The secrets (or a telling part of one) found in `text`."""
    found = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    parts = {s: (s, s[4:18], s[-16:]) for s in SECRETS}
    return [s for s, pieces in parts.items() if any(p in found for p in pieces)]


@pytest.fixture
def probe_env(bare_aws: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    return bare_aws


class Refusing(BaseHTTPRequestHandler):
    """AWS refusing the caller: STS says the token is invalid, every other service denies access."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if b"Action=GetCallerIdentity" in body:
            payload = (
                b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                b"<Code>InvalidClientTokenId</Code><Message>The security token included in the request is "
                b"invalid.</Message></Error><RequestId>1</RequestId></ErrorResponse>"
            )
            self._reply(403, payload, [("Content-Type", "text/xml")])
            return
        message = (
            "User: arn:aws:sts::123456789012:assumed-role/Probe/session is not authorized to perform: "
            "iot:DescribeAccountAuditConfiguration"
        )
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")]
        self._reply(403, json.dumps({"message": message}).encode(), headers)

    do_GET = do_DELETE = do_PUT = do_PATCH = do_POST

    def _reply(self, status: int, payload: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in [*headers, ("Content-Length", str(len(payload)))]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def records() -> Iterator[list[str]]:
    """Every log record at WARNING or above (what reaches a terminal without configuration), formatted."""
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    handler = Keep(logging.WARNING)
    logging.getLogger().addHandler(handler)
    yield seen
    logging.getLogger().removeHandler(handler)


def screen_text(app: DefenderApp) -> str:
    return app.export_screenshot() + str(app.screen._compositor.render_update(full=True))


async def test_no_secret_in_the_journal_screens_or_logs(
    sandbox_url: str, probe_env: Path, tmp_path: Path, records: list[str]
) -> None:
    runtime().options.audit_seconds = 0.3
    seed_fleet("lab")
    journal = Journal.open(tmp_path / "journal.sqlite3")
    settings = Settings(audit_poll_seconds=0.3, mitigation_poll_seconds=0.3, idle_poll_seconds=5)
    app = DefenderApp(sandbox_settings(sandbox_url), settings, journal)
    screens: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await connected(pilot, timeout=20.0)
        await pilot.press("2", "o")  # a change, so the journal has something to hold
        await until(pilot, lambda: type(app.screen).__name__ == "CheckPickerModal")
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmModal")
        await pilot.press("y")
        await until(pilot, lambda: any(e.state == "ok" for e in journal.entries()))
        for key in "1234":
            await pilot.press(key)
            await until(pilot, lambda k=key: app.current_pane().id == app.pane_keys[int(k) - 1][0])
            await pilot.pause(0.5)
            screens.append(screen_text(app))
    journal.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("journal.sqlite3"))
    assert b"StartOnDemandAuditTask" in stored  # the file was read, with the change in it
    assert leaks(stored) == []
    assert all("Settings" in s or "Audit" in s for s in screens) and leaks("".join(screens)) == []
    assert leaks("\n".join(records)) == []
    # Nothing in the app turns on the SDK's wire logs, which print the signed headers.
    assert logging.getLogger("botocore").getEffectiveLevel() >= logging.WARNING


async def test_no_secret_in_refused_credential_errors(
    refusing_url: str, probe_env: Path, records: list[str]
) -> None:
    async with DefenderClient(sandbox_settings(refusing_url), tuning=FAST) as dd:
        errors: list[AwsError] = []
        for call in (dd.identity, dd.describe_audit_configuration):
            with pytest.raises(AwsError) as raised:
                await call()
            errors.append(raised.value)
    assert [e.code for e in errors] == ["InvalidClientTokenId", "AccessDeniedException"]
    for err in errors:
        assert leaks(f"{err} {err.text} {err.hint} {err!r} {err.__cause__}") == []

    app = DefenderApp(sandbox_settings(refusing_url), Settings(), None, tuning=FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.query_one("#status")
        await until(
            pilot,
            lambda: "InvalidClientTokenId" in str(status.render()) or "rejected" in str(status.render()),
        )
        assert leaks(screen_text(app)) == []
    assert leaks("\n".join(records)) == []


def test_no_secret_in_the_journal_cli(sandbox_url: str, refusing_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Journal.open(home / "data" / "journal.sqlite3") as journal:
        journal.record_intent(
            identity_arn="arn:aws:sts::123456789012:assumed-role/Probe/session",
            account="123456789012",
            region="us-east-1",
            operation="CreateMitigationAction",
            params={"actionName": "Probe", "roleArn": "arn:aws:iam::123456789012:role/r"},
        )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "PYTHONPATH": str(ROOT),
        "IOT_DEFENDER_TUI_HOME": str(home),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    base = [sys.executable, "-m", "iot_defender_tui", "journal"]
    runs = {
        "list": base,
        "json": [*base, "--json"],
        "refused": [*base, "--reconcile", "--region", "us-east-1", "--endpoint-url", refusing_url],
        "reconcile": [*base, "--reconcile", "--region", "us-east-1", "--endpoint-url", sandbox_url],
    }
    outputs = {}
    for name, command in runs.items():
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        outputs[name] = done
        assert leaks(done.stdout + done.stderr) == [], name
    assert "Probe" in outputs["json"].stdout  # the entry was printed
    assert outputs["refused"].returncode == 1 and "rejected the credentials" in outputs["refused"].stderr
    assert "CreateMitigationAction" in outputs["reconcile"].stdout
