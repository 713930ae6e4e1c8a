"""Fixtures of the tests that drive the app."""

from __future__ import annotations

from pathlib import Path

import pytest

from iot_defender_tui.sandbox.fleet import seed_fleet


@pytest.fixture
def lab(sandbox_url: str, aws_env: Path) -> str:
    """The sandbox's URL with the workshop lab seeded (the three failing checks), in a clean AWS env."""
    seed_fleet("lab")
    return sandbox_url
