"""`audit run` (issue 15, point 1) on the lab: started and journaled, followed, its findings printed, and the
exit code tied to severity (3 at or above --fail-on), the audit's end (1) and usage (2)."""

from __future__ import annotations

import json

import pytest

from iot_defender_tui import cli, cli_audit
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.config import journal_path
from iot_defender_tui.sandbox.runtime import runtime

LOGGING = "LOGGING_DISABLED_CHECK"  # the lab's one LOW finding


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_audit, "POLL_SECONDS", 0.05)


def run(*args: str) -> int:
    return cli.main(["audit", "run", *args])


def started() -> list[str]:
    with Journal.open(journal_path(), read_only=True) as journal:
        return [e.operation for e in journal.entries(None) if e.operation == "StartOnDemandAuditTask"]


def test_a_finding_at_or_above_fail_on_exits_3(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--checks", LOGGING, "--wait", "--format", "json", "--fail-on", "low") == 3
    out, err = capsys.readouterr()
    (finding,) = json.loads(out)
    assert finding["check_name"] == LOGGING and finding["severity"] == "LOW"
    assert "the worst LOW: at or above --fail-on LOW" in err
    assert started() == ["StartOnDemandAuditTask"]

    assert run("--checks", LOGGING, "--wait", "--format", "jsonl", "--fail-on", "CRITICAL") == 0
    assert [json.loads(line)["check_name"] for line in capsys.readouterr().out.splitlines()] == [LOGGING]
    assert len(started()) == 2  # a deliberate second run really runs again


def test_without_wait_it_prints_the_task_id(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--checks", f"{LOGGING},DEVICE_CERTIFICATE_SHARED_CHECK") == 0
    task_id = capsys.readouterr().out.strip()
    assert task_id and " " not in task_id


def test_every_enabled_check_by_default_and_junit(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    import xml.etree.ElementTree as ET

    assert run("--wait", "--format", "junit") == 0
    suites = ET.fromstring(capsys.readouterr().out)
    failing = {s.get("name") for s in suites.iter("testsuite") if int(s.get("failures") or 0)}
    assert LOGGING in " ".join(n or "" for n in failing)


def test_timeout_and_the_audit_ending_badly_exit_1(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    runtime().options.audit_seconds = 60.0
    assert run("--checks", LOGGING, "--wait", "--timeout", "0.2") == 1
    assert "still IN_PROGRESS after 0.2 s (--timeout)" in capsys.readouterr().err


def test_usage_and_read_only(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--checks", LOGGING, "--fail-on", "HIGH") == 2  # --fail-on needs --wait
    with pytest.raises(SystemExit) as exited:
        run("--checks", "not a check")
    assert exited.value.code == 2
    capsys.readouterr()
    assert cli.main(["--read-only", "audit", "run", "--checks", LOGGING]) == 1
    err = capsys.readouterr().err
    assert err.startswith("iot-defender-tui: ") and "read-only" in err.lower()
    assert started() == []
