"""Fixtures of the DefenderClient tests: a clean AWS environment and a client of the loopback sandbox.

Test modules load this with `pytest_plugins = ["tests.aws_fixtures"]`. No asserts here, so no rewriting is
needed when a test module imports its helpers first: PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.aws.ratelimit import Backoff
from iot_defender_tui.aws.session import ConnectionSettings, Tuning
from tests.conftest import REGION

AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_IOT",
    "AWS_ENDPOINT_URL_STS",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)

# Failure paths should take milliseconds. botocore's own back-off on throttling is rand(0..1) * 2**n
# seconds and not adjustable, so these leave retries to our layer, whose back-off is.
FAST = Tuning(retry_mode="standard", max_attempts=0, backoff=Backoff(attempts=3, base=0.01, cap=0.05))
PATIENT = Tuning(retry_mode="standard", max_attempts=0, backoff=Backoff(attempts=12, base=0.005, cap=0.02))


@pytest.fixture
def bare_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS settings at all: empty config and credentials files, no AWS_* variables, no IMDS.

    Returns the directory holding the (empty) `config` and `credentials` files.
    """
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("HOME", str(tmp_path))  # the SSO token cache lives under ~/.aws
    return tmp_path


@pytest.fixture
def aws_env(bare_aws: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sandbox's dummy credentials in the environment, as a user of the sandbox would set them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return bare_aws


def sandbox_settings(url: str, *, read_only: bool = False) -> ConnectionSettings:
    return ConnectionSettings(profile=None, region=REGION, endpoint_url=url, read_only=read_only)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """A journal of this test's own: the client sends no write without one."""
    with Journal.open(tmp_path / "journal.sqlite") as opened:
        yield opened


@pytest.fixture
async def dd(sandbox_url: str, aws_env: Path, journal: Journal) -> AsyncIterator[DefenderClient]:
    async with DefenderClient(sandbox_settings(sandbox_url), journal) as client:
        yield client


def request_counts(url: str) -> dict[str, int]:
    """IoT requests the sandbox received, by operation (counted for the whole session)."""
    with urllib.request.urlopen(f"{url}/_sandbox/stats") as reply:
        return dict(json.load(reply)["requests"])


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
