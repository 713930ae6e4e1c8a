"""Audit suppressions: their lifecycle, their rules, and what they do to findings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from iot_defender_tui.sandbox import audits
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.factories import cert_id, configure_audit, defender_state, error_of
from tests.support.sandbox import ACCOUNT

SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"
POLICY = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
LOGGING = "LOGGING_DISABLED_CHECK"
ACCOUNT_ID = {"account": ACCOUNT}


def in_days(days: float) -> datetime:
    return datetime.fromtimestamp(runtime().clock.now() + days * 86400, UTC)


def cert(n: int) -> dict:
    return {"deviceCertificateId": cert_id(n)}


def test_create_describe_update_delete(iot):
    expires = in_days(10)
    iot.create_audit_suppression(
        checkName=SHARED, resourceIdentifier=cert(1), expirationDate=expires, description="lab device"
    )
    described = iot.describe_audit_suppression(checkName=SHARED, resourceIdentifier=cert(1))
    assert described["checkName"] == SHARED and described["resourceIdentifier"] == cert(1)
    assert described["expirationDate"].timestamp() == pytest.approx(expires.timestamp(), abs=0.001)
    assert described["suppressIndefinitely"] is False and described["description"] == "lab device"

    iot.update_audit_suppression(checkName=SHARED, resourceIdentifier=cert(1), suppressIndefinitely=True)
    described = iot.describe_audit_suppression(checkName=SHARED, resourceIdentifier=cert(1))
    assert described["suppressIndefinitely"] is True and "expirationDate" not in described
    assert described["description"] == "lab device"

    later = in_days(20)
    iot.update_audit_suppression(
        checkName=SHARED, resourceIdentifier=cert(1), expirationDate=later, description="until the swap"
    )
    described = iot.describe_audit_suppression(checkName=SHARED, resourceIdentifier=cert(1))
    assert described["suppressIndefinitely"] is False and described["description"] == "until the swap"
    assert described["expirationDate"].timestamp() == pytest.approx(later.timestamp(), abs=0.001)

    iot.delete_audit_suppression(checkName=SHARED, resourceIdentifier=cert(1))
    for call in (iot.describe_audit_suppression, iot.delete_audit_suppression):
        assert error_of(call, checkName=SHARED, resourceIdentifier=cert(1))[0] == "ResourceNotFoundException"
    code = error_of(
        iot.update_audit_suppression, checkName=SHARED, resourceIdentifier=cert(1), description="x"
    )
    assert code[0] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "expirationDate, or suppressIndefinitely"),
        ({"suppressIndefinitely": False}, "expirationDate, or suppressIndefinitely"),
        ({"expirationDate": datetime(2020, 10, 20, tzinfo=UTC)}, "in the future"),
        ({"suppressIndefinitely": True, "expirationDate": "FUTURE"}, "not both"),
        ({"suppressIndefinitely": True, "checkName": "NO_SUCH_CHECK"}, "Unknown audit check"),
        ({"suppressIndefinitely": True, "resourceIdentifier": {}}, "resourceIdentifier"),
    ],
)
def test_create_validation(iot, kwargs, message):
    if kwargs.get("expirationDate") == "FUTURE":
        kwargs["expirationDate"] = in_days(1)
    kwargs = {"checkName": SHARED, "resourceIdentifier": cert(1), **kwargs}
    code, text = error_of(iot.create_audit_suppression, **kwargs)
    assert code == "InvalidRequestException" and message in text


def test_duplicates_are_refused(iot):
    iot.create_audit_suppression(
        checkName=SHARED, resourceIdentifier=cert(1), suppressIndefinitely=True, clientRequestToken="t-1"
    )
    code, _ = error_of(
        iot.create_audit_suppression, checkName=SHARED, resourceIdentifier=cert(1), suppressIndefinitely=True
    )
    assert code == "ResourceAlreadyExistsException"
    code, text = error_of(
        iot.create_audit_suppression,
        checkName=SHARED, resourceIdentifier=cert(2), suppressIndefinitely=True, clientRequestToken="t-1",
    )  # fmt: skip
    assert code == "ResourceAlreadyExistsException" and "t-1" in text
    # The same resource under another check is a different suppression.
    iot.create_audit_suppression(
        checkName="DEVICE_CERTIFICATE_EXPIRING_CHECK", resourceIdentifier=cert(1), suppressIndefinitely=True
    )


def test_update_rules(iot):
    iot.create_audit_suppression(checkName=SHARED, resourceIdentifier=cert(1), suppressIndefinitely=True)
    kwargs = {"checkName": SHARED, "resourceIdentifier": cert(1)}
    code, text = error_of(iot.update_audit_suppression, suppressIndefinitely=False, **kwargs)
    assert code == "InvalidRequestException" and "expirationDate" in text
    code, text = error_of(iot.update_audit_suppression, expirationDate=in_days(-1), **kwargs)
    assert code == "InvalidRequestException" and "future" in text
    assert iot.describe_audit_suppression(**kwargs)["suppressIndefinitely"] is True


def test_list_filters_order_and_pages(iot):
    for n, days in enumerate([5, 1, 3, 4, 2]):
        iot.create_audit_suppression(
            checkName=SHARED, resourceIdentifier=cert(n), expirationDate=in_days(days)
        )
    iot.create_audit_suppression(checkName=SHARED, resourceIdentifier=cert(9), suppressIndefinitely=True)
    policy_id = {"policyVersionIdentifier": {"policyName": "open", "policyVersionId": "1"}}
    iot.create_audit_suppression(checkName=POLICY, resourceIdentifier=policy_id, expirationDate=in_days(6))

    listed, token, pages = [], None, 0
    while True:
        reply = iot.list_audit_suppressions(
            checkName=SHARED, maxResults=4, **({"nextToken": token} if token else {})
        )
        listed += reply["suppressions"]
        pages += 1
        token = reply.get("nextToken")
        if not token:
            break
    assert pages == 2
    # By expiration date; one that never expires comes last.
    assert [s["resourceIdentifier"] for s in listed] == [cert(n) for n in (1, 4, 2, 3, 0, 9)]
    descending = iot.list_audit_suppressions(checkName=SHARED, ascendingOrder=False)["suppressions"]
    assert [s["resourceIdentifier"] for s in descending] == [cert(n) for n in (9, 0, 3, 2, 4, 1)]

    everything = iot.list_audit_suppressions()["suppressions"]
    assert len(everything) == 7
    by_resource = iot.list_audit_suppressions(resourceIdentifier=policy_id)["suppressions"]
    assert [(s["checkName"], s["resourceIdentifier"]) for s in by_resource] == [(POLICY, policy_id)]


def logging_audit(iot) -> str:
    """An on-demand audit of LOGGING_DISABLED_CHECK, finished now: one finding on a fresh account."""
    task_id = iot.start_on_demand_audit_task(targetCheckNames=[LOGGING])["taskId"]
    state = defender_state()
    audits.run_to_completion(state, state.tasks[task_id])
    return task_id


def listed(iot, task_id: str, suppressed: bool) -> list[str]:
    reply = iot.list_audit_findings(taskId=task_id, listSuppressedFindings=suppressed)
    return [f["findingId"] for f in reply["findings"]]


def reported(iot, task_id: str) -> tuple[bool, dict]:
    """The audit's one finding's isSuppressed (ListAuditFindings and DescribeAuditFinding agreeing), and the
    check's details in DescribeAuditTask."""
    (finding,) = iot.list_audit_findings(taskId=task_id)["findings"]
    described = iot.describe_audit_finding(findingId=finding["findingId"])["finding"]
    assert described["isSuppressed"] == finding["isSuppressed"]
    flag = finding["isSuppressed"]
    assert listed(iot, task_id, flag) == [finding["findingId"]] and listed(iot, task_id, not flag) == []
    return finding["isSuppressed"], iot.describe_audit_task(taskId=task_id)["auditDetails"][LOGGING]


