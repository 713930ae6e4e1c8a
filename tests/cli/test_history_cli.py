"""`iot-defender-tui history sync|prune|trend` against the session sandbox with the lab fleet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iot_defender_tui import cli
from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.config import history_path
from iot_defender_tui.history import sync as sync_module
from iot_defender_tui.history.store import AuditStore
from iot_defender_tui.sandbox.fleet import seed_fleet
from tests.support.models import lab_task_id
from tests.support.sandbox import ACCOUNT, REGION, make_client, request_counts

LAB_CHECKS = 3  # the lab's failing checks


def _findings_requests(url: str) -> int:
    return request_counts(url).get("ListAuditFindings", 0)


def _lab_audit(url: str) -> tuple[str, dict[str, int]]:
    iot = make_client(url)
    task_id = lab_task_id(iot)
    details = iot.describe_audit_task(taskId=task_id)["auditDetails"]
    return task_id, {name: d["nonCompliantResourcesCount"] for name, d in details.items()}


def test_sync_stores_the_completed_audit_and_a_second_sync_asks_aws_nothing(lab, capsys):
    task_id, expected = _lab_audit(lab)
    failing = {name for name, count in expected.items() if count}
    assert len(failing) == LAB_CHECKS
    before = _findings_requests(lab)
    assert cli.main(["history", "sync"]) == 0
    assert _findings_requests(lab) - before == LAB_CHECKS  # one page per check
    err = capsys.readouterr().err
    total = sum(expected.values())
    summary = "Synced 1 audit of account 123456789012 in us-east-1 (0 already stored)"
    assert f"{summary}: 3 checks, {total} findings" in err
    with AuditStore.open() as store:
        assert store.is_complete(ACCOUNT, REGION, task_id)
        assert store.count(ACCOUNT, REGION, task_id) == sum(expected.values())
        assert store.counts_by_check(ACCOUNT, REGION, task_id) == {n: expected[n] for n in failing}
        assert store.complete_checks(ACCOUNT, REGION, task_id) == failing

    before = _findings_requests(lab)
    assert cli.main(["history", "sync", "--since", "7"]) == 0
    assert _findings_requests(lab) == before
    err = capsys.readouterr().err
    assert "Synced 0 audits of account 123456789012 in us-east-1 (1 already stored)" in err


def test_an_interrupted_sync_resumes_without_fetching_a_stored_check_again(lab, monkeypatch, capsys):
    task_id, expected = _lab_audit(lab)
    monkeypatch.setattr(sync_module, "CONCURRENCY", 1)  # checks one after another: interrupt at the 2nd
    original = DefenderClient.iter_findings
    asked: list[str] = []

    async def interrupted(self: DefenderClient, **filters: Any) -> AsyncIterator[Any]:
        asked.append(filters["check_name"])
        if len(asked) == 2:
            raise KeyboardInterrupt
        async for page in original(self, **filters):
            yield page

    monkeypatch.setattr(DefenderClient, "iter_findings", interrupted)
    before = _findings_requests(lab)
    assert cli.main(["history", "sync"]) == 130
    assert "run `history sync` again to resume" in capsys.readouterr().err
    with AuditStore.open() as store:
        stored = store.complete_checks(ACCOUNT, REGION, task_id)
        assert stored == {asked[0]} and not store.is_complete(ACCOUNT, REGION, task_id)

    monkeypatch.setattr(DefenderClient, "iter_findings", original)
    resumed: list[str] = []

    async def spy(self: DefenderClient, **filters: Any) -> AsyncIterator[Any]:
        resumed.append(filters["check_name"])
        async for page in original(self, **filters):
            yield page

    monkeypatch.setattr(DefenderClient, "iter_findings", spy)
    assert cli.main(["history", "sync"]) == 0
    assert asked[0] not in resumed and len(resumed) == LAB_CHECKS - 1
    # One request for the check stored before the interruption, one for each of the others: none twice.
    assert _findings_requests(lab) - before == LAB_CHECKS
    with AuditStore.open() as store:
        assert store.is_complete(ACCOUNT, REGION, task_id)
        assert store.count(ACCOUNT, REGION, task_id) == sum(expected.values())


def test_prune_removes_the_audits_older_than_the_days_kept(lab, capsys):
    assert cli.main(["history", "sync"]) == 0
    assert cli.main(["history", "prune", "--keep", "30"]) == 0
    assert capsys.readouterr().out.strip() == "Removed 0 audits older than 30 days"
    assert cli.main(["history", "prune", "--keep", "0"]) == 0  # the lab audit started yesterday
    assert capsys.readouterr().out.strip() == "Removed 1 audit older than 0 days"
    with AuditStore.open() as store:
        assert store.tasks(ACCOUNT, REGION) == []


def test_trend_csv_and_json_parse_back_to_the_stored_series(lab, capsys):
    task_id, expected = _lab_audit(lab)
    assert cli.main(["history", "sync"]) == 0
    capsys.readouterr()
    assert cli.main(["history", "trend", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["check"]: int(r["findings"]) for r in rows} == expected
    assert {r["task_id"] for r in rows} == {task_id}
    start = datetime.fromisoformat(rows[0]["start_time"])
    assert timedelta(0) < datetime.now(UTC) - start < timedelta(days=2)

    assert cli.main(["history", "trend", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["account"], data["region"]) == (ACCOUNT, REGION)
    assert [{k: str(v) for k, v in row.items()} for row in data["rows"]] == rows

    assert cli.main(["history", "trend"]) == 0
    text = capsys.readouterr().out
    assert task_id in text and "DEVICE_CERTIFICATE_SHARED_CHECK" in text
    assert "all checks (on demand)" in text
    shown = {name for name in expected if name in text}
    assert shown == {name for name, count in expected.items() if count}  # checks with none left out
    assert str(sum(expected.values())) in text


def test_trend_of_an_empty_history_says_to_sync_first(lab, capsys):
    assert cli.main(["history", "trend"]) == 0
    assert "run `iot-defender-tui history sync` first" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["sync"], ["trend", "--csv"], ["prune", "--keep", "1"]])
def test_a_corrupt_history_is_one_line_and_exit_1(lab, capsys, command):
    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    before = _findings_requests(lab)
    assert cli.main(["history", *command]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("iot-defender-tui: cannot use the audit history") and "not a database" in err
    assert _findings_requests(lab) == before
    assert path.read_bytes() == b"this is not a database" * 100


def test_an_unreachable_endpoint_is_one_line_and_exit_1(lab, monkeypatch, capsys):
    from tests.support.sandbox import closed_port_url

    assert cli.main(["history", "sync", "--endpoint-url", closed_port_url()]) == 1
    err = capsys.readouterr().err
    assert err.startswith("iot-defender-tui: ") and err.count("\n") == 1


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["history", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("sync", "prune", "trend"))
    with pytest.raises(SystemExit) as exited:
        cli.main(["history", "trend", "--help"])
    assert "GetCallerIdentity" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["history"],
        ["history", "sync", "--since", "91"],
        ["history", "sync", "--since", "0"],
        ["history", "prune"],
        ["history", "prune", "--keep", "x"],
        ["history", "trend", "--csv", "--json"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2


def test_a_check_interrupted_between_pages_is_fetched_again_whole_and_stored_once(
    sandbox_url, aws_env, tmp_path, monkeypatch, capsys
):
    from iot_defender_tui.sandbox.runtime import runtime

    monkeypatch.setenv("IOT_DEFENDER_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox_url)
    runtime().options.problem_scale = 6  # a few checks with more than one page of 250 findings
    seed_fleet("lab", devices=1500, seed=3)
    task_id, expected = _lab_audit(sandbox_url)
    paged = max(expected, key=lambda name: expected[name])
    assert expected[paged] > 250
    original = DefenderClient.iter_findings

    async def interrupted(self: DefenderClient, **filters: Any) -> AsyncIterator[Any]:
        async for n, page in _numbered(original(self, **filters)):
            if filters["check_name"] == paged and n == 1:
                raise KeyboardInterrupt  # its first page is stored, not the rest
            yield page

    monkeypatch.setattr(DefenderClient, "iter_findings", interrupted)
    assert cli.main(["history", "sync"]) == 130
    with AuditStore.open() as store:
        done = store.complete_checks(ACCOUNT, REGION, task_id)
        assert paged not in done
        assert 0 < store.count(ACCOUNT, REGION, task_id, paged) < expected[paged]
    monkeypatch.setattr(DefenderClient, "iter_findings", original)
    before = _findings_requests(sandbox_url)
    assert cli.main(["history", "sync"]) == 0
    # Only the checks not marked complete are asked for, each from its first page.
    left = [count for name, count in expected.items() if count and name not in done]
    assert _findings_requests(sandbox_url) - before == sum(-(-count // 250) for count in left)
    with AuditStore.open() as store:
        assert store.is_complete(ACCOUNT, REGION, task_id)
        assert store.counts_by_check(ACCOUNT, REGION, task_id) == {n: c for n, c in expected.items() if c}


async def _numbered(pages: AsyncIterator[Any]) -> AsyncIterator[tuple[int, Any]]:
    n = 0
    async for page in pages:
        yield n, page
        n += 1


def test_a_history_of_a_newer_version_is_one_line_and_exit_1(lab, capsys):
    import sqlite3

    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 999")
    assert cli.main(["history", "sync"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "newer iot-defender-tui" in err


def test_sync_stores_every_completed_audit_oldest_first_and_leaves_one_in_progress(lab, capsys):
    import time

    from iot_defender_tui.sandbox.runtime import runtime

    iot = make_client(lab)
    second = iot.start_on_demand_audit_task(targetCheckNames=["LOGGING_DISABLED_CHECK"])["taskId"]
    deadline = time.monotonic() + 20
    while iot.describe_audit_task(taskId=second)["taskStatus"] != "COMPLETED":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    runtime().options.audit_seconds = 600
    running = iot.start_on_demand_audit_task(targetCheckNames=["LOGGING_DISABLED_CHECK"])["taskId"]
    assert cli.main(["history", "sync"]) == 0
    assert "Synced 2 audits" in capsys.readouterr().err
    with AuditStore.open() as store:
        assert store.task(ACCOUNT, REGION, running) is None
        assert store.is_complete(ACCOUNT, REGION, second)
    assert cli.main(["history", "trend", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["task_id"] for r in rows][-1] == second  # oldest audit first
    assert [r["check"] for r in rows if r["task_id"] == second] == ["LOGGING_DISABLED_CHECK"]


@pytest.mark.parametrize(("flags", "scale"), [([], 1.0), (["--no-rate-limit"], None)])
def test_sync_is_paced_to_the_quotas_unless_told_not_to(lab, monkeypatch, flags, scale):
    tunings = []
    opened = DefenderClient.__init__

    def spy(self: DefenderClient, *args: Any, **kwargs: Any) -> None:
        tunings.append(kwargs.get("tuning"))
        opened(self, *args, **kwargs)

    monkeypatch.setattr(DefenderClient, "__init__", spy)
    assert cli.main(["history", "sync", *flags]) == 0
    assert [t.rate_scale for t in tunings] == [scale]
