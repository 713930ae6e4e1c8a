"""An AWS Organization's accounts as contexts, and working in a member account through its assumed role.

Against the sandbox: moto serves Organizations and STS, and maps an assumed role's credentials to the role's
account. moto assumes any role ARN (a missing role, an account that does not exist, a trust policy that
denies): AWS's refusals are served here by a small stub endpoint answering as AWS does.
"""

from __future__ import annotations

import ast
import datetime
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import botocore.credentials
import pytest
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from iot_defender_tui.aws import permissions
from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.contexts import Context
from iot_defender_tui.aws.errors import (
    AccessDeniedError,
    AwsError,
    EndpointUnreachableError,
    NoCredentialsError,
)
from iot_defender_tui.aws.organization import contexts_of, organization_contexts
from iot_defender_tui.aws.session import ConnectionSettings
from iot_defender_tui.config import OrganizationSettings
from tests.aws.test_least_privilege import AWS, ROOT
from tests.support.sandbox import ACCOUNT, FAST, REGION, closed_port_url, make_client, sandbox_settings

ROLE = "OrganizationAccountAccessRole"


@pytest.fixture
def org(sandbox_url: str, aws_env: Path) -> dict[str, str]:
    """An organization managed by the sandbox's default account: name → id of its member accounts."""
    organizations = make_client(sandbox_url, "organizations")
    organizations.create_organization(FeatureSet="ALL")
    ids = {}
    for name, email in [("Prod Fleet", "prod@example.com"), ("Lab", "lab@example.com"), ("Lab", "lab2@x.io")]:
        status = organizations.create_account(Email=email, AccountName=name)["CreateAccountStatus"]
        ids[email] = status["AccountId"]
    gone = organizations.create_account(Email="old@example.com", AccountName="Old")["CreateAccountStatus"]
    organizations.close_account(AccountId=gone["AccountId"])
    return {"prod": ids["prod@example.com"], "lab": ids["lab@example.com"], "lab2": ids["lab2@x.io"]}


async def test_every_active_account_in_every_region_the_callers_own_unassumed(sandbox_url, org):
    settings = OrganizationSettings(regions=("us-east-1", "eu-west-1"), read_only=True)
    contexts = await organization_contexts(sandbox_settings(sandbox_url), settings)
    lab, lab2 = sorted([org["lab"], org["lab2"]])
    assert [c.name for c in contexts] == [
        f"Lab-{lab}/us-east-1",  # two accounts named Lab: each name says which
        f"Lab-{lab}/eu-west-1",
        f"Lab-{lab2}/us-east-1",
        f"Lab-{lab2}/eu-west-1",
        "master/us-east-1",  # the management account is one of them
        "master/eu-west-1",
        "Prod-Fleet/us-east-1",  # typed after --context without quotes
        "Prod-Fleet/eu-west-1",
    ]
    prod = contexts[-1]
    assert prod == Context(
        name="Prod-Fleet/eu-west-1",
        profile=None,
        region="eu-west-1",
        role_arn=f"arn:aws:iam::{org['prod']}:role/{ROLE}",
        read_only=True,
        account_id=org["prod"],
        account_name="Prod Fleet",
    )
    master = next(c for c in contexts if c.name == "master/us-east-1")
    assert (master.account_id, master.role_arn) == (ACCOUNT, None)  # the caller's own: nothing to assume


async def test_accounts_and_exclude_choose_the_accounts(sandbox_url, org):
    only = OrganizationSettings(regions=(REGION,), accounts=(org["prod"], ACCOUNT), exclude=(ACCOUNT,))
    contexts = await organization_contexts(sandbox_settings(sandbox_url), only)
    assert [(c.name, c.account_id) for c in contexts] == [("Prod-Fleet/us-east-1", org["prod"])]


