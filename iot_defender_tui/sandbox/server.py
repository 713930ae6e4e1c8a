"""Serve moto (every service) plus Device Defender over HTTP on loopback.

`SandboxServer` is what both `iot-defender-tui sandbox` and the tests use: start() returns once the
socket accepts requests; stop() shuts the server and the background ticker down.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

import botocore.session
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from . import admin_certs, admin_cognito, admin_org, drift, ticker
from .handlers import install as install_handlers
from .handlers.base import request_counts
from .runtime import Options, configure, runtime
from .state import all_states

ADMIN_PREFIX = "/_sandbox/"
XML_SERVICES = frozenset({"iam", "sts", "sns"})  # query protocol: errors are XML
StartResponse = Callable[..., Any]
log = logging.getLogger(__name__)


class FaultInjector:
    """WSGI middleware: a share of AWS requests is throttled, fails with a 500 (before or after being
    executed), or is slowed. One roll per request, so the shares never overlap."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(ADMIN_PREFIX):
            return _admin(environ, start_response)
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        rt = runtime()
        opts = rt.options
        if opts.latency_ms:
            time.sleep(opts.latency_ms / 1000.0)
        roll = rt.rng.random()
        xml = _service(environ) in XML_SERVICES
        if roll < opts.throttle_rate:
            return _error(start_response, 429, "ThrottlingException", "Rate exceeded", xml)
        if roll < opts.throttle_rate + opts.error_rate:
            return _error(start_response, 500, "InternalFailureException", "Injected internal failure", xml)
        if roll < opts.throttle_rate + opts.error_rate + opts.error_after_rate:
            _execute_and_discard(self.app, environ)
            return _error(start_response, 500, "InternalFailureException", "Injected internal failure", xml)
        return self.app(environ, start_response)


def _execute_and_discard(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> None:
    reply = app(environ, lambda *_args, **_kw: None)
    try:
        for _chunk in reply:
            pass
    finally:
        close = getattr(reply, "close", None)
        if close is not None:
            close()


_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}


def _service(environ: dict[str, Any]) -> str:
    """The service a SigV4-signed request is for (its credential scope names it)."""
    scope = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2].partition(",")[0]
    parts = scope.split("/")
    return parts[3] if len(parts) > 3 else ""


