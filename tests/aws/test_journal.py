"""The journal of mutating calls: intent before, outcome after, and what a kill in between leaves."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iot_defender_tui.aws.journal import OUTCOME_UNKNOWN, Journal, JournalError
from iot_defender_tui.config import journal_path

WHO = {
    "identity_arn": "arn:aws:iam::123456789012:user/alice",
    "account": "123456789012",
    "region": "us-east-1",
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IOT_DEFENDER_TUI_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def journal(home: Path):
    with Journal.open() as opened:
        yield opened


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IOT_DEFENDER_TUI_HOME": str(home)}
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, "-m", "iot_defender_tui", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_intent_then_outcome_round_trip(journal: Journal, home: Path):
    assert journal.path == home / "data" / "journal.sqlite3" == journal_path()
    sent_at = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    params = {"certificateId": "abc", "newStatus": "INACTIVE", "when": sent_at, "names": ("a", "b")}
    before = datetime.now(UTC)
    entry_id = journal.record_intent(operation="UpdateCertificate", params=params, **WHO)

    [pending] = journal.entries()
    assert (pending.id, pending.state, pending.outcome) == (entry_id, "intent", OUTCOME_UNKNOWN)
    when = "2026-11-23T09:30:00+00:00"
    assert pending.params == {
        "certificateId": "abc",
        "newStatus": "INACTIVE",
        "when": when,
        "names": ["a", "b"],
    }
    assert (pending.identity_arn, pending.account, pending.region) == tuple(WHO.values())
    assert pending.time.tzinfo is not None and before - timedelta(seconds=1) <= pending.time
    assert [e.id for e in journal.unknown_outcomes()] == [entry_id]

    journal.record_outcome(entry_id, result={"taskId": "t1", "started": sent_at})
    [done] = journal.entries()
    assert (done.state, done.outcome, done.result) == (
        "ok",
        "ok",
        {"taskId": "t1", "started": sent_at.isoformat()},
    )
    assert journal.unknown_outcomes() == []


def test_errors_and_order(journal: Journal):
    first = journal.record_intent(operation="CreateScheduledAudit", params={"frequency": "DAILY"}, **WHO)
    second = journal.record_intent(
        operation="DeleteScheduledAudit", params={"scheduledAuditName": "x"}, **WHO
    )
    journal.record_outcome(second, error="ResourceNotFoundException: x does not exist")
    entries = journal.entries()
    assert [e.id for e in entries] == [second, first], "newest first"
    assert entries[0].outcome == "error: ResourceNotFoundException: x does not exist"
    assert entries[1].outcome == OUTCOME_UNKNOWN
    assert [e.id for e in journal.entries(limit=1)] == [second]
    with pytest.raises(JournalError, match="already error"):
        journal.record_outcome(second, result={})
    with pytest.raises(JournalError, match="no such entry"):
        journal.record_outcome(999, result={})


def test_mark_reconciled(journal: Journal):
    entry_id = journal.record_intent(
        operation="StartAuditMitigationActionsTask", params={"taskId": "idt-1"}, **WHO
    )
    journal.mark_reconciled(entry_id, "task idt-1 exists in AWS: it was started")
    [entry] = journal.entries()
    assert entry.state == "reconciled"
    assert entry.outcome == "reconciled: task idt-1 exists in AWS: it was started"
    assert journal.unknown_outcomes() == []
    with pytest.raises(JournalError, match="already reconciled"):
        journal.mark_reconciled(entry_id, "again")
    # The process that sent it may still learn the real outcome; the note stays.
    journal.record_outcome(entry_id, result={"taskId": "idt-1"})
    [entry] = journal.entries()
    assert (entry.state, entry.reconcile_note) == ("ok", "task idt-1 exists in AWS: it was started")


def test_entries_survive_reopening(home: Path):
    with Journal.open() as journal:
        entry_id = journal.record_intent(
            operation="SetV2LoggingOptions", params={"defaultLogLevel": "WARN"}, **WHO
        )
        journal.record_outcome(entry_id, result={})
    with Journal.open(home / "data" / "journal.sqlite3") as again:
        [entry] = again.entries()
    assert (entry.operation, entry.outcome, entry.params) == (
        "SetV2LoggingOptions",
        "ok",
        {"defaultLogLevel": "WARN"},
    )
    assert (home / "data" / "journal.sqlite3").stat().st_mode & 0o077 == 0, (
        "the journal names accounts: private"
    )


KILLED_WRITER = textwrap.dedent(
    """
    import os
    from iot_defender_tui.aws.journal import Journal

    journal = Journal.open()
    journal.record_intent(
        identity_arn="arn:aws:iam::123456789012:user/alice", account="123456789012", region="eu-west-1",
        operation="StartAuditMitigationActionsTask", params={"taskId": "idt-killed"},
    )
    os._exit(9)  # killed after the intent, before the request's answer
    """
)


def test_a_process_killed_after_its_intent_leaves_outcome_unknown(home: Path):
    env = {**os.environ, "IOT_DEFENDER_TUI_HOME": str(home)}
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER], env=env, capture_output=True, timeout=60)
    assert killed.returncode == 9, killed.stderr

    with Journal.open() as journal:
        [entry] = journal.unknown_outcomes()
    assert (entry.operation, entry.outcome, entry.params) == (
        "StartAuditMitigationActionsTask", OUTCOME_UNKNOWN, {"taskId": "idt-killed"},
    )  # fmt: skip

    table = _cli(home, "journal")
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split() == ["ID", "TIME", "(UTC)", "OPERATION", "ACCOUNT/REGION", "OUTCOME"]
    assert "StartAuditMitigationActionsTask" in row and "123456789012/eu-west-1" in row
    assert row.endswith(OUTCOME_UNKNOWN)

    lines = _cli(home, "journal", "--json").stdout.splitlines()
    assert [json.loads(line)["outcome"] for line in lines] == [OUTCOME_UNKNOWN]


def test_journal_command_newest_first_with_limit(journal: Journal, home: Path):
    for number in range(3):
        entry_id = journal.record_intent(operation=f"Op{number}", params={"n": number}, **WHO)
        journal.record_outcome(entry_id, error=f"Failed\nbadly {number}" if number == 1 else None, result={})
    printed = _cli(home, "journal", "--json", "--limit", "2")
    assert printed.returncode == 0, printed.stderr
    objects = [json.loads(line) for line in printed.stdout.splitlines()]
    expected = [("Op2", "ok", {"n": 2}), ("Op1", "error", {"n": 1})]
    assert [(o["operation"], o["state"], o["params"]) for o in objects] == expected
    table = _cli(home, "journal").stdout.splitlines()
    assert [line.split()[3] for line in table[1:]] == ["Op2", "Op1", "Op0"]
    assert table[2].endswith("error: Failed badly 1"), "a multi-line error stays on its row"
    assert _cli(home, "journal", "--limit", "0").returncode == 2


def test_journal_command_without_a_journal_creates_none(home: Path):
    printed = _cli(home, "journal")
    assert printed.returncode == 0
    assert "journal is empty" in printed.stdout
    assert not (home / "data" / "journal.sqlite3").exists()
    assert _cli(home, "journal", "--json").stdout == ""


def test_concurrent_writers_from_threads_and_connections(home: Path):
    journals = [Journal.open(), Journal.open()]  # two connections, as two app instances would have

    def write(journal: Journal) -> None:
        for number in range(25):
            entry_id = journal.record_intent(operation="CreateAuditSuppression", params={"n": number}, **WHO)
            journal.record_outcome(entry_id, result={"n": number})

    threads = [threading.Thread(target=write, args=(journals[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = journals[0].entries()
    assert len(entries) == 150 and len({e.id for e in entries}) == 150
    assert all(e.state == "ok" and e.result == e.params for e in entries)
    for journal in journals:
        journal.close()


def test_a_damaged_journal_is_named(home: Path):
    path = home / "data" / "journal.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(JournalError) as raised:
        Journal.open()
    assert str(path) in str(raised.value) and "move it aside" in str(raised.value)
    printed = _cli(home, "journal")
    assert printed.returncode == 2 and str(path) in printed.stderr and "Traceback" not in printed.stderr


def test_journal_reconcile_settles_unknown_outcomes_against_aws(sandbox_url, tmp_path, monkeypatch):
    import os
    import subprocess
    import sys

    from iot_defender_tui.aws.journal import Journal

    monkeypatch.setenv("IOT_DEFENDER_TUI_HOME", str(tmp_path))
    from iot_defender_tui.config import journal_path

    with Journal.open(journal_path()) as journal:
        journal.record_intent(
            identity_arn="arn:aws:iam::123456789012:user/moto",
            account="123456789012",
            region="us-east-1",
            operation="CreateMitigationAction",
            params={"actionName": "NeverCreated", "roleArn": "arn:aws:iam::123456789012:role/r"},
        )
    env = {
        **os.environ,
        "IOT_DEFENDER_TUI_HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    run = [sys.executable, "-m", "iot_defender_tui", "journal"]
    before = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert "outcome unknown" in before.stdout
    settle = [*run, "--reconcile", "--region", "us-east-1", "--endpoint-url", sandbox_url]
    reconciled = subprocess.run(settle, env=env, capture_output=True, text=True, timeout=60)
    assert reconciled.returncode == 0, reconciled.stderr
    assert "CreateMitigationAction" in reconciled.stdout
    after = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert "outcome unknown" not in after.stdout


# -- a journal that is damaged, read-only or hostile: `journal` lists it, never a traceback ----------------

HOSTILE = "evil\u202egnp.exe\u200b\u2066\ufeff\x1b]0;owned\x07\x1b[31m\x9b"
UNSAFE_CHARS = set(HOSTILE) - set("evilgnp.x]0;owned[31m")


def _list(home: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from iot_defender_tui.cli import main

    code = main(["journal", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_journal_command_survives_damaged_rows(journal: Journal, home: Path, capsys):
    good = journal.record_intent(operation="CreateAuditSuppression", params={"checkName": "C"}, **WHO)
    journal.record_outcome(good, result={})
    # What a bad disk, a hand edit or another tool may leave in a row.
    with sqlite3.connect(journal.path) as db:
        db.execute(
            "INSERT INTO journal (time, identity_arn, account, region, operation, params, state, result) "
            "VALUES ('yesterday', 'arn', '1', 'r', 'UpdateCertificate', '{not json', 'ok', '[1,')"
        )
        db.execute(
            "INSERT INTO journal (time, identity_arn, account, region, operation, params, state) "
            "VALUES (?, 'arn', X'00ff', 'r', 'DeleteAuditSuppression', '[1]', 'intent')",
            (datetime.now(UTC).isoformat(),),
        )
    code, out, err = _list(home, capsys)
    assert (code, err) == (0, "")
    _header, blob, damaged, fine = out.splitlines()
    assert "DeleteAuditSuppression" in blob and OUTCOME_UNKNOWN in blob
    assert "UpdateCertificate" in damaged and "damaged" in damaged and "params" in damaged
    assert "CreateAuditSuppression" in fine and fine.rstrip().endswith("ok")

    code, out, err = _list(home, capsys, "--json")
    assert (code, err) == (0, "")
    blob_json, damaged_json, fine_json = (json.loads(line) for line in out.splitlines())
    assert damaged_json["damaged"] == {"time": "yesterday", "params": "{not json", "result": "[1,"}
    assert damaged_json["time"] is None and damaged_json["params"] == {}
    assert "params" in blob_json["damaged"] and fine_json["damaged"] == {}


def test_journal_command_names_a_file_that_is_not_a_journal(home: Path, capsys):
    path = journal_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not an SQLite database" * 100)
    code, out, err = _list(home, capsys)
    assert code == 2 and out == ""
    assert str(path) in err and "move it aside" in err and "Traceback" not in err


def test_journal_command_refuses_a_newer_journal_clearly(home: Path, capsys):
    path = journal_path()
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    code, _out, err = _list(home, capsys)
    assert code == 2 and "newer" in err and str(path) in err


def test_journal_command_never_writes_the_journal(home: Path, capsys):
    path = journal_path()
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:  # a valid SQLite file the app never prepared
        db.execute("CREATE TABLE other (x)")
    before = path.read_bytes()
    code, out, _err = _list(home, capsys)
    assert code == 0 and "journal is empty" in out
    assert path.read_bytes() == before, "listing must not add the schema (or anything) to the file"


def test_a_journal_opened_read_only_lists_and_refuses_writes(journal: Journal, home: Path):
    entry_id = journal.record_intent(operation="CreateScheduledAudit", params={"n": 1}, **WHO)
    journal.close()
    before = journal.path.read_bytes()
    # As in a directory the reader cannot write to (which root, running the tests, could): no -wal file
    # (a clean exit removes it) and none can be made.
    Path(f"{journal.path}-wal").mkdir()
    with Journal.open(journal.path, read_only=True) as reader:
        assert [e.id for e in reader.entries()] == [entry_id]
        with pytest.raises(JournalError, match="read-only"):
            reader.record_intent(operation="CreateScheduledAudit", params={}, **WHO)
    assert journal.path.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_journal_command_lists_a_journal_in_a_read_only_directory(journal: Journal, home: Path, capsys):
    journal.record_intent(operation="CreateScheduledAudit", params={"n": 1}, **WHO)
    journal.close()
    journal.path.chmod(0o400)
    journal.path.parent.chmod(0o500)
    try:
        code, out, err = _list(home, capsys)
    finally:
        journal.path.parent.chmod(0o700)
    assert (code, err) == (0, "") and "CreateScheduledAudit" in out


def test_journal_output_carries_no_raw_control_bidi_or_zero_width(journal: Journal, home: Path, capsys):
    who = {**WHO, "account": HOSTILE, "region": HOSTILE}
    entry_id = journal.record_intent(
        operation="CreateAuditSuppression", params={"description": HOSTILE}, **who
    )
    journal.record_outcome(entry_id, error=HOSTILE)
    code, out, _err = _list(home, capsys, "--json")
    assert code == 0 and out.isascii()
    (line,) = out.splitlines()
    assert json.loads(line)["params"] == {"description": HOSTILE}, "escaped, not lost"
    code, out, _err = _list(home, capsys)
    assert code == 0 and not set(out) & UNSAFE_CHARS


async def test_an_entry_that_cannot_be_verified_stays_outcome_unknown(journal: Journal):
    from iot_defender_tui.aws.client import reconcile_journal
    from iot_defender_tui.aws.models_resources import Identity

    class Account:  # no probe runs for this operation: only who and where the client is
        region = WHO["region"]

        async def identity(self) -> Identity:
            return Identity(WHO["account"], WHO["identity_arn"], "AIDA")

    entry_id = journal.record_intent(
        operation="SetV2LoggingOptions", params={"defaultLogLevel": "WARN"}, **WHO
    )
    (result,) = await reconcile_journal(Account(), journal)  # type: ignore[arg-type]
    assert not result.closed and "cannot be verified" in result.note
    (entry,) = journal.entries()
    assert (entry.id, entry.state) == (entry_id, "intent")
    assert entry.outcome.startswith(OUTCOME_UNKNOWN) and "cannot be verified" in entry.outcome
    assert [e.id for e in journal.unknown_outcomes()] == [entry_id], "checked again at the next start"


async def test_an_entry_settled_meanwhile_is_left_as_it_is(journal: Journal):
    from iot_defender_tui.aws.client import reconcile_journal
    from iot_defender_tui.aws.models_resources import Identity

    entry_id = journal.record_intent(operation="SetV2LoggingOptions", params={}, **WHO)

    class Account:
        region = WHO["region"]

        async def identity(self) -> Identity:
            # Another instance of the app gets its answer while this one is reconciling.
            journal.record_outcome(entry_id, result={})
            return Identity(WHO["account"], WHO["identity_arn"], "AIDA")

    (result,) = await reconcile_journal(Account(), journal)  # type: ignore[arg-type]
    assert not result.closed and "already ok" in result.note
    assert journal.entries()[0].outcome == "ok"


def test_journal_command_names_a_journal_damaged_inside(journal: Journal, home: Path, capsys):
    for number in range(50):
        journal.record_intent(
            operation="CreateAuditSuppression", params={"pad": "x" * 200, "n": number}, **WHO
        )
    journal.close()
    damaged = bytearray(journal.path.read_bytes())
    damaged[4096:8192] = b"\xff" * 4096  # a page of the table, the file's header intact
    journal.path.write_bytes(bytes(damaged))
    code, out, err = _list(home, capsys)
    assert code == 2 and out == ""
    assert str(journal.path) in err and "move it aside" in err and "Traceback" not in err


def test_a_version_1_journal_keeps_its_entries_and_gains_what_changes_replaced(home: Path):
    """Journals written before `prior` existed (version 1) are read as they are, and upgraded in place
    when opened for writing: nothing journaled is lost across the upgrade."""
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE journal (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL,
            identity_arn TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL, operation TEXT NOT NULL,
            params TEXT NOT NULL, state TEXT NOT NULL, result TEXT, error TEXT, reconcile_note TEXT);
        INSERT INTO journal (time, identity_arn, account, region, operation, params, state)
            VALUES ('2026-12-01T10:00:00+00:00', 'arn', '123456789012', 'us-east-1',
                    'StartAuditMitigationActionsTask', '{"taskId": "old"}', 'ok');
        PRAGMA user_version=1;
        """
    )
    db.close()
    with Journal.open(read_only=True) as reading:
        [old] = reading.entries()
    assert (old.operation, old.prior) == ("StartAuditMitigationActionsTask", None)

    with Journal.open() as writing:
        entry = writing.record_intent(
            **WHO, operation="StartAuditMitigationActionsTask", params={"taskId": "new"},
            prior={"thingGroups": {"Quarantine": ["sensor-a"]}},
        )  # fmt: skip
        writing.record_outcome(entry, result={})
        assert writing.started("StartAuditMitigationActionsTask", "new").prior == {  # type: ignore[union-attr]
            "thingGroups": {"Quarantine": ["sensor-a"]}
        }
        assert writing.started("StartAuditMitigationActionsTask", "old").prior is None  # type: ignore[union-attr]
        assert writing.started("StartAuditMitigationActionsTask", "elsewhere") is None
        assert [e.params["taskId"] for e in writing.entries()] == ["new", "old"]
