"""Contexts: `[[contexts]]` tables in config.toml, `--region a,b` lists and `--context NAME`."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from iot_defender_tui.aws.contexts import Context, ContextError, active_context, build_contexts
from iot_defender_tui.aws.session import ConnectionSettings, connection_for
from iot_defender_tui.cli import main
from iot_defender_tui.config import ConfigError, OrganizationSettings, Settings, load_settings

TABLES = """\
profile = "base"

[[contexts]]
name = "prod"
profile = "prod-admin"
region = "eu-west-1"
read_only = true

[[contexts]]
name = "staging"
region = "us-east-1"
role_arn = "arn:aws:iam::123456789012:role/Auditor"
"""


def _load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def _error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    return caught.value


@pytest.fixture(autouse=True)
def _no_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)


def test_tables_become_contexts_in_file_order(tmp_path: Path) -> None:
    settings = _load(tmp_path, TABLES)
    assert build_contexts(settings) == [
        Context("prod", "prod-admin", "eu-west-1", None, read_only=True),
        Context("staging", None, "us-east-1", "arn:aws:iam::123456789012:role/Auditor"),
    ]


def test_comma_regions_make_one_context_per_region_the_first_active(tmp_path: Path) -> None:
    settings = _load(tmp_path, TABLES)
    contexts = build_contexts(settings, profile="dev", regions=["us-east-1", "eu-west-1"])
    assert [c.name for c in contexts] == ["prod", "staging", "dev/us-east-1", "dev/eu-west-1"]
    assert contexts[-1] == Context("dev/eu-west-1", "dev", "eu-west-1")
    active = active_context(settings, name=None, profile=None, region="us-east-1,eu-west-1")
    assert active == Context("base/us-east-1", "base", "us-east-1")  # the config's profile
    assert active_context(Settings(), name=None, profile=None, region="us-east-1,eu-west-1").name == (
        "default/us-east-1"
    )


def test_no_contexts_is_todays_behaviour(tmp_path: Path) -> None:
    settings = _load(tmp_path, 'region = "eu-west-1"\n')
    assert active_context(settings, name=None, profile=None, region=None) is None
    assert active_context(settings, name=None, profile=None, region="us-west-2") is None
    connection = connection_for(argparse.Namespace(region="us-west-2"), settings)
    assert (connection.region, connection.context, connection.read_only) == ("us-west-2", None, False)


def test_context_flag_selects_profile_region_and_read_only(tmp_path: Path) -> None:
    settings = _load(tmp_path, TABLES)
    args = argparse.Namespace(context="prod", region="us-west-2", profile=None)
    connection = connection_for(args, settings)
    assert (connection.profile, connection.region) == ("prod-admin", "eu-west-1")
    assert connection.read_only and connection.context == "prod"
    staging = connection_for(argparse.Namespace(context="staging"), settings)
    assert (staging.profile, staging.region, staging.read_only) == ("base", "us-east-1", False)
    regionless = _load(tmp_path, '[[contexts]]\nname = "x"\nprofile = "p"\n')
    chosen = connection_for(argparse.Namespace(context="x", region="ap-south-1"), regionless)
    assert (chosen.profile, chosen.region, chosen.context) == ("p", "ap-south-1", "x")


def test_unknown_context_names_the_known_ones(tmp_path: Path) -> None:
    settings = _load(tmp_path, TABLES)
    with pytest.raises(ContextError, match=r"no context named 'qa'; known contexts: prod, staging"):
        active_context(settings, name="qa", profile=None, region=None)


def test_unknown_context_flag_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text(TABLES, encoding="utf-8")
    with pytest.raises(SystemExit) as caught:
        main(["--config", str(path), "--context", "qa"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "no context named 'qa'; known contexts: prod, staging" in err


def test_bad_region_list_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--region", "us-east-1,mars-1"])
    assert caught.value.code == 2 and "not an AWS region name" in capsys.readouterr().err


def test_duplicate_names_are_an_error_at_the_second(tmp_path: Path) -> None:
    err = _error(tmp_path, '[[contexts]]\nname = "a"\n\n[[contexts]]\nregion = "us-east-1"\nname = "a"\n')
    assert err.line == 6 and err.key == "name" and "contexts[2]" in str(err) and "unique" in str(err)


def test_bad_region_in_a_table_names_its_line(tmp_path: Path) -> None:
    err = _error(tmp_path, TABLES.replace('region = "us-east-1"', 'region = "us east"'))
    assert err.line == 11 and err.key == "region"
    assert ", line 11: contexts[2]: region: not an AWS region name" in str(err)


@pytest.mark.parametrize(
    ("table", "line", "problem"),
    [
        ('region = "us-east-1"\n', 1, "needs a name"),
        ('name = "a"\nprofle = "x"\n', 3, "did you mean 'profile'?"),
        ('name = "a"\nprofile = "has space"\n', 3, "a profile name is printable"),
        ('name = "a"\nread_only = "yes"\n', 3, "read_only must be true or false"),
        ('name = "a"\nrole_arn = "Auditor"\n', 3, "not an IAM role ARN"),
    ],
)
def test_table_errors_name_their_line(tmp_path: Path, table: str, line: int, problem: str) -> None:
    err = _error(tmp_path, "[[contexts]]\n" + table)
    assert err.line == line and problem in str(err)


def test_contexts_must_be_tables(tmp_path: Path) -> None:
    err = _error(tmp_path, 'contexts = ["prod"]\n')
    assert err.line == 1 and "[[contexts]] tables" in str(err)


def test_for_context_keeps_the_endpoint_and_takes_the_contexts_account(tmp_path: Path) -> None:
    base = ConnectionSettings(profile="base", region="us-west-2", endpoint_url="http://127.0.0.1:9")
    role = "arn:aws:iam::210987654321:role/Auditor"
    member = Context("member", None, "eu-west-1", role, read_only=True, account_id="210987654321")
    moved = base.for_context(member)
    assert (moved.profile, moved.region, moved.role_arn, moved.context) == (
        "base",
        "eu-west-1",
        role,
        "member",
    )
    assert moved.read_only and moved.endpoint_for("sts") == "http://127.0.0.1:9"
    assert base.for_context(Context("x", "p", None)).region == "us-west-2"
    assert ConnectionSettings(read_only=True).for_context(Context("x", None, None)).read_only


def test_a_tables_role_and_account_reach_the_connection(tmp_path: Path) -> None:
    settings = _load(
        tmp_path, TABLES.replace('name = "staging"', 'name = "staging"\naccount_id = "123456789012"')
    )
    staging = build_contexts(settings)[1]
    assert staging.account_id == "123456789012" and staging.account_name is None
    connection = connection_for(argparse.Namespace(context="staging"), settings)
    assert connection.role_arn == "arn:aws:iam::123456789012:role/Auditor"
    assert connection_for(argparse.Namespace(context="prod"), settings).role_arn is None
    err = _error(tmp_path, '[[contexts]]\nname = "a"\naccount_id = "12345"\n')
    assert err.line == 3 and "12 digits" in str(err)


ORGANIZATION = """\
region = "us-east-1"