def _error(
    start_response: StartResponse, status: int, code: str, message: str, xml: bool = False
) -> list[bytes]:
    """An error as the service's protocol words it: for IoT AWS's restJson1 error (the code in
    `x-amzn-ErrorType`, the words in a JSON body's `message`), XML for the query APIs (IAM, STS, SNS)."""
    if xml:
        body = (
            f"<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{message}</Message>"
            "</Error><RequestId>sandbox-fault</RequestId></ErrorResponse>"
        ).encode()
        content_type = "text/xml"
    else:
        body = json.dumps({"message": message}).encode()
        content_type = "application/json"
    start_response(
        f"{status} {_REASONS.get(status, 'Internal Server Error')}",
        [
            ("Content-Type", content_type),
            ("x-amzn-ErrorType", code),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


# A plain decimal, as a user types it: float() would also take "nan", "inf", "1_0" and other scripts' digits.
_SECONDS = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
_MAX_ADVANCE = 10 * 365 * 86400.0  # ten years: more would only overflow datetime arithmetic somewhere


# What CRL/OCSP lookups, Debian's weak-key list and IoT's connection log would tell AWS, set by hand
# (admin_certs.py, admin_cognito.py).
_MARKS = {
    "weak-key": admin_certs.mark_weak_key,
    "revoke": admin_certs.revoke,
    "cognito-use": admin_cognito.mark_used,
    "role-trust": admin_org.role_trust,  # not a mark: what a trust policy edited by hand would do
}


def _admin(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    """Sandbox-only endpoints for tests and demos (not AWS APIs)."""
    path = environ["PATH_INFO"][len(ADMIN_PREFIX) :]
    if path == "stats":
        payload: dict[str, Any] = {"requests": dict(request_counts)}
    elif path == "advance" and environ.get("REQUEST_METHOD") == "POST":
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        text = (query.get("seconds") or ["0"])[-1].strip()
        if not _SECONDS.fullmatch(text) or not float(text) <= _MAX_ADVANCE:
            return _error(
                start_response,
                400,
                "InvalidRequestException",
                f"seconds must be a number from 0 to {_MAX_ADVANCE:.0f}, not {text!r}",
            )
        runtime().clock.advance(float(text))
        ticker.tick()
        payload = {"now": runtime().clock.now()}
    elif path == "drift" and environ.get("REQUEST_METHOD") == "POST":
        payload = _drift(environ.get("QUERY_STRING", ""))
        if "message" in payload:
            return _error(start_response, 400, "InvalidRequestException", payload["message"])
    elif path in _MARKS and environ.get("REQUEST_METHOD") == "POST":
        try:
            payload = _MARKS[path](environ.get("QUERY_STRING", ""))
        except admin_certs.AdminError as err:
            return _error(start_response, err.status, err.code, err.message)
    elif path == "faults" and environ.get("REQUEST_METHOD") == "POST":
        payload = _set_faults(environ.get("QUERY_STRING", ""))
        if "message" in payload:
            body = json.dumps(payload).encode()
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            return [body]
    else:
        return _error(start_response, 404, "ResourceNotFoundException", "unknown sandbox admin path")
    body = json.dumps(payload).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


DRIFT_DAYS = 365
DEFAULT_DRIFT = 0.1  # what `drift` does on a sandbox started without --drift


def _drift(query: str) -> dict[str, Any]:
    """`POST /_sandbox/drift?days=N[&share=S][&new=S]`: N days of fleet drift now, the clock unmoved."""
    asked = {k: v[-1].strip() for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
    unknown = set(asked) - {"days", "share", "new"}
    if unknown:
        return {"message": f"unknown parameter(s) {', '.join(sorted(unknown))}: expected days, share, new"}
    days_text = asked.get("days", "1")
    if not re.fullmatch(r"[0-9]+", days_text) or not 1 <= int(days_text) <= DRIFT_DAYS:
        return {"message": f"days must be a whole number from 1 to {DRIFT_DAYS}, not {days_text!r}"}
    values = {}
    for name in ("share", "new"):
        text = asked.get(name)
        if text is not None:
            if not _SECONDS.fullmatch(text) or not float(text) <= 1:
                return {"message": f"{name} must be a number from 0 to 1, not {text!r}"}
            values[name] = float(text)
    fix, new = drift.shares()
    if not (fix > 0 or new > 0):
        fix = new = DEFAULT_DRIFT
    if "share" in values:
        fix = new = values["share"]
    new = values.get("new", new)
    total = drift.Report()
    now = runtime().clock.now()
    for state in all_states():
        report = drift.drift(state, int(days_text), fix, new, now)
        total.fixed.update(report.fixed)
        total.introduced.update(report.introduced)
    total.days = int(days_text)
    return total.as_json()


FAULTS = ("throttle_rate", "error_rate", "error_after_rate", "latency_ms")


def _set_faults(query: str) -> dict[str, Any]:
    """`POST /_sandbox/faults?error_rate=0&…`: change fault rates of a running sandbox (a soak stops them)."""
    opts = runtime().options
    asked = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
    known = [name for name in FAULTS if hasattr(opts, name)]
    changes: dict[str, float] = {}
    for name, text in asked.items():
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        limit = 60_000.0 if name == "latency_ms" else 1.0
        if name not in known or not 0.0 <= value <= limit:
            return {"message": f"{name}={text}: expected one of {', '.join(known)}, from 0 to {limit:g}"}
        changes[name] = value
    for name, value in changes.items():
        setattr(opts, name, value)
    return {name: getattr(opts, name) for name in known}


class Dispatcher(DomainDispatcherApplication):
    """moto's router of requests to its services, remembering which service answers which host.

    moto works that out again for every request, under one lock, by listing its own package directory
    on disk: a fifth of the sandbox's time while a client paged through 100,000 findings. A host's
    service never changes while the sandbox runs.
    """

    def __init__(self, create_app: Callable[[str], Any]):
        super().__init__(create_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        try:
            return self._backends[host]
        except KeyError:
            backend = self._backends[host] = super().get_backend_for_host(host)
            return backend


class AwsFrontDoor:
    """WSGI middleware, outermost: what AWS's front end answers before a service sees the request.

    An unsigned request for an IoT path is refused as AWS does (403 JSON), not passed to moto's S3
    fallback; on IoT and admin requests a failure anywhere below becomes a JSON InternalFailureException
    instead of the web framework's HTML page. Other services (moto's IAM, STS, SNS: query protocol, XML)
    pass through untouched.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        scope = _signed_for(environ)
        if not scope and not path.startswith(("/moto-api", ADMIN_PREFIX)) and _iot_path(path):
            if scope is None:
                return _error(start_response, 403, "MissingAuthenticationTokenException", MISSING_TOKEN)
            return _error(start_response, 403, "IncompleteSignatureException", INCOMPLETE_SIGNATURE)
        if scope != "iot" and not path.startswith(ADMIN_PREFIX):
            return self.app(environ, start_response)
        held: list[Any] = []

        def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            held[:] = [status, headers]  # sent below, once the reply is known to be JSON
            return _no_write

        try:
            body = self.app(environ, hold)
            if not held:  # an app that starts its reply on the first iteration (werkzeug's do not)
                body = list(body)
        except Exception:  # an AWS-shaped answer is better than werkzeug's HTML traceback page
            log.exception("sandbox request %s %s failed", environ.get("REQUEST_METHOD"), path)
            return _error(start_response, 500, "InternalFailureException", INTERNAL_FAILURE)
        status, headers = held
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        if not status.startswith(("2", "3")) and "json" not in content_type:
            # The web framework's own page (its router's 404 for a path moto's patterns cannot match, a
            # crash's 500): answered as AWS would, in JSON.
            getattr(body, "close", lambda: None)()
            if status.startswith(("404", "405")):
                return _error(
                    start_response, 404, "UnknownOperationException", f"No IoT operation matches {path!r}."
                )
            if status.startswith("4"):
                return _error(
                    start_response, 400, "InvalidRequestException", f"The request is not valid ({status})."
                )
            log.error("sandbox request %s %s answered %s", environ.get("REQUEST_METHOD"), path, status)
            return _error(start_response, 500, "InternalFailureException", INTERNAL_FAILURE)
        start_response(status, headers)
        return body


MISSING_TOKEN = "Missing Authentication Token"
INCOMPLETE_SIGNATURE = (
    "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."
)
INTERNAL_FAILURE = "The sandbox failed while serving this request."
_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def _no_write(data: bytes) -> None:
    raise RuntimeError("the sandbox's WSGI apps return their bodies; write() is not supported")


def _signed_for(environ: dict[str, Any]) -> str | None:
    """The service a SigV4 request was signed for (header or presigned query), or None if unsigned."""
    query = urllib.parse.unquote(environ.get("QUERY_STRING", ""))
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if not authorization and "X-Amz-Credential=" not in query:
        return None
    match = _CREDENTIAL.search(authorization or query.replace("X-Amz-Credential=", "Credential="))
    return match.group(1) if match else ""


@functools.cache
def _iot_paths() -> re.Pattern[str]:
    """Every request path of botocore's IoT model, e.g. /audit/scheduledaudits/{scheduledAuditName}."""
    model = botocore.session.get_session().get_service_model("iot")
    templates = set()
    for name in model.operation_names:
        uri = model.operation_model(name).http["requestUri"].partition("?")[0]
        parts = re.split(r"(\{[^}]+\})", uri)
        templates.add(
            "".join(
                (".+" if p.endswith("+}") else "[^/]+") if p.startswith("{") else re.escape(p) for p in parts
            )
        )
    return re.compile("|".join(f"(?:{t})" for t in sorted(templates)))


def _iot_path(path: str) -> bool:
    return _iot_paths().fullmatch(path) is not None


class SandboxServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, options: Options | None = None):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox serves loopback only (127.0.0.1, localhost or ::1)")
        self.host = host
        self.port = port
        self.options = options or Options()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}" if ":" not in str(host) else f"http://[{host}]:{port}"

    def start(self) -> str:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        configure(self.options)
        install_handlers()
        app = AwsFrontDoor(FaultInjector(Dispatcher(create_backend_app)))
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox-http", daemon=True)
        self._thread.start()
        ticker.start()
        return self.url

    def stop(self) -> None:
        ticker.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
