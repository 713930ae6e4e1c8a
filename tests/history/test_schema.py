"""The store's file: migrated from older versions, refused when newer or damaged, and every refusal a
HistoryError with a short reason the app can show ("history unavailable: <reason>")."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from iot_defender_tui.history import schema
from iot_defender_tui.history.store import AuditStore, HistoryError
from tests.history.helpers import ACCOUNT, REGION, SHARED, cert_finding, task


def version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where the test's history file goes; nothing is there yet."""
    return tmp_path / "h.sqlite3"


@pytest.fixture
def made(path: Path) -> Path:
    """A history file as the store makes it: the latest version, no audits, closed."""
    AuditStore.open(path).close()
    return path


def test_a_new_file_is_at_the_latest_version(made: Path) -> None:
    assert version(made) == len(schema.MIGRATIONS) == 2


def test_a_version_0_file_is_migrated(path: Path) -> None:
    sqlite3.connect(path).close()  # an empty SQLite file: version 0
    with AuditStore.open(path) as store:
        store.save_findings(ACCOUNT, REGION, "t1", [cert_finding("a", "t1", 1)])
    assert version(path) == len(schema.MIGRATIONS)


def test_an_older_file_is_migrated_step_by_step_keeping_its_data(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AuditStore.open(path) as store:
        store.save_task(ACCOUNT, REGION, task("t1", 1_700_000_000, {SHARED: 1}))
        store.save_findings(ACCOUNT, REGION, "t1", [cert_finding("a", "t1", 1)])
    # A later release's migration: the v1 file gets it, and its audits survive.
    v2 = ("ALTER TABLE task ADD COLUMN note TEXT", "UPDATE task SET note = 'migrated'")
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, v2])
    with AuditStore.open(path) as store:
        assert store.count(ACCOUNT, REGION, "t1") == 1
        assert store.task(ACCOUNT, REGION, "t1") is not None
        assert store.select("SELECT note FROM task") == [("migrated",)]
    assert version(path) == len(schema.MIGRATIONS)
    with AuditStore.open(path):  # migrated once only
        pass


def test_a_failed_migration_leaves_the_file_alone(made: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, ("ALTER TABLE nope ADD COLUMN x",)])
    with pytest.raises(HistoryError, match="no such table"):
        AuditStore.open(made)
    assert version(made) == len(schema.MIGRATIONS) - 1


def test_a_newer_file_is_refused(made: Path) -> None:
    with sqlite3.connect(made) as db:
        db.execute("PRAGMA user_version = 7")
    with pytest.raises(HistoryError) as raised:
        AuditStore.open(made)
    assert raised.value.reason == "written by a newer iot-defender-tui (history version 7)"
    assert version(made) == 7  # left as it was


def test_a_corrupt_file_is_refused_with_a_readable_reason(path: Path) -> None:
    path.write_bytes(os.urandom(8192))
    with pytest.raises(HistoryError) as raised:
        AuditStore.open(path)
    assert raised.value.reason == "file is not a database"
    assert "move it aside" in str(raised.value)


def test_an_unwritable_place_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(HistoryError) as raised:
        AuditStore.open(blocker / "h.sqlite3")
    assert raised.value.reason  # the OS's words, e.g. "[Errno 20] Not a directory: ..."


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_file_is_refused(path: Path) -> None:
    sqlite3.connect(path).close()  # version 0: opening must write the schema
    path.chmod(0o400)
    with pytest.raises(HistoryError) as raised:
        AuditStore.open(path)
    assert "readonly" in raised.value.reason


@pytest.mark.parametrize("resources", ["{", "nope", "[]", "7"])
def test_a_damaged_finding_is_a_history_error_not_a_crash(store: AuditStore, resources: str) -> None:
    store.save_task(ACCOUNT, REGION, task("t1", 1_700_000_000, {SHARED: 2}))
    store.save_findings(ACCOUNT, REGION, "t1", [cert_finding("a", "t1", 1), cert_finding("b", "t1", 2)])
    with sqlite3.connect(store.path) as db:  # what a damaged page or a hand edit leaves
        db.execute("UPDATE finding SET resources = ? WHERE finding_id = 'b'", (resources,))

    reads = {
        "findings": lambda: list(store.findings(ACCOUNT, REGION, "t1")),
        "findings of a check": lambda: list(store.findings(ACCOUNT, REGION, "t1", SHARED)),
        "findings_page": lambda: store.findings_page(ACCOUNT, REGION, "t1", None, 0, 10),
    }
    for read in reads.values():
        with pytest.raises(HistoryError) as raised:
            read()
        assert raised.value.reason.startswith("a stored finding is damaged: ")
    if resources == "nope":
        assert raised.value.reason == "a stored finding is damaged: not JSON: 'nope'"
    # The rest of the history still reads: only the damaged row fails.
    rows = store.select("SELECT finding_id FROM finding ORDER BY check_name, identity, seq")
    order = [row[0] for row in rows]
    page = store.findings_page(ACCOUNT, REGION, "t1", None, order.index("a"), 1)
    assert [f.finding_id for f in page] == ["a"]
    assert store.count(ACCOUNT, REGION, "t1") == 2