[organization]
regions = ["us-east-1", "eu-west-1"]
profile = "management"
role_name = "Auditor"
read_only = true
accounts = ["111111111111", "222222222222"]
exclude = ["222222222222"]
"""


def test_organization_table(tmp_path: Path) -> None:
    assert _load(tmp_path, ORGANIZATION).organization == OrganizationSettings(
        regions=("us-east-1", "eu-west-1"),
        role_name="Auditor",
        profile="management",
        read_only=True,
        accounts=("111111111111", "222222222222"),
        exclude=("222222222222",),
    )
    minimal = _load(tmp_path, '[organization]\nregions = ["eu-west-1"]\n').organization
    assert minimal == OrganizationSettings(regions=("eu-west-1",))
    assert minimal.role_name == "OrganizationAccountAccessRole" and minimal.profile is None
    assert _load(tmp_path, 'region = "us-east-1"\n').organization is None


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("[organization]\nrole_name = 'x'\n", 1, "organization needs regions"),
        ("[organization]\nregions = []\n", 2, "needs at least one region"),
        ("[organization]\nregions = ['us-east-1', 'mars']\n", 2, "organization.regions: not an AWS region"),
        ("[organization]\nregions = ['us-east-1']\naccounts = [111111111111]\n", 3, "account ids in quotes"),
        ("[organization]\nregions = ['us-east-1']\nexclude = ['1234']\n", 3, "12 digits"),
        ("[organization]\nregions = ['us-east-1']\nrole_name = 'a/b'\n", 3, "not an IAM role name"),
        ("[organization]\nregions = ['us-east-1']\nread_only = 1\n", 3, "must be true or false"),
        ("[organization]\nregion = 'us-east-1'\n", 2, "did you mean 'regions'?"),
        ("theme = 'textual-dark'\norganization = 'all'\n", 2, "organization must be a table"),
    ],
)
def test_organization_errors_name_their_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    err = _error(tmp_path, text)
    assert err.line == line and problem in str(err)
