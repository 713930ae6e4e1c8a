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
    # What most findings of an audit share (check, severity, reason, task start), kept once: a finding row
    # holds its id. `key` is JSON [check, severity, reason_code, reason, task_start].
    "CREATE TABLE kind (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE)",
    # The (task, check_name, identity) index is the order findings are read in (it holds seq too, so no
    # sort), the drift join and the per-check count: one index for the three, as every index of a
    # 1,000,000-finding table costs seconds to fill.
    """
    CREATE TABLE finding (
        seq INTEGER PRIMARY KEY,
        task INTEGER NOT NULL,
        check_name TEXT NOT NULL,
        identity INTEGER NOT NULL,    -- 64-bit hash of check + resource type + identifier (drift)
        finding_id TEXT NOT NULL,
        kind INTEGER NOT NULL,
        finding_time REAL,
        resources TEXT NOT NULL,      -- JSON [resource, related...], each [type, additionalInfo or 0,
                                      -- identifier member, value, member, value...]
        suppressed INTEGER NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX finding_id ON finding (task, finding_id)",
    "CREATE INDEX finding_check ON finding (task, check_name, identity)",
)

# The resource as a list shows it (ResourceRef.readable), kept so that a stored list's filter and sort
# (history/browse.py) read one narrow column instead of rebuilding 1,000,000 resources from their JSON.
# NULL in rows written before: browse.py rebuilds those.
_V2 = ("ALTER TABLE finding ADD COLUMN label TEXT",)

# Append only: a released migration is never edited, or files made by it would differ from new ones.
MIGRATIONS: list[tuple[str, ...]] = [_V1, _V2]
