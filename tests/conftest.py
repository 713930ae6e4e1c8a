"""Fixtures every test may use: one loopback sandbox per session, reset for each test; a clean AWS
environment; a journal and a DefenderClient of the sandbox. Helpers are in tests/support/."""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.sandbox.runtime import Clock, Options, runtime
from iot_defender_tui.sandbox.server import SandboxServer
from tests.support.sandbox import make_client, sandbox_settings

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


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    server = SandboxServer("127.0.0.1", 0, Options(audit_seconds=0.5, mitigation_seconds=0.2))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sandbox_day_zero(sandbox_server: SandboxServer) -> float:
    """Day 0 of the sandbox calendar as the server set it (the snapshot world moves it)."""
    return runtime().started


@pytest.fixture
def sandbox_url(sandbox_server: SandboxServer, sandbox_day_zero: float) -> Iterator[str]:
    """The server's URL, with moto reset and default options restored for this test."""
    urllib.request.urlopen(urllib.request.Request(f"{sandbox_server.url}/moto-api/reset", method="POST"))
    rt = runtime()
    rt.options = Options(audit_seconds=0.5, mitigation_seconds=0.2)
    rt.clock = Clock()  # a test that moved time must not shift the next one's
    rt.started = sandbox_day_zero  # nor one that moved the calendar
    rt.rng.seed(0)
    yield sandbox_server.url


@pytest.fixture
def iot(sandbox_url: str):
    return make_client(sandbox_url)


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


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """A journal of this test's own: the client sends no write without one."""
    with Journal.open(tmp_path / "journal.sqlite") as opened:
        yield opened


@pytest.fixture
async def dd(sandbox_url: str, aws_env: Path, journal: Journal) -> AsyncIterator[DefenderClient]:
    async with DefenderClient(sandbox_settings(sandbox_url), journal) as client:
        yield client
