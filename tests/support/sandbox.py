"""How tests reach the loopback sandbox: a boto3 client checked against botocore's shapes, the app's
connection settings and tunings, the requests the sandbox received, and a URL where nothing listens."""

from __future__ import annotations

import json
import socket
import urllib.request

import boto3
from botocore.config import Config

from iot_defender_tui.aws.ratelimit import Backoff
from iot_defender_tui.aws.session import ConnectionSettings, Tuning
from tests.support.shapes import check_response

REGION = "us-east-1"
ACCOUNT = "123456789012"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# Failure paths should take milliseconds. botocore's own back-off on throttling is rand(0..1) * 2**n
# seconds and not adjustable, so these leave retries to our layer, whose back-off is.
FAST = Tuning(retry_mode="standard", max_attempts=0, backoff=Backoff(attempts=3, base=0.01, cap=0.05))
PATIENT = Tuning(retry_mode="standard", max_attempts=0, backoff=Backoff(attempts=12, base=0.005, cap=0.02))


def make_client(url: str, service: str = "iot", **config: object):
    """A boto3 client of the sandbox whose every IoT reply is checked against botocore's shapes."""
    config.setdefault("retries", {"total_max_attempts": 1})  # a retried 500 would hide a bug
    client = boto3.client(
        service, endpoint_url=url, region_name=REGION, config=Config(**config), **CREDENTIALS
    )
    if service == "iot":
        client.meta.events.register("before-parse.iot.*", check_response)
    return client


def sandbox_settings(url: str, *, read_only: bool = False) -> ConnectionSettings:
    return ConnectionSettings(profile=None, region=REGION, endpoint_url=url, read_only=read_only)


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
