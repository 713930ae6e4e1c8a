"""The catalogue of audit checks agrees with the sandbox, AWS's model and the check -> action table."""

from __future__ import annotations

import pytest
from botocore.session import get_session

from iot_defender_tui.aws import catalogue
from iot_defender_tui.aws.catalogue import ACTION_TYPES, CHECKS, SEVERITY_ORDER, check_info, severity_rank
from iot_defender_tui.aws.models import Finding
from iot_defender_tui.sandbox import checks as sandbox

IOT_MODEL = get_session().get_service_model("iot")


def test_exactly_the_checks_the_sandbox_knows():
    assert set(CHECKS) == set(sandbox.CHECKS)
    assert len(CHECKS) == 17
    assert all(name == info.name for name, info in CHECKS.items())


@pytest.mark.parametrize("name", sorted(sandbox.CHECKS))
def test_check_matches_the_sandbox(name):
    info, spec = CHECKS[name], sandbox.CHECKS[name]
    assert (info.severity, info.resource_type) == (spec.severity, spec.resource_type)
    assert info.action_types == sandbox.allowed_action_types(name)
    assert {p.name: (p.default, p.minimum, p.maximum) for p in info.parameters} == spec.parameters


def test_severities_resource_and_action_types_are_the_models():
    assert list(SEVERITY_ORDER) == ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    assert set(SEVERITY_ORDER) == set(IOT_MODEL.shape_for("AuditFindingSeverity").enum)
    assert {i.resource_type for i in CHECKS.values()} <= set(IOT_MODEL.shape_for("ResourceType").enum)
    assert set(ACTION_TYPES) == set(IOT_MODEL.shape_for("MitigationActionType").enum)
    assert {a for i in CHECKS.values() for a in i.action_types} == set(ACTION_TYPES)
    assert all(i.action_types[-1] == "PUBLISH_FINDING_TO_SNS" for i in CHECKS.values())


def test_titles_and_descriptions_read_like_the_console():
    assert CHECKS["DEVICE_CERTIFICATE_SHARED_CHECK"].title == "Device certificate shared"
    assert CHECKS["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"].title == "IoT policies overly permissive"
    assert CHECKS["LOGGING_DISABLED_CHECK"].title == "Logging disabled"
    titles = [i.title for i in CHECKS.values()] + list(ACTION_TYPES.values())
    assert len(set(titles)) == len(titles)
    for info in CHECKS.values():
        assert info.title[0].isupper() and not info.title.endswith(".") and len(info.title) <= 60
        assert 60 < len(info.description) < 500 and "\n" not in info.description
        assert info.description.endswith(".")


def test_findings_sort_by_severity():
    severities = ["LOW", "CRITICAL", "SOMETHING_NEW", "MEDIUM", "HIGH"]
    findings = [Finding.from_api({"findingId": s, "severity": s}) for s in severities]
    ordered = sorted(findings, key=lambda f: severity_rank(f.severity))
    assert [f.severity for f in ordered] == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "SOMETHING_NEW"]
    assert (
        CHECKS["LOGGING_DISABLED_CHECK"].severity_rank > CHECKS["CONFLICTING_CLIENT_IDS_CHECK"].severity_rank
    )


def test_threshold_parameters_validate_what_a_user_types():
    (age,) = CHECKS["DEVICE_CERTIFICATE_AGE_CHECK"].parameters
    (expiry,) = CHECKS["DEVICE_CERTIFICATE_EXPIRING_CHECK"].parameters
    assert (age.name, age.default, expiry.name, expiry.default) == (
        "CERT_AGE_THRESHOLD_IN_DAYS",
        365,
        "CERT_EXPIRATION_THRESHOLD_IN_DAYS",
        30,
    )
    assert age.validate(" 400 ") == 400 and expiry.validate(3652) == 3652
    with pytest.raises(ValueError, match="between 30 and 3652 days, not 29"):
        expiry.validate("29")
    with pytest.raises(ValueError, match="whole number of days, not 'a year'"):
        age.validate("a year")
    assert sum(len(i.parameters) for i in CHECKS.values()) == 2


def test_unknown_and_misspelt_checks():
    assert (
        check_info("IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK")
        is CHECKS["IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK"]
    )
    future = check_info("DEVICE_FIRMWARE_OUTDATED_CHECK")
    assert (future.title, future.resource_type, future.action_types) == (
        "Device firmware outdated",
        "UNKNOWN",
        ("PUBLISH_FINDING_TO_SNS",),
    )
    assert future.severity_rank == len(SEVERITY_ORDER)
    assert catalogue.check_info("LOGGING_DISABLED_CHECK") is CHECKS["LOGGING_DISABLED_CHECK"]
