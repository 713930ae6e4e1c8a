"""`POST /_sandbox/cognito-use`: AWS's Cognito checks audit only "Amazon Cognito identity pools that have
been used to connect to the AWS IoT message broker during the 31 days before the audit execution"
(https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-auth-cognito-role-permissive.html,
https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-unauth-cognito-role-permissive.html).
No identity connects offline, so on `--fleet empty` (what the `iot` fixture serves) a pool made through the
Cognito API is never audited until this path records a connection. All over HTTP, as a user would.
"""

from __future__ import annotations

from typing import Any

import pytest

from iot_defender_tui.sandbox.runtime import Clock, runtime
from tests.sandbox.test_admin_paths import post, run_audit
from tests.sandbox.test_checks_roles import BASE, role
from tests.support.factories import defender_state
from tests.support.sandbox import make_client

DAY = 86400.0
AUTH = "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"
UNAUTH = "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"
MISSING = "us-east-1:00000000-0000-0000-0000-000000000000"


@pytest.fixture
def pool_id(sandbox_url) -> str:
    """A pool whose roles both checks flag: the authenticated one may create things (a thing admin write
    action), the unauthenticated one may update certificates (an IoT admin action)."""
    iam, cognito = make_client(sandbox_url, "iam"), make_client(sandbox_url, "cognito-identity")
    pool = cognito.create_identity_pool(IdentityPoolName="Kiosks", AllowUnauthenticatedIdentities=True)
    writes = {"Effect": "Allow", "Action": "iot:CreateThing", "Resource": "*"}
    admin = {"Effect": "Allow", "Action": "iot:UpdateCertificate", "Resource": f"{BASE}:cert/*"}
    roles = {
        "authenticated": role(iam, "KioskAuth", writes),
        "unauthenticated": role(iam, "KioskGuest", admin),
    }
    cognito.set_identity_pool_roles(IdentityPoolId=pool["IdentityPoolId"], Roles=roles)
    return pool["IdentityPoolId"]


def audit(iot: Any, url: str) -> tuple[dict[str, tuple[str, int]], dict[str, str]]:
    """Both Cognito checks run to their end: (check -> (status, resources audited), check -> reason code)."""
    task, findings = run_audit(iot, url, AUTH, UNAUTH)
    runs = {k: (c["checkRunStatus"], c["totalResourcesCount"]) for k, c in task["auditDetails"].items()}
    return runs, {f["checkName"]: f["reasonForNonComplianceCode"] for f in findings}


NOT_AUDITED = ({AUTH: ("COMPLETED_COMPLIANT", 0), UNAUTH: ("COMPLETED_COMPLIANT", 0)}, {})
FLAGGED = (
    {AUTH: ("COMPLETED_NON_COMPLIANT", 1), UNAUTH: ("COMPLETED_NON_COMPLIANT", 1)},
    {AUTH: "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS", UNAUTH: "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS"},
)


def test_a_pool_is_audited_once_it_is_used_with_iot(iot, sandbox_url, pool_id) -> None:
    assert audit(iot, sandbox_url) == NOT_AUDITED  # never used with AWS IoT

    runtime().clock = Clock(frozen_at=runtime().clock.now())  # "now" twice is the same instant

    status, _, reply = post(sandbox_url, f"/_sandbox/cognito-use?identityPoolId={pool_id}")
    assert status == 200
    assert reply["identityPoolId"] == pool_id
    assert reply["checks"] == [AUTH, UNAUTH]
    assert reply["auditedUntil"] == reply["lastUsed"] + 31 * DAY
    assert reply["lastUsed"] == runtime().clock.now()
    assert post(sandbox_url, f"/_sandbox/cognito-use?identityPoolId={pool_id}")[2] == reply  # idempotent
    assert audit(iot, sandbox_url) == FLAGGED


def test_a_use_more_than_31_days_before_the_audit_does_not_count(iot, sandbox_url, pool_id) -> None:
    path = f"/_sandbox/cognito-use?identityPoolId={pool_id}&secondsAgo="
    status, _, stale = post(sandbox_url, f"{path}{32 * DAY:.0f}")
    assert status == 200
    assert audit(iot, sandbox_url) == NOT_AUDITED

    _, _, recent = post(sandbox_url, f"{path}{30 * DAY:.0f}")
    assert recent["lastUsed"] == pytest.approx(stale["lastUsed"] + 2 * DAY, abs=600)
    assert audit(iot, sandbox_url) == FLAGGED
    # An older connection does not take the last one back.
    again = post(sandbox_url, f"{path}{40 * DAY:.0f}")[2]
    assert again["lastUsed"] == recent["lastUsed"]

    post(sandbox_url, f"/_sandbox/advance?seconds={2 * DAY}")  # the last use is now 32 days old
    assert audit(iot, sandbox_url) == NOT_AUDITED


def test_a_pool_used_every_day_stays_so(sandbox_url, pool_id) -> None:
    defender_state().identity_pool_iot_use[pool_id] = None  # as the generated fleet seeds its pools
    status, _, reply = post(sandbox_url, f"/_sandbox/cognito-use?identityPoolId={pool_id}&secondsAgo=60")
    assert (status, reply["lastUsed"], reply["auditedUntil"]) == (200, None, None)
    assert defender_state().identity_pool_iot_use[pool_id] is None


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("", 400, "identityPoolId must be"),
        ("identityPoolId=Kiosks", 400, "region:GUID"),
        (f"identityPoolId={MISSING}", 404, MISSING),
        ("identityPoolId={id}&secondsAgo=-5", 400, "secondsAgo must be"),
        ("identityPoolId={id}&secondsAgo=yesterday", 400, "'yesterday'"),
        ("identityPoolId={id}&secondsAgo=nan", 400, "secondsAgo must be"),
        ("identityPoolId={id}&secondsAgo=1e12", 400, "secondsAgo must be"),
        ("identityPoolId={id}&daysAgo=3", 400, "daysAgo"),
    ],
)
def test_bad_requests_get_clear_json_errors(iot, sandbox_url, pool_id, query, status, words) -> None:
    code = {400: "InvalidRequestException", 404: "ResourceNotFoundException"}[status]
    got_status, got_code, body = post(sandbox_url, "/_sandbox/cognito-use?" + query.format(id=pool_id))
    assert (got_status, got_code) == (status, code)
    assert words in body["message"]
    assert pool_id not in defender_state().identity_pool_iot_use  # nothing was recorded


def test_the_path_takes_post_only(sandbox_url, pool_id) -> None:
    status, code, _ = post(sandbox_url, f"/_sandbox/cognito-use?identityPoolId={pool_id}", method="GET")
    assert (status, code) == (404, "ResourceNotFoundException")
    assert pool_id not in defender_state().identity_pool_iot_use
