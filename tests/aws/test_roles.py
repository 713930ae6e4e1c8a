"""The mitigation role table (aws/roles.py) agrees with what the sandbox's executor enforces, and
DefenderClient.create_mitigation_role makes roles the sandbox accepts for every action type."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from moto.iam.models import iam_backends

from iot_defender_tui.aws import roles
from iot_defender_tui.aws.catalogue import ACTION_TYPES
from iot_defender_tui.aws.client import DefenderClient, reconcile_journal
from iot_defender_tui.aws.client_resources import RoleWithoutPermissionsError
from iot_defender_tui.aws.errors import AwsError, ConflictError, InvalidRequestError
from iot_defender_tui.aws.guard import ReadOnlyError
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.aws.models_params import (
    PARAMS_BY_TYPE,
    ActionParams,
    AddThingsToThingGroupParams,
    EnableIotLoggingParams,
    PublishFindingToSnsParams,
)
from iot_defender_tui.sandbox.iam_eval import allows
from iot_defender_tui.sandbox.mitigation_effects import ExecutionFailed, check_role, required_permissions
from tests.support.mitigation import NEEDS, TRUST
from tests.support.sandbox import ACCOUNT, REGION, make_client, sandbox_settings

LOG_ROLE = f"arn:aws:iam::{ACCOUNT}:role/IoTLoggingRole"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:DeviceDefenderAlerts"


def params_for(action_type: str) -> ActionParams:
    if action_type == "ADD_THINGS_TO_THING_GROUP":
        return AddThingsToThingGroupParams(("Quarantine", "Suspect"), False)
    if action_type == "ENABLE_IOT_LOGGING":
        return EnableIotLoggingParams(LOG_ROLE, "ERROR")
    if action_type == "PUBLISH_FINDING_TO_SNS":
        return PublishFindingToSnsParams(TOPIC)
    return PARAMS_BY_TYPE[action_type]()  # type: ignore[call-arg]


class Work:
    """What the executor's permission check reads of a finding, for a made-up resource of each kind."""

    def __init__(self, iam: Any = None) -> None:
        self.iam = iam

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:iot:{REGION}:{ACCOUNT}:{kind}/{name}"

    def device_certificate_id(self) -> str:
        return "c0ffee" * 10

    def ca_certificate_id(self) -> str:
        return "ca" * 32

    def policy_name(self) -> str:
        return "LabPolicy"


def sandbox_action(action_type: str, role_arn: str = "") -> Any:
    return SimpleNamespace(
        name="A", action_type=action_type, role_arn=role_arn, params=params_for(action_type).to_api()
    )


# -- the table ------------------------------------------------------------------------------------------
def test_every_action_type_has_the_actions_the_sandbox_and_aws_name():
    assert set(roles.ACTIONS) == set(ACTION_TYPES) == set(NEEDS)
    for action_type, actions in roles.ACTIONS.items():
        assert set(actions) == set(NEEDS[action_type]), action_type
        needed = {a for a, _ in required_permissions(Work(), sandbox_action(action_type))}
        assert set(actions) == needed, action_type


@pytest.mark.parametrize("action_type", sorted(ACTION_TYPES))
def test_policy_allows_exactly_what_the_executor_checks(action_type: str):
    document = roles.permission_policy(action_type, params_for(action_type))
    for action, resource in required_permissions(Work(), sandbox_action(action_type)):
        assert allows([document], action, resource), (action, resource)
    # Nothing more: an action of another type is not allowed.
    others = {a for t, acts in roles.ACTIONS.items() if t != action_type for a in acts}
    for action in others - set(roles.ACTIONS[action_type]):
        assert not allows([document], action, "*"), action


def test_known_resources_are_scoped_and_logging_role_passes_only_to_iot():
    sns = roles.permission_policy("PUBLISH_FINDING_TO_SNS", PublishFindingToSnsParams(TOPIC))
    assert sns["Statement"] == [{"Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC}]
    assert not allows([sns], "sns:Publish", TOPIC + "-other")
    logging = roles.permission_policy("ENABLE_IOT_LOGGING", EnableIotLoggingParams(LOG_ROLE, "INFO"))
    pass_role = next(s for s in logging["Statement"] if s["Action"] == "iam:PassRole")
    assert pass_role["Resource"] == LOG_ROLE
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "iot.amazonaws.com"}}
    # Parameters not known yet: "*", and the preview says how to narrow it.
    assert roles.permissions("PUBLISH_FINDING_TO_SNS")[0].resource == "*"
    assert "Pick the SNS topic first" in roles.preview("R", "PUBLISH_FINDING_TO_SNS")
    assert roles.trust_policy() == TRUST
    with pytest.raises(KeyError):
        roles.permissions("NOT_A_TYPE")


