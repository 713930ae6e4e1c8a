"""`sandbox --accounts N`: an organization whose members, reached through their
OrganizationAccountAccessRole from the management (lab) account, each show their own audits."""

from __future__ import annotations

import datetime as dt
import json
import signal
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.organization import ROLE_NAME, Member, plan, seed_organization
from tests.sandbox.test_cli_sandbox import URL, _module_command, _refused, running
from tests.support.sandbox import ACCOUNT, CREDENTIALS, make_client

MEMBERS = 5
BROKEN = 3


@pytest.fixture
def org(sandbox_url: str) -> list[Member]:
    """The lab in the management account, and five members (the third's role broken)."""
    seed_fleet("lab")
    members = plan(MEMBERS, seed=0, broken=[BROKEN])
    seed_organization(members, seed=0)
    return members


def _client(url: str, service: str, region: str = "us-east-1", **credentials: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        config=Config(retries={"total_max_attempts": 1}),
        **(credentials or CREDENTIALS),
    )


def _assume(url: str, member: Member) -> dict[str, str]:
    """Credentials of the member's role, asked for with the management account's."""
    reply = _client(url, "sts").assume_role(RoleArn=member.role_arn, RoleSessionName="fleet-overview")
    creds = reply["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def _tasks(iot) -> list[dict]:
    now = dt.datetime.now(dt.UTC)
    reply = iot.list_audit_tasks(startTime=now - dt.timedelta(days=80), endTime=now + dt.timedelta(days=1))
    return sorted(reply["tasks"], key=lambda t: iot.describe_audit_task(taskId=t["taskId"])["taskStartTime"])


def _non_compliant(iot, task_id: str) -> set[str]:
    checks = iot.describe_audit_task(taskId=task_id)["auditDetails"]
    return {name for name, detail in checks.items() if detail["checkRunStatus"] == "COMPLETED_NON_COMPLIANT"}


def _findings(iot, task_id: str) -> list[dict]:
    pages = iot.get_paginator("list_audit_findings").paginate(taskId=task_id)
    return [finding for page in pages for finding in page["findings"]]


def _latest_completed(iot) -> dict:
    return [t for t in _tasks(iot) if t["taskStatus"] == "COMPLETED"][-1]


def test_list_accounts_names_the_management_account_and_every_member(sandbox_url, org):
    accounts = _client(sandbox_url, "organizations").list_accounts()["Accounts"]
    assert {a["Id"]: a["Name"] for a in accounts if a["Id"] != ACCOUNT} == {m.account_id: m.name for m in org}
    assert ACCOUNT in {a["Id"] for a in accounts}
    organization = _client(sandbox_url, "organizations").describe_organization()["Organization"]
    assert organization["MasterAccountId"] == ACCOUNT
    assert [m.name for m in org][:3] == ["prod-1", "staging-2", "product-3"]


def test_assumed_role_sees_the_members_audits_not_the_labs(sandbox_url, org):
    member = org[0]
    region = next(iter(member.fleets))
    iot = _client(sandbox_url, "iot", region, **_assume(sandbox_url, member))
    config = iot.describe_account_audit_configuration()
    assert config["roleArn"].startswith(f"arn:aws:iam::{member.account_id}:role/")
    statuses = [t["taskStatus"] for t in _tasks(iot)]
    assert statuses.count("COMPLETED") == member.audits == 2
    assert statuses[-1] == "IN_PROGRESS"  # the first member's audit running at start

    lab = make_client(sandbox_url)
    assert lab.describe_account_audit_configuration()["roleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:")
    lab_tasks = _tasks(lab)
    assert [t["taskStatus"] for t in lab_tasks] == ["COMPLETED"]
    assert {t["taskId"] for t in lab_tasks}.isdisjoint(t["taskId"] for t in _tasks(iot))
    assert _non_compliant(lab, lab_tasks[0]["taskId"]) == {
        "DEVICE_CERTIFICATE_SHARED_CHECK",
        "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
        "LOGGING_DISABLED_CHECK",
    }


def test_broken_role_is_access_denied_and_the_others_are_not(sandbox_url, org):
    sts = _client(sandbox_url, "sts")
    broken = org[BROKEN - 1]
    with pytest.raises(ClientError) as raised:
        sts.assume_role(RoleArn=broken.role_arn, RoleSessionName="fleet-overview")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    message = raised.value.response["Error"]["Message"]
    assert broken.role_arn in message and f"::{ACCOUNT}:" in message  # who was refused what
    for member in org:
        if member is not broken:
            assert _assume(sandbox_url, member)["aws_session_token"]
    # A role that does not exist in a member account is denied too; outside the organization moto's
    # AssumeRole still hands out credentials for any role.
    missing = f"arn:aws:iam::{org[0].account_id}:role/NoSuchRole"
    with pytest.raises(ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn=missing, RoleSessionName="fleet-overview")
    assert sts.assume_role(RoleArn="arn:aws:iam::111111111111:role/Any", RoleSessionName="elsewhere")


def test_members_differ_in_posture(sandbox_url, org):
    seen = {}
    for member in org:
        if member.broken_role:
            continue
        region = next(iter(member.fleets))
        iot = _client(sandbox_url, "iot", region, **_assume(sandbox_url, member))
        task = _latest_completed(iot)
        failing = _non_compliant(iot, task["taskId"])
        seen[member.name] = failing
        assert {f["checkName"] for f in _findings(iot, task["taskId"])} == failing
    assert seen["staging-2"] == set(), "the clean account fails a check"
    assert len({frozenset(failing) for failing in seen.values()}) == len(seen)
    assert "IOT_POLICY_OVERLY_PERMISSIVE_CHECK" in seen["qa-5"]
    assert not any(name.startswith("DEVICE_CERTIFICATE") for name in seen["qa-5"])


def test_two_audits_differ_so_drift_shows(sandbox_url, org):
    member = org[0]
    iot = _client(sandbox_url, "iot", next(iter(member.fleets)), **_assume(sandbox_url, member))
    first, second = [t["taskId"] for t in _tasks(iot) if t["taskStatus"] == "COMPLETED"]

    def found(task_id: str) -> set[tuple[str, str]]:
        return {(f["checkName"], str(f["nonCompliantResource"])) for f in _findings(iot, task_id)}

    assert found(first) != found(second)


def test_member_region_without_a_fleet_has_no_audit_configuration(sandbox_url, org):
    member = next(m for m in org if len(m.fleets) < 3 and not m.broken_role)
    region = next(r for r in ("us-east-1", "eu-west-1", "ap-southeast-2") if r not in member.fleets)
    iot = _client(sandbox_url, "iot", region, **_assume(sandbox_url, member))
    config = iot.describe_account_audit_configuration()
    assert "roleArn" not in config
    assert not any(c.get("enabled") for c in config["auditCheckConfigurations"].values())
    assert _tasks(iot) == []


def test_member_role_trusts_the_management_account(sandbox_url, org):
    member = org[0]
    iam = _client(sandbox_url, "iam", **_assume(sandbox_url, member))
    role = iam.get_role(RoleName=ROLE_NAME)["Role"]
    principal = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


def test_plan_is_the_same_for_a_seed_and_checks_its_numbers():
    assert plan(4, seed=7) == plan(4, seed=7)
    assert [m.account_id for m in plan(4, seed=7)] != [m.account_id for m in plan(4, seed=8)]
    assert all(1 <= len(m.fleets) <= 3 for m in plan(20, seed=1))
    assert all(30 <= n <= 300 for m in plan(20, seed=1) for n in m.fleets.values())
    with pytest.raises(ValueError, match="member 3 does not exist"):
        plan(2, seed=0, broken=[3])


def test_command_prints_the_organization_after_its_url_line():
    command = _module_command("--accounts", "2", "--broken-role-accounts", "2", "--regions", "eu-west-1")
    with running(command) as sandbox:
        line = sandbox.first_line()
        (port,) = URL.findall(line)
        url = f"http://127.0.0.1:{port}"
        accounts = _client(url, "organizations").list_accounts()["Accounts"]
        code, stdout, stderr = sandbox.stop(signal.SIGTERM)
    assert code == 0 and stderr == ""
    names = {a["Name"]: a["Id"] for a in accounts}
    assert "management account 123456789012" in stdout
    assert ROLE_NAME in stdout
    for name in ("prod-1", "staging-2"):
        assert f"{names[name]}  {name}" in stdout
    assert stdout.count("eu-west-1") == 2
    assert "[role not assumable]" in stdout.splitlines()[-1]


def test_accounts_zero_is_the_sandbox_as_before():
    with running(_module_command("--accounts", "0")) as sandbox:
        (port,) = URL.findall(sandbox.first_line())
        url = f"http://127.0.0.1:{port}"
        with pytest.raises(ClientError, match="AWSOrganizationsNotInUseException"):
            _client(url, "organizations").describe_organization()
        assert [t["thingName"] for t in make_client(url).list_things()["things"]] == [
            "SensorDevice01",
            "SensorDevice02",
        ]
        code, stdout, stderr = sandbox.stop(signal.SIGTERM)
    assert (code, stdout, stderr) == (0, "", "")


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--accounts", "-1"], "--accounts"),
        (["--accounts", "101"], "--accounts"),
        (["--regions", "us-east-1,us-east-1"], "--regions"),
        (["--regions", "us-east-1,"], "--regions"),
        (["--broken-role-accounts", "0"], "--broken-role-accounts"),
        (["--accounts", "2", "--broken-role-accounts", "3"], "--broken-role-accounts"),
    ],
)
def test_bad_organization_flags_are_refused(flags, named):
    done = _refused(*flags)
    assert done.returncode == 2
    assert named in done.stderr
    assert "Traceback" not in done.stderr


