"""The audit store's SQLite schema and its migrations.

`PRAGMA user_version` is the number of migrations applied: migration n (0-based) brings a file from version
n to n + 1, so a file of any older version is brought up to date step by step, and a file of a newer
version (written by a newer app) is refused rather than guessed at.

Findings are keyed by an integer `task` (the task table's rowid) rather than by account, region and task
id, which would repeat ~60 bytes in every row and every index entry of a 1,000,000-finding audit.
"""

from __future__ import annotations

_V1 = (
    """
    CREATE TABLE task (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        task_id TEXT NOT NULL,
        status TEXT NOT NULL,
        task_type TEXT,
        start_time REAL,              -- epoch seconds, UTC; NULL: not known yet
        scheduled_audit_name TEXT,
        statistics TEXT,              -- JSON [total, in_progress, waiting, compliant, non_compliant,
                                      --       failed, canceled], or NULL
        UNIQUE (account, region, task_id)
    )
    """,
    "CREATE INDEX task_start ON task (account, region, start_time)",
    """
    CREATE TABLE check_result (
        task INTEGER NOT NULL,
        check_name TEXT NOT NULL,
        status TEXT,
        compliant INTEGER,
        total_resources INTEGER NOT NULL,
        non_compliant INTEGER NOT NULL,
        suppressed_non_compliant INTEGER NOT NULL,
        error_code TEXT,
        message TEXT,
        PRIMARY KEY (task, check_name)
    ) WITHOUT ROWID
    """,
    # A check whose findings are all stored: what a resumed sync skips, and what lets the app read an
    # audit from the store instead of from AWS.
    """
    CREATE TABLE check_complete (
        task INTEGER NOT NULL,
        check_name TEXT NOT NULL,
        PRIMARY KEY (task, check_name)
    ) WITHOUT ROWID
    """,
    # seq (the rowid) keeps the order findings were saved in, AWS's order; the (task, check_name) index
    # holds it too, so a check's pages come out in that order without a sort.
    """
    CREATE TABLE finding (
        seq INTEGER PRIMARY KEY,
        task INTEGER NOT NULL,
        check_name TEXT NOT NULL,
        finding_id TEXT NOT NULL,
        identity INTEGER NOT NULL,    -- 64-bit hash of check + resource type + identifier (drift)
        task_start REAL,
        finding_time REAL,
        severity TEXT NOT NULL,
        resource TEXT NOT NULL,       -- JSON [type, identifier] or [type, identifier, additionalInfo]
        related TEXT,                 -- JSON list of the same, NULL when there are none
        reason_code TEXT,
        reason TEXT,
        suppressed INTEGER NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX finding_id ON finding (task, finding_id)",
    "CREATE INDEX finding_check ON finding (task, check_name)",
    "CREATE INDEX finding_identity ON finding (task, identity)",
)

# Append only: a released migration is never edited, or files made by it would differ from new ones.
MIGRATIONS: list[tuple[str, ...]] = [_V1]
