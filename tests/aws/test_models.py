"""The AWS models parse what the (sandboxed) service really answers, and survive members AWS adds later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iot_defender_tui.aws import models as m
from iot_defender_tui.aws.catalogue import CHECKS
from iot_defender_tui.sandbox.fleet import AUDIT_ROLE, LAB_POLICY, seed_fleet
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.mitigation import make_role, run_out
from tests.support.models import all_findings, lab_task_id, parses_the_same
from tests.support.sandbox import ACCOUNT, REGION, make_client

SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"


@pytest.fixture
def lab(sandbox_url: str) -> Any:
    """The lab fleet plus a small generated one, so that every kind of resource has a finding."""
    seed_fleet("lab", devices=20, seed=4)
    return make_client(sandbox_url)


def test_identity_roles_and_topics_from_sts_iam_and_sns(sandbox_url):
    seed_fleet("lab")
    identity = m.Identity.from_api(make_client(sandbox_url, "sts").get_caller_identity())
    assert (identity.account, identity.arn.startswith("arn:aws:sts::")) == (ACCOUNT, True)
    roles = [m.Role.from_api(r) for r in make_client(sandbox_url, "iam").list_roles()["Roles"]]
    assert m.Role(AUDIT_ROLE, f"arn:aws:iam::{ACCOUNT}:role/{AUDIT_ROLE}") in roles
    sns = make_client(sandbox_url, "sns")
    sns.create_topic(Name="findings")
    topics = [m.Topic.from_api(t) for t in sns.list_topics()["Topics"]]
    assert [(t.arn, t.name) for t in topics] == [(f"arn:aws:sns:{REGION}:{ACCOUNT}:findings", "findings")]


def test_audit_configuration_round_trips_through_the_service(lab):
    topic, role = f"arn:aws:sns:{REGION}:{ACCOUNT}:audits", f"arn:aws:iam::{ACCOUNT}:role/{AUDIT_ROLE}"
    age = m.CheckConfiguration("DEVICE_CERTIFICATE_AGE_CHECK", True, {"CERT_AGE_THRESHOLD_IN_DAYS": "400"})
    lab.update_account_audit_configuration(
        auditNotificationTargetConfigurations={"SNS": m.SnsTarget(topic, role, True).to_api()},
        auditCheckConfigurations={age.name: age.to_api(), "LOGGING_DISABLED_CHECK": {"enabled": False}},
    )
    reply = lab.describe_account_audit_configuration()
    config = parses_the_same(m.AuditConfiguration.from_api, "DescribeAccountAuditConfiguration", reply)
    assert config.role_arn == role
    assert config.sns_target == m.SnsTarget(topic, role, True)
    assert config.check(age.name) == age
    assert len(config.checks) == 17
    assert set(config.enabled_checks) == set(CHECKS) - {"LOGGING_DISABLED_CHECK"}


def test_scheduled_audit_listed_and_described(lab):
    checks = [SHARED, "LOGGING_DISABLED_CHECK"]
    lab.create_scheduled_audit(
        scheduledAuditName="weekly", frequency="WEEKLY", dayOfWeek="MON", targetCheckNames=checks
    )
    listed = parses_the_same(
        m.ScheduledAudit.from_api, "ListScheduledAudits", lab.list_scheduled_audits(), ("scheduledAudits", 0)
    )
    described = parses_the_same(
        m.ScheduledAudit.from_api,
        "DescribeScheduledAudit",
        lab.describe_scheduled_audit(scheduledAuditName="weekly"),
    )
    assert (listed.name, listed.frequency, listed.day_of_week, listed.check_names) == (
        "weekly",
        "WEEKLY",
        "MON",
        (),
    )
    assert described.arn == listed.arn and listed.arn.endswith(":scheduledaudit/weekly")
    assert sorted(described.check_names) == sorted(checks)


def test_audit_task_progress_and_results(lab):
    task_id = lab_task_id(lab)
    now = runtime().clock.now()
    listed = lab.list_audit_tasks(startTime=now - 3 * 86400, endTime=now + 60)
    item = parses_the_same(m.AuditTask.from_api, "ListAuditTasks", listed, ("tasks", 0))
    assert (item.task_id, item.status, item.statistics, item.checks) == (task_id, "COMPLETED", None, ())

    reply = lab.describe_audit_task(taskId=task_id)
    task = parses_the_same(lambda d: m.AuditTask.from_describe(task_id, d), "DescribeAuditTask", reply)
    assert task.start_time == reply["taskStartTime"] and task.start_time.tzinfo == UTC
    assert (task.statistics.total, task.statistics.done, task.statistics.fraction) == (17, 17, 1.0)
    assert len(task.checks) == 17
    shared = task.check(SHARED)
    assert (shared.status, shared.compliant) == ("COMPLETED_NON_COMPLIANT", False)
    assert shared.non_compliant == reply["auditDetails"][SHARED]["nonCompliantResourcesCount"] > 0

    started = lab.start_on_demand_audit_task(targetCheckNames=sorted(CHECKS))["taskId"]
    running = m.AuditTask.from_describe(started, lab.describe_audit_task(taskId=started))
    assert running.status == "IN_PROGRESS"
    assert 0.0 <= running.statistics.fraction < 1.0
    assert running.task_type == "ON_DEMAND_AUDIT_TASK"


def test_findings_of_every_resource_type(lab):
    task_id = lab_task_id(lab)
    reply = lab.list_audit_findings(taskId=task_id, maxResults=250)
    findings = [m.Finding.from_api(f) for f in all_findings(lab, task_id)]
    parses_the_same(m.Finding.from_api, "ListAuditFindings", reply, ("findings", 0))
    assert {f.resource.resource_type for f in findings} >= {
        "DEVICE_CERTIFICATE",
        "CA_CERTIFICATE",
        "IOT_POLICY",
        "CLIENT_ID",
        "COGNITO_IDENTITY_POOL",
        "ROLE_ALIAS",
        "ACCOUNT_SETTINGS",
        "ISSUER_CERTIFICATE",
    }
    for finding in findings:
        assert finding.severity == CHECKS[finding.check_name].severity
        assert finding.resource.resource_type == CHECKS[finding.check_name].resource_type
        assert finding.finding_time.tzinfo == UTC and finding.reason and not finding.is_suppressed
        assert not finding.resource.readable.startswith(finding.resource.resource_type)  # no fallback

    policy = next(
        f
        for f in findings
        if f.resource.identifier.get("policyVersionIdentifier", {}).get("policyName") == LAB_POLICY
    )
    assert policy.resource.readable == f"{LAB_POLICY} v1"
    assert "[" in policy.reason  # AWS's own brackets, kept as text
    logging = next(f for f in findings if f.check_name == "LOGGING_DISABLED_CHECK")
    assert logging.resource.readable == f"account {ACCOUNT}"

    shared = next(f for f in findings if f.check_name == SHARED)
    cert = shared.resource.identifier["deviceCertificateId"]
    assert (shared.resource.readable, shared.resource.full_id) == (f"cert {cert[:12]}…", cert)
    assert {r.resource_type for r in shared.related} == {"CLIENT_ID"}
    assert all(r.connected_at and r.connected_at.tzinfo == UTC for r in shared.related)

    described = lab.describe_audit_finding(findingId=shared.finding_id)
    assert parses_the_same(m.Finding.from_api, "DescribeAuditFinding", described, ("finding",)) == shared
    related = lab.list_related_resources_for_audit_finding(findingId=shared.finding_id)
    parsed = [m.ResourceRef.from_api(r) for r in related["relatedResources"]]
    assert {r.readable for r in parsed} == {r.readable for r in shared.related}


def test_suppressions_sent_with_the_finding_identifier(lab):
    shared = next(
        m.Finding.from_api(f) for f in all_findings(lab, lab_task_id(lab)) if f["checkName"] == SHARED
    )
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    lab.create_audit_suppression(
        checkName=SHARED,
        resourceIdentifier=shared.resource.identifier,
        expirationDate=until,
        description="known [bench] rig",
        clientRequestToken="t1",
    )
    listed = parses_the_same(
        m.Suppression.from_api, "ListAuditSuppressions", lab.list_audit_suppressions(), ("suppressions", 0)
    )
    reply = lab.describe_audit_suppression(checkName=SHARED, resourceIdentifier=shared.resource.identifier)
    described = parses_the_same(m.Suppression.from_api, "DescribeAuditSuppression", reply)
    assert listed == described
    assert described.resource == m.ResourceRef("DEVICE_CERTIFICATE", shared.resource.identifier)
    assert (described.expiration, described.indefinitely, described.description) == (
        until,
        False,
        "known [bench] rig",
    )


ACTIONS = {
    "deactivate": m.UpdateDeviceCertificateParams(),
    "deactivate-ca": m.UpdateCaCertificateParams(),
    "quarantine": m.AddThingsToThingGroupParams(("Quarantine", "Review"), override_dynamic_groups=True),
    "blank-policy": m.ReplaceDefaultPolicyVersionParams(),
    "logging": m.EnableIotLoggingParams(f"arn:aws:iam::{ACCOUNT}:role/Logs", "WARN"),
    "notify": m.PublishFindingToSnsParams(f"arn:aws:sns:{REGION}:{ACCOUNT}:findings"),
}


def test_mitigation_actions_of_every_type_keep_their_typed_parameters(lab):
    role = f"arn:aws:iam::{ACCOUNT}:role/Mitigation"
    for name, params in ACTIONS.items():
        lab.create_mitigation_action(actionName=name, roleArn=role, actionParams=params.to_api())
    for name, params in ACTIONS.items():
        reply = lab.describe_mitigation_action(actionName=name)
        action = parses_the_same(m.MitigationAction.from_api, "DescribeMitigationAction", reply)
        assert (action.name, action.action_type, action.params, action.role_arn) == (
            name,
            params.ACTION_TYPE,
            params,
            role,
        )
        assert action.created == action.modified and action.created.tzinfo == UTC and action.action_id
    listed = [m.MitigationAction.from_api(a) for a in lab.list_mitigation_actions()["actionIdentifiers"]]
    assert {a.name for a in listed} == set(ACTIONS)
    assert all(a.params is None and a.action_type is None and a.created and a.arn for a in listed)


def test_mitigation_task_statistics_and_executions(lab, sandbox_url):
    role = make_role(sandbox_url, "Mitigation", ["iot:UpdateCertificate"])
    lab.create_mitigation_action(
        actionName="deactivate", roleArn=role, actionParams=ACTIONS["deactivate"].to_api()
    )
    shared = next(f for f in all_findings(lab, lab_task_id(lab)) if f["checkName"] == SHARED)
    target = {"findingIds": [shared["findingId"]]}
    lab.start_audit_mitigation_actions_task(
        taskId="fix-1",
        target=target,
        auditCheckToActionsMapping={SHARED: ["deactivate"]},
        clientRequestToken="t",
    )
    reply = run_out(lab, "fix-1")
    task = parses_the_same(
        lambda d: m.MitigationTask.from_describe("fix-1", d), "DescribeAuditMitigationActionsTask", reply
    )
    assert (task.task_id, task.status, task.target, task.mapping) == (
        "fix-1",
        "COMPLETED",
        target,
        {SHARED: ("deactivate",)},
    )
    assert task.stats[SHARED] == m.CheckMitigationStats(total=1, succeeded=1, failed=0, skipped=0, canceled=0)
    assert task.totals.done == task.totals.total == 1
    assert task.start_time <= task.end_time and task.end_time.tzinfo == UTC
    assert [(a.name, a.action_type, a.params) for a in task.actions] == [
        ("deactivate", "UPDATE_DEVICE_CERTIFICATE", ACTIONS["deactivate"])
    ]

    now = datetime.now(UTC)
    tasks = lab.list_audit_mitigation_actions_tasks(
        startTime=now - timedelta(days=1), endTime=now + timedelta(days=1)
    )
    item = parses_the_same(m.MitigationTask.from_api, "ListAuditMitigationActionsTasks", tasks, ("tasks", 0))
    assert (item.task_id, item.status, item.stats) == ("fix-1", "COMPLETED", {})

    runs = lab.list_audit_mitigation_actions_executions(taskId="fix-1", findingId=shared["findingId"])
    execution = parses_the_same(
        m.MitigationExecution.from_api, "ListAuditMitigationActionsExecutions", runs, ("actionsExecutions", 0)
    )
    assert (execution.task_id, execution.finding_id, execution.action_name, execution.status) == (
        "fix-1",
        shared["findingId"],
        "deactivate",
        "COMPLETED",
    )
    assert execution.error_code is None and execution.end_time.tzinfo == UTC


def v2_reply(iot: Any) -> dict[str, Any] | None:
    try:
        return iot.get_v2_logging_options()
    except iot.exceptions.NotConfiguredException:
        return None


def logging_of(iot: Any) -> m.LoggingOptions:
    return m.LoggingOptions.from_api({"v1": iot.get_logging_options(), "v2": v2_reply(iot)})


def test_logging_status_follows_v1_and_v2(lab):
    role = f"arn:aws:iam::{ACCOUNT}:role/Logs"
    never = logging_of(lab)
    assert never == m.LoggingOptions(None, None, None, None, None, None)
    assert (never.logging_enabled, never.summary) == (False, "disabled (never configured)")

    lab.set_logging_options(loggingOptionsPayload={"roleArn": role, "logLevel": "DISABLED"})
    assert (logging_of(lab).v1_disabled, logging_of(lab).logging_enabled) == (True, False)
    lab.set_logging_options(loggingOptionsPayload={"roleArn": role, "logLevel": "INFO"})
    assert (logging_of(lab).v1_level, logging_of(lab).logging_enabled) == ("INFO", True)

    lab.set_logging_options(loggingOptionsPayload={"roleArn": role, "logLevel": "DISABLED"})
    lab.set_v2_logging_options(roleArn=role, defaultLogLevel="WARN", disableAllLogs=False)
    v2_only = parses_the_same(
        lambda d: m.LoggingOptions.from_replies(None, d), "GetV2LoggingOptions", lab.get_v2_logging_options()
    )
    assert (v2_only.v1_disabled, v2_only.logging_enabled) == (None, True)
    v2 = logging_of(lab)
    assert (v2.v2_role_arn, v2.v2_default_level, v2.v2_disable_all, v2.logging_enabled) == (
        role,
        "WARN",
        False,
        True,
    )
    assert v2.summary == "enabled (v2, default level WARN)"
    lab.set_v2_logging_options(disableAllLogs=True)
    assert (logging_of(lab).logging_enabled, logging_of(lab).summary) == (False, "disabled")

    lab.create_thing_group(thingGroupName="Sensors")
    lab.set_v2_logging_level(
        logTarget={"targetType": "THING_GROUP", "targetName": "Sensors"}, logLevel="DEBUG"
    )
    levels = lab.list_v2_logging_levels()
    targets = [m.LogLevelTarget.from_api(t) for t in levels["logTargetConfigurations"]]
    parses_the_same(m.LogLevelTarget.from_api, "ListV2LoggingLevels", levels, ("logTargetConfigurations", 0))
    assert m.LogLevelTarget("THING_GROUP", "Sensors", "DEBUG") in targets


def test_certificates_and_policies(lab):
    shared = next(f for f in all_findings(lab, lab_task_id(lab)) if f["checkName"] == SHARED)
    cert_id = shared["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]
    reply = lab.describe_certificate(certificateId=cert_id)
    cert = parses_the_same(m.Certificate.from_api, "DescribeCertificate", reply)
    assert (cert.cert_id, cert.status, cert.arn.endswith(f"cert/{cert_id}")) == (cert_id, "ACTIVE", True)
    assert cert.not_before < datetime.now(UTC) < cert.not_after and cert.not_after.tzinfo == UTC
    listed = [m.Certificate.from_api(c) for c in lab.list_certificates(pageSize=250)["certificates"]]
    assert any(c.cert_id == cert_id and c.not_after is None for c in listed)

    ca = next(
        f for f in all_findings(lab, lab_task_id(lab)) if f["checkName"] == "CA_CERTIFICATE_EXPIRING_CHECK"
    )
    ca_id = ca["nonCompliantResource"]["resourceIdentifier"]["caCertificateId"]
    described = m.Certificate.from_api(lab.describe_ca_certificate(certificateId=ca_id))
    assert described.cert_id == ca_id and described.not_after - datetime.now(UTC) < timedelta(days=31)

    policy = parses_the_same(m.Policy.from_api, "GetPolicy", lab.get_policy(policyName=LAB_POLICY))
    assert (policy.name, policy.default_version_id, '"iot:*"' in policy.document) == (LAB_POLICY, "1", True)
    version = lab.get_policy_version(policyName=LAB_POLICY, policyVersionId="1")
    assert parses_the_same(m.Policy.from_api, "GetPolicyVersion", version) == policy
