"""AWS errors the sandbox answers with, rendered the restJson1 way (`x-amzn-ErrorType` + JSON body).

HTTP statuses are the ones in botocore's IoT model for each error shape.
"""

from __future__ import annotations

import json


class DefenderError(Exception):
    code = "InternalFailureException"
    status = 500

    def __init__(self, message: str, **extra: str):
        super().__init__(message)
        self.message = message
        self.extra = extra

    def response(self) -> tuple[int, dict[str, str], str]:
        body = {"message": self.message, **self.extra}
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": self.code}
        return self.status, headers, json.dumps(body)


class InvalidRequest(DefenderError):
    code = "InvalidRequestException"
    status = 400


class ResourceNotFound(DefenderError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceAlreadyExists(DefenderError):
    code = "ResourceAlreadyExistsException"
    status = 409


class LimitExceeded(DefenderError):
    code = "LimitExceededException"
    status = 410


class TaskAlreadyExists(DefenderError):
    code = "TaskAlreadyExistsException"
    status = 400


class Throttling(DefenderError):
    code = "ThrottlingException"
    status = 429


class InternalFailure(DefenderError):
    code = "InternalFailureException"
    status = 500


class NotServed(DefenderError):
    """An operation the sandbox does not implement: 501, which SDKs do not retry."""

    code = "NotImplementedException"
    status = 501

    def __init__(self, operation: str):
        super().__init__(f"The Device Defender sandbox does not serve {operation}.")


class UnknownOperation(DefenderError):
    code = "UnknownOperationException"
    status = 404
