"""Fixtures of the tests that drive the app."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from iot_defender_tui.sandbox.fleet import seed_fleet


@pytest.fixture
def lab(sandbox_url: str, aws_env: Path) -> str:
    """The sandbox's URL with the workshop lab seeded (the three failing checks), in a clean AWS env."""
    seed_fleet("lab")
    return sandbox_url


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC in this process, and back to what it was afterwards (tzset is process-wide)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()
