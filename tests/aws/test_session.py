"""Where the client connects and as whom, and the errors a user sees when that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.errors import (
    EndpointUnreachableError,
    NoCredentialsError,
    SsoTokenExpiredError,
    UnknownRegionError,
)
from iot_defender_tui.aws.session import ConnectionSettings
from tests.support.sandbox import ACCOUNT, FAST, REGION, closed_port_url, sandbox_settings


def test_explicit_values_win_over_the_environment():
    env = {
        "AWS_PROFILE": "from-env",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ENDPOINT_URL": "http://env:1",
    }
    settings = ConnectionSettings.resolve("cli", "us-west-2", "http://cli:2", True, environ=env)
    assert settings == ConnectionSettings("cli", "us-west-2", "http://cli:2", True)
    assert all(settings.endpoint_for(s) == "http://cli:2" for s in ("iot", "sts", "iam", "sns"))


def test_environment_fills_what_was_not_given():
    env = {"AWS_PROFILE": "dev", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-central-1"}
    settings = ConnectionSettings.resolve(environ=env)
    assert (settings.profile, settings.region, settings.endpoint_url) == ("dev", "eu-west-1", None)
    assert ConnectionSettings.resolve(environ={"AWS_DEFAULT_REGION": "ap-south-1"}).region == "ap-south-1"


def test_iot_endpoint_variable_moves_iot_alone():
    env = {"AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_IOT": "http://iot:2"}
    settings = ConnectionSettings.resolve(environ=env)
    assert settings.endpoint_url == "http://iot:2"
    assert settings.endpoint_for("iot") == "http://iot:2"
    # STS, IAM and SNS are left to botocore, which reads AWS_ENDPOINT_URL for them itself.
    assert settings.endpoint_for("sts") is None
    whole = ConnectionSettings.resolve(environ={"AWS_ENDPOINT_URL": "http://all:1"})
    assert whole.endpoint_for("sns") == "http://all:1"
    ignored = ConnectionSettings.resolve(environ={**env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"})
    assert ignored.endpoint_url is None


async def test_identity_of_the_sandbox_caller(dd):
    me = await dd.identity()
    assert me.account == ACCOUNT
    assert me.arn.startswith(f"arn:aws:sts::{ACCOUNT}:") or me.arn.startswith(f"arn:aws:iam::{ACCOUNT}:")
    assert dd.region == REGION


async def test_region_and_endpoint_from_the_environment(sandbox_url, aws_env, monkeypatch):
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox_url)
    async with DefenderClient(ConnectionSettings.resolve()) as dd:
        assert (await dd.identity()).account == ACCOUNT
        assert (await dd.describe_audit_configuration()).checks


async def test_region_from_the_profile_in_the_config_file(sandbox_url, aws_env: Path):
    (aws_env / "config").write_text(f"[profile lab]\nregion = {REGION}\n")
    (aws_env / "credentials").write_text(
        "[lab]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    settings = ConnectionSettings(profile="lab", endpoint_url=sandbox_url)
    async with DefenderClient(settings) as dd:
        assert dd.region == REGION
        assert (await dd.identity()).account == ACCOUNT


async def test_clients_are_closed_on_exit(sandbox_url, aws_env):
    dd = DefenderClient(sandbox_settings(sandbox_url))
    async with dd:
        await dd.identity()
        # The aiohttp sessions behind each client (one per endpoint): open while in use.
        sessions = [
            session
            for client in dd._clients.values()
            for session in client._endpoint.http_session._sessions.values()
        ]
        assert sessions and not any(session.closed for session in sessions)
    assert all(session.closed for session in sessions)
    with pytest.raises(RuntimeError, match="async with"):
        await dd.describe_audit_configuration()


async def test_missing_region_names_the_flag(sandbox_url, aws_env):
    with pytest.raises(UnknownRegionError) as err:
        async with DefenderClient(ConnectionSettings(endpoint_url=sandbox_url)):
            pass
    assert "--region" in err.value.text and "AWS_REGION" in err.value.text


async def test_region_without_iot_is_refused_before_any_request(aws_env):
    with pytest.raises(UnknownRegionError, match="us-eats-1"):
        async with DefenderClient(ConnectionSettings(region="us-eats-1")):
            pass
    with pytest.raises(UnknownRegionError, match="not an AWS region"):
        async with DefenderClient(ConnectionSettings(region="Frankfurt", endpoint_url="http://x:1")):
            pass


async def test_no_credentials_says_how_to_configure_them(sandbox_url, bare_aws):
    async with DefenderClient(sandbox_settings(sandbox_url), tuning=FAST) as dd:
        with pytest.raises(NoCredentialsError) as err:
            await dd.identity()
    assert "aws configure" in err.value.text and "--profile" in err.value.text


async def test_unknown_profile_is_named(sandbox_url, bare_aws):
    with pytest.raises(NoCredentialsError, match="'ghost'"):
        async with DefenderClient(ConnectionSettings("ghost", REGION, sandbox_url)) as dd:
            await dd.identity()


async def test_expired_sso_names_the_login_command(sandbox_url, bare_aws: Path):
    (bare_aws / "config").write_text(
        "[profile corp]\nsso_session = corp\nsso_account_id = 123456789012\n"
        "sso_role_name = Auditor\nregion = us-east-1\n\n"
        "[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n"
    )
    async with DefenderClient(ConnectionSettings("corp", REGION, sandbox_url), tuning=FAST) as dd:
        with pytest.raises(SsoTokenExpiredError) as err:
            await dd.describe_audit_configuration()
    assert "aws sso login --profile corp" in err.value.text


async def test_unreachable_endpoint_names_the_url(aws_env):
    url = closed_port_url()
    async with DefenderClient(sandbox_settings(url), tuning=FAST) as dd:
        with pytest.raises(EndpointUnreachableError) as err:
            await dd.describe_audit_configuration()
    assert url in err.value.text
    assert err.value.operation == "DescribeAccountAuditConfiguration"
