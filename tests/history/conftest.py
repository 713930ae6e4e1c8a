"""Every test of the history gets a store of its own in its tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iot_defender_tui.history.store import AuditStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    with AuditStore.open(tmp_path / "history.sqlite3") as opened:
        yield opened
