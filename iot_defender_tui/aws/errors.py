"""AWS failures as the app's own exceptions: plain-text message plus what the user can do about it.

Everything below the client raises botocore exceptions; the client turns each into one of these with
`map_error`, so screens and headless commands show one kind of error, never a botocore traceback.
"""

from __future__ import annotations

import re

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import (
    NoCredentialsError as BotoNoCredentialsError,
)

from .safe_text import safe


class AwsError(Exception):
    """An AWS call failed. `code` is AWS's error code (or ours for local failures)."""

    def __init__(self, code: str, message: str, operation: str | None = None, hint: str | None = None):
        # AWS's words end up on the user's screen: no terminal control sequences in them. The hint too:
        # it may quote AWS (AccessDenied's) or a name the user typed.
        self.code = safe(code)
        self.message = safe(message)
        self.operation = None if operation is None else safe(operation)
        self.hint = None if hint is None else safe(hint)
        super().__init__(self.text)

    @property
    def text(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        hint = f" {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"


class NoCredentialsError(AwsError):
    pass


class SsoTokenExpiredError(AwsError):
    pass


class AccessDeniedError(AwsError):
    def __init__(self, code: str, message: str, operation: str | None, hint: str | None, permission: str):
        self.permission = permission
        super().__init__(code, message, operation, hint)


class UnknownRegionError(AwsError):
    pass


class EndpointUnreachableError(AwsError):
    def __init__(self, code: str, message: str, operation: str | None, hint: str | None, url: str | None):
        self.url = url
        super().__init__(code, message, operation, hint)


class ThrottledError(AwsError):
    pass


class NotFoundError(AwsError):
    pass


class InvalidRequestError(AwsError):
    pass


class ConflictError(AwsError):
    pass


THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
    }
)
ACCESS_DENIED_CODES = frozenset(
    {"AccessDeniedException", "AccessDenied", "UnauthorizedException", "UnauthorizedOperation"}
)
# The credentials exist but AWS does not accept them (wrong account, deleted key, stale session).
BAD_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidAccessKeyId",
    }
)
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NoSuchEntity", "NotFound", "NotFoundException"})
INVALID_CODES = frozenset(
    {"InvalidRequestException", "InvalidParameter", "InvalidParameterException", "ValidationException"}
)
CONFLICT_CODES = frozenset(
    {
        "ResourceAlreadyExistsException",
        "TaskAlreadyExistsException",
        "VersionConflictException",
        "ConflictException",
        "EntityAlreadyExists",
    }
)


def profile_flag(profile: str | None) -> str:
    return f"--profile {profile}" if profile else "--profile NAME"


def refused(error: BaseException | None) -> bool:
    """Whether `error` is a connection the endpoint refused (nothing listens on that port)."""
    if not isinstance(error, EndpointConnectionError):
        return False
    cause = error.kwargs.get("error")
    return isinstance(getattr(cause, "os_error", cause), ConnectionRefusedError)


def map_error(
    exc: BaseException, operation: str | None, profile: str | None, *, service: str = "iot"
) -> AwsError:
    """Turn a botocore exception raised by `operation` (of `service`) into an AwsError."""
    if isinstance(exc, AwsError):
        return exc
    if isinstance(exc, ClientError):
        return _map_client_error(exc, operation or exc.operation_name, profile, service)
    if isinstance(exc, SSOError | TokenRetrievalError):
        # SSOTokenLoadError (never logged in / cache cleared) and UnauthorizedSSOTokenError (expired):
        # either way the fix is the same login.
        return SsoTokenExpiredError(
            "SsoTokenExpired",
            "The AWS SSO session of this profile has expired or was never started.",
            operation,
            f"Run `aws sso login {profile_flag(profile)}` and try again.",
        )
    if isinstance(exc, ProfileNotFound):
        name = exc.kwargs.get("profile", profile)
        return NoCredentialsError(
            "ProfileNotFound",
            f"The AWS profile '{name}' is not in the AWS config or credentials file.",
            operation,
            f"Check the name, or create it with `aws configure --profile {name}`.",
        )
    if isinstance(exc, BotoNoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return NoCredentialsError(
            "NoCredentials",
            f"No usable AWS credentials were found ({exc}).",
            operation,
            "Run `aws configure` or pass --profile.",
        )
    if isinstance(exc, NoRegionError):
        return UnknownRegionError(
            "NoRegion", "No AWS region is configured.", operation, "Pass --region or set AWS_REGION."
        )
    if isinstance(
        exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError
    ):
        url = exc.kwargs.get("endpoint_url")
        if refused(exc):
            return EndpointUnreachableError(
                "ConnectionRefused",
                f"Cannot connect to {url or '(unknown URL)'}: connection refused.",
                operation,
                "Nothing listens there: check --endpoint-url (is the sandbox running?).",
                url,
            )
        what = "did not answer in time" if isinstance(exc, ReadTimeoutError) else "could not be reached"
        return EndpointUnreachableError(
            "EndpointUnreachable",
            f"The endpoint {url or '(unknown URL)'} {what}.",
            operation,
            "Check the network, the region and --endpoint-url (is the sandbox running?).",
            url,
        )
    if isinstance(exc, BotoCoreError):
        return AwsError(type(exc).__name__, str(exc), operation)
    return AwsError(type(exc).__name__, str(exc) or type(exc).__name__, operation)


# "User: arn:… is not authorized to perform: iam:PassRole on resource: arn:…": the permission AWS checked,
# which is not always the operation's own (iam:PassRole for an action's role, an action a task runs).
_DENIED_ACTION = re.compile(r"not authorized to perform:?\s+([A-Za-z0-9-]+):([A-Za-z0-9]+)")


def denied_permission(message: str) -> str | None:
    match = _DENIED_ACTION.search(message)
    return f"{match.group(1).lower()}:{match.group(2)}" if match else None


def _map_client_error(exc: ClientError, operation: str, profile: str | None, service: str) -> AwsError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    message = str(error.get("Message") or exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in THROTTLING_CODES or status == 429:
        return ThrottledError(
            code,
            f"AWS kept throttling the request after several retries ({message}).",
            operation,
            "Wait a moment and try again; other tools on this account may be using the same quota.",
        )
    if code in BAD_CREDENTIAL_CODES:
        return NoCredentialsError(
            code,
            f"AWS rejected the credentials: {message}",
            operation,
            f"Renew them (`aws configure`, `aws sso login {profile_flag(profile)}`) or change --profile.",
        )
    if code in ACCESS_DENIED_CODES or status == 403:
        permission = denied_permission(message) or f"{service}:{operation}"
        return AccessDeniedError(
            code,
            f"Access denied: the caller lacks the IAM permission {permission}.",
            operation,
            f"Ask an administrator to allow {permission} for this identity. AWS said: {message}",
            permission,
        )
    if code in NOT_FOUND_CODES or status == 404:
        return NotFoundError(code, message, operation)
    if code in INVALID_CODES:
        return InvalidRequestError(code, message, operation)
    if code in CONFLICT_CODES or status == 409:
        return ConflictError(code, message, operation)
    return AwsError(code, message, operation)
