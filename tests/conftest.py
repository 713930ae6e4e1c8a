"""One loopback sandbox per test session; every test starts from a reset moto."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from iot_defender_tui.sandbox.runtime import Clock, Options, runtime
from iot_defender_tui.sandbox.server import SandboxServer
from tests.shapes import check_response

REGION = "us-east-1"
ACCOUNT = "123456789012"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    server = SandboxServer("127.0.0.1", 0, Options(audit_seconds=0.5, mitigation_seconds=0.2))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox_url(sandbox_server: SandboxServer) -> Iterator[str]:
    """The server's URL, with moto reset and default options restored for this test."""
    urllib.request.urlopen(urllib.request.Request(f"{sandbox_server.url}/moto-api/reset", method="POST"))
    rt = runtime()
    rt.options = Options(audit_seconds=0.5, mitigation_seconds=0.2)
    rt.clock = Clock()  # a test that moved time must not shift the next one's
    rt.rng.seed(0)
    yield sandbox_server.url


def make_client(url: str, service: str = "iot", **config: object):
    """A boto3 client of the sandbox whose every IoT reply is checked against botocore's shapes."""
    config.setdefault("retries", {"total_max_attempts": 1})  # a retried 500 would hide a bug
    client = boto3.client(
        service, endpoint_url=url, region_name=REGION, config=Config(**config), **CREDENTIALS
    )
    if service == "iot":
        client.meta.events.register("before-parse.iot.*", check_response)
    return client


@pytest.fixture
def iot(sandbox_url: str):
    return make_client(sandbox_url)
