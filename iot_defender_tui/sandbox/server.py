"""Serve moto (every service) plus Device Defender over HTTP on loopback.

`SandboxServer` is what both `iot-defender-tui sandbox` and the tests use: start() returns once the
socket accepts requests; stop() shuts the server and the background ticker down.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from . import ticker
from .handlers import install as install_handlers
from .handlers.base import request_counts
from .runtime import Options, configure, runtime

ADMIN_PREFIX = "/_sandbox/"
StartResponse = Callable[..., Any]


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
        if roll < opts.throttle_rate:
            return _error(start_response, 429, "ThrottlingException", "Rate exceeded")
        if roll < opts.throttle_rate + opts.error_rate:
            return _error(start_response, 500, "InternalFailureException", "Injected internal failure")
        if roll < opts.throttle_rate + opts.error_rate + opts.error_after_rate:
            _execute_and_discard(self.app, environ)
            return _error(start_response, 500, "InternalFailureException", "Injected internal failure")
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


def _error(start_response: StartResponse, status: int, code: str, message: str) -> list[bytes]:
    body = json.dumps({"message": message}).encode()
    reason = {429: "Too Many Requests", 500: "Internal Server Error"}[status]
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", code),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def _admin(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    """Sandbox-only endpoints for tests and demos (not AWS APIs)."""
    path = environ["PATH_INFO"][len(ADMIN_PREFIX) :]
    if path == "stats":
        payload: dict[str, Any] = {"requests": dict(request_counts)}
    elif path == "advance" and environ.get("REQUEST_METHOD") == "POST":
        seconds = float(environ.get("QUERY_STRING", "").partition("seconds=")[2] or 0)
        runtime().clock.advance(seconds)
        ticker.tick()
        payload = {"now": runtime().clock.now()}
    elif path == "faults" and environ.get("REQUEST_METHOD") == "POST":
        payload = _set_faults(environ.get("QUERY_STRING", ""))
        if "message" in payload:
            body = json.dumps(payload).encode()
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            return [body]
    else:
        body = b'{"message":"unknown sandbox admin path"}'
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [body]
    body = json.dumps(payload).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


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
        app = FaultInjector(DomainDispatcherApplication(create_backend_app))
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