def trusting_role(account: str, name: str) -> None:
    """A role in a member account that the sandbox's default account may assume: the sandbox checks a
    member's trust policy on AssumeRole, as AWS does (sandbox/handlers/sts.py)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam_backends[account]["global"].create_role(name, json.dumps(trust), "/", None, "", [], None)


async def test_a_member_context_works_in_the_member_account(sandbox_url, org, journal):
    trusting_role(org["prod"], "Auditor")
    base = sandbox_settings(sandbox_url)
    contexts = await organization_contexts(base, OrganizationSettings(regions=(REGION,), role_name="Auditor"))
    prod = next(c for c in contexts if c.account_id == org["prod"])
    async with DefenderClient(base.for_context(prod), journal, tuning=FAST) as client:
        me = await client.identity()
        assert me.account == org["prod"]
        assert me.arn == f"arn:aws:sts::{org['prod']}:assumed-role/Auditor/iot-defender-tui"
        await client.describe_audit_configuration()  # IoT answers in the member account too
        with pytest.raises(AwsError):
            await client.delete_scheduled_audit("nightly")  # there is none: refused, but journaled
    (entry,) = journal.entries()
    assert (entry.account, entry.identity_arn) == (org["prod"], me.arn)  # the journal says where it went
    async with DefenderClient(base, journal, tuning=FAST) as client:
        assert (await client.identity()).account == ACCOUNT


async def test_assumed_credentials_are_renewed_before_they_expire(sandbox_url, aws_env, journal, monkeypatch):
    member = "210987654321"
    settings = ConnectionSettings(
        region=REGION, endpoint_url=sandbox_url, role_arn=f"arn:aws:iam::{member}:role/{ROLE}"
    )
    assumed = sts_backends[member]["aws"].assumed_roles
    async with DefenderClient(settings, journal, tuning=FAST) as client:
        await client.describe_audit_configuration()
        await client.describe_audit_configuration()
        assert len(assumed) == 1  # the answer is kept while it is valid
        # 55 minutes later, 5 minutes before the hour the role's credentials last
        later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=55)
        monkeypatch.setattr(botocore.credentials, "_local_now", lambda: later)
        credentials = await client._session.get_credentials()
        monkeypatch.setattr(credentials, "_time_fetcher", lambda: later)
        await client.describe_audit_configuration()
        assert len(assumed) == 2
        assert (await client.identity()).account == member


def test_a_context_in_another_partition_assumes_roles_there():
    accounts = [{"Id": "111111111111", "Name": "gov", "State": "ACTIVE"}]
    (context,) = contexts_of(
        accounts,
        OrganizationSettings(regions=("us-gov-west-1",)),
        caller="2" * 12,
        profile="p",
        partition="aws-us-gov",
    )
    assert context.role_arn == f"arn:aws-us-gov:iam::111111111111:role/{ROLE}"
    assert context.profile == "p"


def test_account_names_are_shown_never_obeyed():
    accounts = [{"Id": "111111111111", "Name": "evil\x1b[2J name", "Status": "ACTIVE"}]
    (context,) = contexts_of(accounts, OrganizationSettings(regions=(REGION,)), caller=ACCOUNT, profile=None)
    assert "\x1b" not in context.name and "\x1b" not in (context.account_name or "")
    assert context.name == "evil\\x1b[2J-name/us-east-1"


# -- AWS's refusals, from a stub endpoint ----------------------------------------------------------------
class _Refusing(BaseHTTPRequestHandler):
    """AccessDenied for AssumeRole (STS's query protocol) and the error `reply` names for Organizations."""

    organizations_error = ("AccessDeniedException", "You don't have permissions to access this resource.")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if "Organizations" in self.headers.get("X-Amz-Target", ""):
            code, message = self.organizations_error
            body = json.dumps({"__type": code, "Message": message}).encode()
            self._answer(400, "application/x-amz-json-1.1", body)
            return
        body = (
            b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            b"<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/dev is not authorized "
            b"to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/Missing</Message>"
            b"</Error><RequestId>1</RequestId></ErrorResponse>"
        )
        self._answer(403, "text/xml", body)

    def _answer(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def refusing_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_a_refused_role_is_an_error_naming_the_role(refusing_url, aws_env, journal):
    role = "arn:aws:iam::111111111111:role/Missing"
    settings = ConnectionSettings(region=REGION, endpoint_url=refusing_url, role_arn=role)
    async with DefenderClient(settings, journal, tuning=FAST) as client:
        with pytest.raises(AccessDeniedError) as caught:
            await client.describe_audit_configuration()
    error = caught.value
    assert error.operation == "AssumeRole" and error.permission == "sts:AssumeRole"
    assert f"Cannot assume the role {role}: access denied." in error.text
    assert "trust policy" in (error.hint or "") and "not authorized" in (error.hint or "")


async def test_a_role_without_source_credentials_says_so(bare_aws, journal, refusing_url):
    # The role is never asked for: there is nothing to ask with. An AwsError, not a crash in botocore.
    settings = ConnectionSettings(
        region=REGION, endpoint_url=refusing_url, role_arn=f"arn:aws:iam::{ACCOUNT}:role/x"
    )
    async with DefenderClient(settings, journal, tuning=FAST) as client:
        with pytest.raises(NoCredentialsError, match="No usable AWS credentials"):
            await client.identity()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (("AccessDeniedException", "You don't have permissions"), "organizations:ListAccounts"),
        (("AWSOrganizationsNotInUseException", "not in use"), "is not in an AWS Organization"),
    ],
)
async def test_an_account_that_cannot_list_the_organization_is_told_where_to_look(
    refusing_url, aws_env, monkeypatch, error, expected
):
    monkeypatch.setattr(_Refusing, "organizations_error", error)
    settings = ConnectionSettings(region=REGION, endpoint_url=refusing_url)
    with pytest.raises(AwsError) as caught:
        await organization_contexts(settings, OrganizationSettings(regions=(REGION,), profile=None))
    assert caught.value.operation == "ListAccounts" and expected in caught.value.text
    assert "[organization]" in (caught.value.hint or "")


# -- the permissions it needs --------------------------------------------------------------------------
def test_the_organization_policy_allows_what_organization_sends_and_readme_shows_it():
    source = (AWS / "organization.py").read_text()
    paginated = {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get_paginator"
        and isinstance(node.args[0], ast.Constant)
    }
    sent = {"organizations:" + "".join(part.title() for part in name.split("_")) for name in paginated}
    document = permissions.organization_policy("Auditor")
    allowed = {action: s["Resource"] for s in document["Statement"] for action in s["Action"]}
    assert sent == {"organizations:ListAccounts"} and set(allowed) == sent | {"sts:AssumeRole"}
    assert allowed["sts:AssumeRole"] == "arn:aws:iam::*:role/Auditor"  # only the contexts' role
    readme = (ROOT / "README.md").read_text().split("\n### Contexts\n", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"```json\n(.*?)```", readme, re.DOTALL) == [
        json.dumps(permissions.organization_policy(), indent=2) + "\n"
    ]


async def test_nothing_listening_is_the_usual_connection_error(aws_env, journal):
    url = closed_port_url()
    settings = ConnectionSettings(region=REGION, endpoint_url=url, role_arn=f"arn:aws:iam::{ACCOUNT}:role/x")
    async with DefenderClient(settings, journal, tuning=FAST) as client:
        with pytest.raises(EndpointUnreachableError, match="connection refused"):
            await client.describe_audit_configuration()
    with pytest.raises(EndpointUnreachableError, match="connection refused") as caught:
        await organization_contexts(settings, OrganizationSettings(regions=(REGION,)))
    assert caught.value.operation == "ListAccounts"
