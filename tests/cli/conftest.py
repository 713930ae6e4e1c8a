"""Fixtures of the command tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from iot_defender_tui.sandbox.fleet import seed_fleet
from tests.support.sandbox import REGION


@pytest.fixture
def lab(sandbox_url: str, aws_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The lab fleet (its audit of yesterday, completed), the sandbox in the environment as a command
    finds it (AWS_ENDPOINT_URL, AWS_REGION), and a home of this test's own (config, journal, history)."""
    monkeypatch.setenv("IOT_DEFENDER_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox_url)
    seed_fleet("lab")
    return sandbox_url
