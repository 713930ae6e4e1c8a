"""What every Device Defender handler shares: parsed parameters, state, JSON replies, paging, errors.

Handlers are methods named after the operation in snake_case (moto's dispatch looks them up on the
response class) and return `self.reply(dict)`. Bodies are written as JSON by hand because going through
moto's serializer costs ~0.25 ms per finding; timestamps are therefore epoch seconds, as AWS sends them
(wire.py).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any, TypeVar

from moto.core.utils import camelcase_to_underscores, method_names_from_class
from moto.iot.models import iot_backends
from moto.iot.responses import IoTResponse
from moto.utilities.aws_headers import gen_amzn_requestid_long

from ..errors import DefenderError, InternalFailure, InvalidRequest, NotServed, UnknownOperation
from ..state import DefenderState, state_for

log = logging.getLogger(__name__)

MAX_RESULTS = 250
T = TypeVar("T")

# Operations served, counted by name: tests use it to prove e.g. that read-only mode sent nothing.
request_counts: Counter[str] = Counter()
_count_lock = threading.Lock()


class DefenderResponse(IoTResponse):
    _args: dict[str, Any] | None = None

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def state(self) -> DefenderState:
        return state_for(iot_backends[self.current_account][self.region])

    @property
    def backend(self) -> Any:
        return iot_backends[self.current_account][self.region]

    @property
    def args(self) -> dict[str, Any]:
        """The request's members as botocore's model parses them (path, query and body)."""
        if self._args is None:
            try:
                self.parse_parameters(self.normalized_request)  # sets self.params
            except (ValueError, TypeError) as err:  # e.g. a timestamp that is not one: the caller's fault
                raise InvalidRequest(f"A request member could not be read: {err}") from None
            self._args = dict(self.params)
        return self._args

    @staticmethod
    def _enrich_response(headers: dict[str, Any], body: Any) -> tuple[dict[str, Any], Any]:  # type: ignore[override]
        # moto's own also puts the request id into an XML body's <RequestId> with a regex over the whole
        # body (~2 ms for a page of 250 findings); IoT answers JSON, so there is never one to fill in.
        if "status" in headers:
            headers["status"] = str(headers["status"])
        gen_amzn_requestid_long(headers)
        return headers, body

    def reply(self, body: dict[str, Any] | None = None) -> str:
        return json.dumps(_drop_none(body or {}), separators=(",", ":"))

    def call_action(self) -> Any:
        status, headers, body = self._call_action()
        # IoT is restJson1: every reply is JSON, and moto leaves a handler's str reply as text/html.
        headers["Content-Type"] = "application/json"
        return status, headers, body

    def _call_action(self) -> Any:
        operation = self._get_action()
        if operation:
            with _count_lock:
                request_counts[operation] += 1
        if not operation:
            # moto's router matched no IoT operation: an unknown path, or a required query member
            # missing (which it needs to tell operations apart). moto itself would answer an empty 404.
            method, path = self.method, self.parsed_url.path
            return UnknownOperation(
                f"No IoT operation matches {method} {path} (unknown path, or a required member is missing)."
            ).response()
        action = camelcase_to_underscores(operation)
        if action not in method_names_from_class(self.__class__):
            return NotServed(operation).response()
        try:
            return super().call_action()
        except DefenderError as err:
            return err.response()
        except NotImplementedError:
            return NotServed(operation or "this operation").response()
        except Exception:  # an answer is better than a hung or HTML-500 client
            log.exception("sandbox handler %s failed", operation)
            return InternalFailure(f"The sandbox failed while serving {operation}.").response()


def _drop_none(value: Any) -> Any:
    # AWS omits absent members rather than sending null.
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def page(
    items: Sequence[T], next_token: str | None, max_results: int | None, default: int = MAX_RESULTS
) -> tuple[Sequence[T], str | None]:
    """One page of `items` and the token for the next (None on the last page)."""
    size = default if max_results is None else max_results
    if not 1 <= size <= MAX_RESULTS:
        raise InvalidRequest(f"maxResults must be between 1 and {MAX_RESULTS}.")
    start = 0
    if next_token:
        try:
            start = int(base64.urlsafe_b64decode(next_token.encode()).decode())
        except (ValueError, UnicodeDecodeError) as err:
            raise InvalidRequest("The nextToken is not valid.") from err
        if start < 0 or start > len(items):
            raise InvalidRequest("The nextToken is not valid.")
    end = start + size
    token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], token
