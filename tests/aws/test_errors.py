"""Which IAM permission an AccessDenied names: the one AWS's message names, else the operation's own."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from iot_defender_tui.aws.errors import AccessDeniedError, map_error


def _denied(code: str, message: str, operation: str, status: int = 403) -> ClientError:
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)  # type: ignore[arg-type]


USER = "arn:aws:iam::123456789012:user/alice"
ROLE = "arn:aws:iam::123456789012:role/IoTMitigationRole"


@pytest.mark.parametrize(
    ("service", "operation", "code", "message", "permission"),
    [
        # IoT passing a role on: the caller lacks iam:PassRole, not iot:CreateMitigationAction.
        (
            "iot",
            "CreateMitigationAction",
            "AccessDeniedException",
            f"User: {USER} is not authorized to perform: iam:PassRole on resource: {ROLE}",
            "iam:PassRole",
        ),
        # IAM's own shape, with the reason AWS appends since 2021.
        (
            "iam",
            "CreateRole",
            "AccessDenied",
            f"User: {USER} is not authorized to perform: iam:CreateRole on resource: {ROLE} because no "
            "identity-based policy allows the iam:CreateRole action",
            "iam:CreateRole",
        ),
        # An explicit deny of another action than the one called.
        (
            "iot",
            "StartAuditMitigationActionsTask",
            "AccessDeniedException",
            f"User: {USER} is not authorized to perform: iot:UpdateCertificate on resource: "
            "arn:aws:iot:us-east-1:123456789012:cert/abc with an explicit deny in an identity-based policy",
            "iot:UpdateCertificate",
        ),
        # Without the colon after "perform", and at the end of the message.
        (
            "iot",
            "ListAuditTasks",
            "AccessDeniedException",
            f"User: {USER} is not authorized to perform iot:ListAuditTasks",
            "iot:ListAuditTasks",
        ),
        (
            "sns",
            "Publish",
            "AuthorizationError",
            f"User: {USER} is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:1:t",
            "sns:Publish",  # prefixes are case-insensitive; policies write them in lower case
        ),
        # Nothing named: the operation called.
        ("iot", "DescribeAuditTask", "AccessDeniedException", "Access Denied", "iot:DescribeAuditTask"),
    ],
)
def test_access_denied_names_the_permission_aws_names(
    service: str, operation: str, code: str, message: str, permission: str
) -> None:
    error = map_error(_denied(code, message, operation), operation, None, service=service)
    assert isinstance(error, AccessDeniedError)
    assert error.permission == permission
    assert f"lacks the IAM permission {permission}." in error.message
    assert f"allow {permission} for this identity" in (error.hint or "")