def test_is_suppressed_is_what_the_audit_reported(iot):
    """AuditFinding.isSuppressed "indicates whether the audit finding was suppressed or not during
    reporting" (https://docs.aws.amazon.com/iot/latest/apireference/API_AuditFinding.html), and a suppressed
    finding is left out of its check's compliance and counted apart
    (https://docs.aws.amazon.com/iot/latest/developerguide/audit-finding-suppressions.html): a suppression
    made or lifted later leaves an audit's report as it was, its findings and its statistics agreeing."""
    configure_audit(iot, LOGGING)
    before = logging_audit(iot)
    iot.create_audit_suppression(checkName=LOGGING, resourceIdentifier=ACCOUNT_ID, suppressIndefinitely=True)
    suppressed, details = reported(iot, before)
    assert not suppressed
    assert details["checkRunStatus"] == "COMPLETED_NON_COMPLIANT"
    assert details["suppressedNonCompliantResourcesCount"] == 0

    during = logging_audit(iot)
    suppressed, details = reported(iot, during)
    assert suppressed
    assert details["checkRunStatus"] == "COMPLETED_COMPLIANT"
    assert details["nonCompliantResourcesCount"] == details["suppressedNonCompliantResourcesCount"] == 1

    iot.delete_audit_suppression(checkName=LOGGING, resourceIdentifier=ACCOUNT_ID)
    assert reported(iot, during)[0] and not reported(iot, before)[0]
    assert not reported(iot, logging_audit(iot))[0]


def test_a_suppression_marks_the_findings_of_audits_run_before_it_expires(iot):
    """A suppression holds until its expirationDate
    (https://docs.aws.amazon.com/iot/latest/apireference/API_AuditSuppression.html); an audit run after
    that reports the finding unsuppressed, while the earlier audit's report keeps it suppressed."""
    configure_audit(iot, LOGGING)
    iot.create_audit_suppression(checkName=LOGGING, resourceIdentifier=ACCOUNT_ID, expirationDate=in_days(1))
    while_in_force = logging_audit(iot)
    runtime().clock.advance(86401)
    assert not reported(iot, logging_audit(iot))[0]  # expired
    assert reported(iot, while_in_force)[0]
