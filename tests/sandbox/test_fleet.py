"""The demo fleets: the workshop lab end to end, a fresh account, and generated fleets."""

from __future__ import annotations

import time
import urllib.request

import pytest

from iot_defender_tui.sandbox import audits
from iot_defender_tui.sandbox.checks import CHECKS
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import runtime
from tests.sandbox.test_checks_common import run_audit
from tests.support.factories import defender_state
from tests.support.sandbox import make_client

LAB_NON_COMPLIANT = {
    "DEVICE_CERTIFICATE_SHARED_CHECK",
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    "LOGGING_DISABLED_CHECK",
}


def new_audit(iot) -> str:
    task_id = iot.start_on_demand_audit_task(targetCheckNames=sorted(CHECKS))["taskId"]
    state = defender_state()
    audits.run_to_completion(state, state.tasks[task_id])
    return task_id


def test_lab_is_configured_with_an_earlier_audit(sandbox_url, iot) -> None:
    seed_fleet("lab")
    config = iot.describe_account_audit_configuration()
    assert config["roleArn"] == "arn:aws:iam::123456789012:role/AWSIoTDeviceDefenderAuditRole"
    assert {n for n, c in config["auditCheckConfigurations"].items() if c["enabled"]} == set(CHECKS)
    role = make_client(sandbox_url, "iam").get_role(RoleName="AWSIoTDeviceDefenderAuditRole")["Role"]
    assert "iot.amazonaws.com" in str(role["AssumeRolePolicyDocument"])

    now = time.time()
    tasks = iot.list_audit_tasks(startTime=now - 2 * 86400, endTime=now)["tasks"]
    assert [t["taskStatus"] for t in tasks] == ["COMPLETED"]
    earlier = iot.describe_audit_task(taskId=tasks[0]["taskId"])
    assert abs(earlier["taskStartTime"].timestamp() - (now - 86400)) < 60
    assert earlier["taskStatistics"]["nonCompliantChecks"] == 3


def test_new_lab_audit_finds_exactly_the_three_workshop_checks(iot) -> None:
    seed_fleet("lab")
    task_id = new_audit(iot)
    described = iot.describe_audit_task(taskId=task_id)
    statuses = {name: d["checkRunStatus"] for name, d in described["auditDetails"].items()}
    assert {n for n, s in statuses.items() if s == "COMPLETED_NON_COMPLIANT"} == LAB_NON_COMPLIANT
    assert {n for n, s in statuses.items() if s == "COMPLETED_COMPLIANT"} == set(CHECKS) - LAB_NON_COMPLIANT
    assert described["taskStatistics"]["failedChecks"] == 0

    shared = iot.list_audit_findings(taskId=task_id, checkName="DEVICE_CERTIFICATE_SHARED_CHECK")["findings"]
    (finding,) = shared
    cert_id = finding["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]
    clients = {r["resourceIdentifier"]["clientId"] for r in finding["relatedResources"]}
    assert clients == {"SensorDevice01", "SensorDevice02"}
    assert all(r["additionalInfo"]["CONNECTION_TIME"].isdigit() for r in finding["relatedResources"])
    cert_arn = iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["certificateArn"]
    assert sorted(iot.list_principal_things(principal=cert_arn)["things"]) == [
        "SensorDevice01",
        "SensorDevice02",
    ]

    (policy,) = iot.list_audit_findings(taskId=task_id, checkName="IOT_POLICY_OVERLY_PERMISSIVE_CHECK")[
        "findings"
    ]
    name = policy["nonCompliantResource"]["resourceIdentifier"]["policyVersionIdentifier"]["policyName"]
    assert name in [p["policyName"] for p in iot.list_attached_policies(target=cert_arn)["policies"]]


def test_lab_certificate_shows_its_real_validity(iot) -> None:
    seed_fleet("lab")
    (cert,) = iot.list_certificates()["certificates"]
    validity = iot.describe_certificate(certificateId=cert["certificateId"])["certificateDescription"][
        "validity"
    ]
    # moto would say one day either side of now; the certificate itself is valid for a year.
    assert (validity["notAfter"] - validity["notBefore"]).days == 365


def test_empty_fleet_is_a_fresh_account(iot) -> None:
    seed_fleet("empty")
    config = iot.describe_account_audit_configuration()
    assert "roleArn" not in config
    assert not any(c["enabled"] for c in config["auditCheckConfigurations"].values())
    assert iot.list_things()["things"] == []
    assert iot.list_certificates()["certificates"] == []
    state = defender_state()
    assert (state.logging_v1, state.logging_v2, state.tasks) == (None, None, {})


def test_unknown_fleet_is_refused() -> None:
    with pytest.raises(ValueError):
        seed_fleet("factory")


def test_generated_fleet_has_findings_for_every_check(iot) -> None:
    seed_fleet("empty", devices=2000, seed=7)
    assert len(iot.list_things(maxResults=250)["things"]) == 250
    runs, findings = run_audit(iot, *sorted(CHECKS))
    assert {name: run.status for name, run in runs.items()} == {
        name: "COMPLETED_NON_COMPLIANT" for name in CHECKS
    }
    found = {f["checkName"] for f in findings}
    assert found == set(CHECKS)
    # Most of the fleet is healthy.
    device_checks = [r for r in runs.values() if CHECKS[r.name].resource_type == "DEVICE_CERTIFICATE"]
    assert all(r.non_compliant < r.total_resources / 10 for r in device_checks)
    assert runs["DEVICE_CERTIFICATE_EXPIRING_CHECK"].total_resources > 1800


def test_problem_scale_makes_a_badly_kept_fleet(sandbox_url, iot) -> None:
    def findings_at(scale: float) -> int:
        urllib.request.urlopen(urllib.request.Request(f"{sandbox_url}/moto-api/reset", method="POST"))
        runtime().options.problem_scale = scale
        seed_fleet("empty", devices=1000, seed=5)
        runs, _ = run_audit(iot, *sorted(CHECKS))
        return sum(run.non_compliant for run in runs.values())

    plain, scaled = findings_at(1.0), findings_at(4.0)
    assert scaled > 2.5 * plain
    assert findings_at(12.0) > 800  # about as many findings as devices, as the benchmark wants


def test_generated_fleet_is_reproducible_from_its_seed(sandbox_url, iot) -> None:
    def counts() -> dict[str, int]:
        runs, _ = run_audit(iot, *sorted(CHECKS))
        return {name: run.non_compliant for name, run in runs.items()}

    seed_fleet("empty", devices=300, seed=3)
    first = counts()
    urllib.request.urlopen(urllib.request.Request(f"{sandbox_url}/moto-api/reset", method="POST"))
    seed_fleet("empty", devices=300, seed=3)
    assert counts() == first
