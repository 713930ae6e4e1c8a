"""The conformance hook every sandbox test relies on must itself catch bad replies."""

import botocore.session

from tests.support.shapes import problems


def _shape(operation: str):
    model = botocore.session.get_session().get_service_model("iot")
    return model.operation_model(operation).output_shape


def test_unknown_members_bad_enums_and_iso_timestamps_are_reported():
    shape = _shape("DescribeAuditTask")
    bad = {
        "taskStatus": "DONE",
        "taskStartTime": "2026-11-23T10:00:00Z",
        "extra": 1,
        "auditDetails": {"LOGGING_DISABLED_CHECK": {"checkRunStatus": "COMPLETED_COMPLIANT", "x": 1}},
    }
    found = problems(shape, bad)
    assert any("taskStatus" in p for p in found)
    assert any("taskStartTime" in p for p in found)
    assert any(".extra" in p for p in found)
    assert any(".x" in p for p in found)


def test_a_conforming_reply_passes():
    shape = _shape("DescribeAuditTask")
    good = {
        "taskStatus": "COMPLETED",
        "taskType": "ON_DEMAND_AUDIT_TASK",
        "taskStartTime": 1560161017.592,
        "taskStatistics": {"totalChecks": 1, "compliantChecks": 1},
        "auditDetails": {"LOGGING_DISABLED_CHECK": {"checkRunStatus": "COMPLETED_COMPLIANT"}},
    }
    assert problems(shape, good) == []