def _role_trust(url: str, query: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{url}/_sandbox/role-trust?{query}", method="POST")
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_admin_path_breaks_and_repairs_a_members_role(sandbox_url, org):
    member, broken = org[0], org[BROKEN - 1]
    status, body = _role_trust(sandbox_url, f"accountId={member.account_id}&trusted=false")
    assert (status, body["roleArn"], body["trusted"]) == (200, member.role_arn, False)
    with pytest.raises(ClientError, match="AccessDenied"):
        _assume(sandbox_url, member)
    assert _role_trust(sandbox_url, f"accountId={broken.account_id}&trusted=true")[0] == 200
    iot = _client(sandbox_url, "iot", next(iter(broken.fleets)), **_assume(sandbox_url, broken))
    assert _latest_completed(iot)["taskStatus"] == "COMPLETED"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("accountId=111111111111&trusted=false", 404),  # not in the organization
        (f"accountId={ACCOUNT}&trusted=false", 404),  # the management account is no member
        ("accountId=12345&trusted=false", 400),
        ("accountId=111111111111&trusted=maybe", 400),
        ("accountId=111111111111&trusted=false&role=x", 400),
    ],
)
def test_admin_path_refuses_what_it_cannot_do(sandbox_url, org, query, status):
    code, body = _role_trust(sandbox_url, query)
    assert code == status
    assert body["message"]