def test_names_and_preview():
    assert roles.role_name_problem("IoTMitigation-Deactivate_1+=,.@") is None
    for bad in ("", "a" * 65, "has space", "slash/name", "ünïcode"):
        assert roles.role_name_problem(bad), bad
    assert (
        roles.default_role_name("DeactivateCert", "UPDATE_DEVICE_CERTIFICATE")
        == "IoTMitigation-DeactivateCert"
    )
    assert roles.default_role_name("", "UPDATE_DEVICE_CERTIFICATE") == "IoTMitigation-UpdateDeviceCertificate"
    assert (
        roles.default_role_name("bad name", "PUBLISH_FINDING_TO_SNS") == "IoTMitigation-PublishFindingToSNS"
    )
    assert len(roles.default_role_name("x" * 128, "UPDATE_CA_CERTIFICATE")) == 64
    text = roles.preview("R1", "UPDATE_DEVICE_CERTIFICATE")
    assert text.splitlines() == [
        "IAM role: R1",
        "Trusted service (may assume it): iot.amazonaws.com",
        "Inline policy DeviceDefenderMitigationAction, for UPDATE_DEVICE_CERTIFICATE, allows:",
        "  iot:UpdateCertificate on any resource",
    ]


# -- the client -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("action_type", sorted(ACTION_TYPES))
async def test_created_role_is_accepted_by_the_sandbox(
    dd: DefenderClient, sandbox_url: str, action_type: str
):
    name = f"IoTMitigation-{action_type.title().replace('_', '')}"
    role = await dd.create_mitigation_role(name, action_type, params_for(action_type))
    assert role.name == name and role.arn == f"arn:aws:iam::{ACCOUNT}:role/{name}"

    iam = make_client(sandbox_url, "iam")
    got = iam.get_role(RoleName=name)["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST
    assert action_type in got["Description"]
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == [roles.POLICY_NAME]

    # The executor's own check passes for this role, and fails for a role without the policy.
    backend = iam_backends[ACCOUNT]["global"]
    check_role(Work(backend), sandbox_action(action_type, role.arn))  # type: ignore[arg-type]
    bare = make_client(sandbox_url, "iam").create_role(
        RoleName="Bare", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    with pytest.raises(ExecutionFailed):
        check_role(Work(backend), sandbox_action(action_type, bare))  # type: ignore[arg-type]


async def test_existing_name_bad_name_and_read_only(dd: DefenderClient, sandbox_url: str, aws_env: Path):
    await dd.create_mitigation_role("Taken", "UPDATE_DEVICE_CERTIFICATE")
    with pytest.raises(ConflictError) as exc:
        await dd.create_mitigation_role("Taken", "UPDATE_DEVICE_CERTIFICATE")
    assert exc.value.code == "EntityAlreadyExists"
    with pytest.raises(InvalidRequestError, match="1 to 64 characters"):
        await dd.create_mitigation_role("bad name", "UPDATE_DEVICE_CERTIFICATE")
    with pytest.raises(InvalidRequestError):
        await dd.create_mitigation_role("Fine", "NOT_A_TYPE")
    async with DefenderClient(sandbox_settings(sandbox_url, read_only=True)) as ro:
        with pytest.raises(ReadOnlyError):
            await ro.create_mitigation_role("NotSent", "UPDATE_DEVICE_CERTIFICATE")
    names = [r["RoleName"] for r in make_client(sandbox_url, "iam").list_roles()["Roles"]]
    assert "Taken" in names and "Fine" not in names and "NotSent" not in names


async def test_policy_failure_says_the_role_exists_without_permissions(
    dd: DefenderClient, sandbox_url: str, monkeypatch: pytest.MonkeyPatch
):
    real = dd._send_write

    async def failing(service: str, operation: str, params: Any) -> tuple[dict[str, Any], str | None]:
        if operation == "PutRolePolicy":
            raise AwsError("LimitExceeded", "Cannot exceed quota for PoliciesPerRole.", operation)
        return await real(service, operation, params)

    monkeypatch.setattr(dd, "_send_write", failing)
    with pytest.raises(RoleWithoutPermissionsError) as exc:
        await dd.create_mitigation_role("HalfMade", "UPDATE_DEVICE_CERTIFICATE")
    assert "HalfMade was created but has NO permissions" in exc.value.text
    assert exc.value.role.name == "HalfMade"
    iam = make_client(sandbox_url, "iam")
    assert iam.get_role(RoleName="HalfMade")["Role"]["RoleName"] == "HalfMade"
    assert iam.list_role_policies(RoleName="HalfMade")["PolicyNames"] == []


async def test_reconcile_checks_journaled_role_requests(dd: DefenderClient, journal: Journal, tmp_path: Path):
    await dd.create_mitigation_role("Made", "UPDATE_DEVICE_CERTIFICATE")
    # The requests as the app journaled them, left "outcome unknown" in another journal.
    sent = {e.operation: e.params for e in journal.entries()}
    me = await dd.identity()
    who = {"identity_arn": me.arn, "account": me.account, "region": REGION}
    with Journal(tmp_path / "unknown.sqlite3") as unknown:
        unknown.record_intent(operation="CreateRole", params=sent["CreateRole"], **who)
        unknown.record_intent(operation="PutRolePolicy", params=sent["PutRolePolicy"], **who)
        never = {**sent["CreateRole"], "RoleName": "NeverMade"}
        unknown.record_intent(operation="CreateRole", params=never, **who)
        notes = [r.note for r in await reconcile_journal(dd, unknown)]
    assert notes == [
        "carried out: the role Made exists, created just now",
        f"carried out: the inline policy {roles.POLICY_NAME} of the role Made is as sent",
        "not carried out: the role NeverMade was not created",
    ]
