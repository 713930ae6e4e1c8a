"""DefenderClient: logging options and the resources around findings, and the role and topic pickers."""

from __future__ import annotations

import json

from iot_defender_tui.sandbox.fleet import LAB_POLICY, LAB_THINGS, seed_fleet
from iot_defender_tui.sandbox.fleet_roles import create_role
from tests.support.mitigation import ca_certificate, device_certificate
from tests.support.sandbox import ACCOUNT, make_client

ROLE = "arn:aws:iam::123456789012:role/LoggingRole"
READ = {"Effect": "Allow", "Action": "iot:Describe*", "Resource": "*"}


async def test_logging_v1_and_v2(dd, sandbox_url):
    make_client(sandbox_url).create_thing_group(thingGroupName="Sensors")
    fresh = await dd.get_logging_options()
    assert not fresh.v1_configured and not fresh.v2_configured
    assert not fresh.logging_enabled

    await dd.set_logging_options_v1(ROLE, "ERROR")
    await dd.set_v2_logging_options(role_arn=ROLE, default_level="WARN", disable_all=False)
    options = await dd.get_logging_options()
    assert (options.v1_role_arn, options.v1_level) == (ROLE, "ERROR")
    assert (options.v2_role_arn, options.v2_default_level, options.v2_disable_all) == (ROLE, "WARN", False)

    await dd.set_v2_logging_level("THING_GROUP", "Sensors", "DEBUG")
    await dd.set_v2_logging_level("CLIENT_ID", "gateway-1", "INFO")
    levels = await dd.list_v2_logging_levels()
    assert {(t.target_type, t.target_name, t.level) for t in levels} >= {
        ("THING_GROUP", "Sensors", "DEBUG"),
        ("CLIENT_ID", "gateway-1", "INFO"),
    }
    assert [t.target_name for t in await dd.list_v2_logging_levels("CLIENT_ID")] == ["gateway-1"]
    await dd.delete_v2_logging_level("CLIENT_ID", "gateway-1")
    assert await dd.list_v2_logging_levels("CLIENT_ID") == ()


async def test_certificates_policies_things_of_the_lab(dd, sandbox_url):
    seed_fleet("lab")
    iot = make_client(sandbox_url)
    principals = await dd.list_thing_principals(LAB_THINGS[0])
    assert len(principals) == 1 and principals[0].startswith("arn:aws:iot:")
    assert set(await dd.list_principal_things(principals[0])) == set(LAB_THINGS)

    cert = await dd.describe_certificate(principals[0].rsplit("/", 1)[-1])
    assert cert.status == "ACTIVE" and cert.not_after is not None

    policy = await dd.get_policy(LAB_POLICY)
    assert policy.default_version_id == "1"
    assert json.loads(policy.document)["Statement"][0]["Action"] == "iot:*"
    iot.create_policy_version(
        policyName=LAB_POLICY, policyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    versions = await dd.list_policy_versions(LAB_POLICY)
    assert sorted((v.version_id, v.is_default) for v in versions) == [("1", True), ("2", False)]
    first = await dd.get_policy_version(LAB_POLICY, "1")
    assert first.document == policy.document


async def test_ca_certificate_and_thing_groups(dd, sandbox_url):
    iot = make_client(sandbox_url)
    ca_id = ca_certificate(iot)
    ca = await dd.describe_ca_certificate(ca_id)
    assert (ca.cert_id, ca.status) == (ca_id, "ACTIVE")
    device_certificate(iot)  # unrelated certificate: not a CA
    for name in ("quarantine", "quarantine-eu", "sensors"):
        iot.create_thing_group(thingGroupName=name)
    assert set(await dd.list_thing_groups()) == {"quarantine", "quarantine-eu", "sensors"}
    assert set(await dd.list_thing_groups("quarantine")) == {"quarantine", "quarantine-eu"}


async def test_role_and_topic_pickers_walk_every_page(dd, sandbox_url):
    for n in range(260):  # more than one IAM page of 250; made in-process, it is quicker
        create_role(ACCOUNT, f"Role{n:03d}", "iot.amazonaws.com", [READ])
    sns = make_client(sandbox_url, "sns")
    arns = {sns.create_topic(Name=f"topic-{n}")["TopicArn"] for n in range(101)}  # SNS pages by 100
    roles = await dd.list_roles()
    assert {r.name for r in roles} >= {f"Role{n:03d}" for n in range(260)}
    assert len({r.arn for r in roles}) == len(roles)
    assert {t.arn for t in await dd.list_topics()} == arns
