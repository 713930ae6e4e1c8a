"""`iot-defender-tui sandbox` as a user runs it: a separate process, one URL line, quiet, clean stop."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.sandbox import make_client

START_TIMEOUT = 60  # importing moto on a busy 2-core machine can take several seconds
STOP_TIMEOUT = 10
URL = re.compile(r"http://127\.0\.0\.1:(\d+)")
CONSOLE_SCRIPT = Path(sys.executable).parent / "iot-defender-tui"


class Sandbox:
    """A sandbox child process whose stdout lines arrive on a queue (readline alone cannot time out)."""

    def __init__(self, command: list[str]):
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_child_env()
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def first_line(self) -> str:
        try:
            line = self.lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"the sandbox printed nothing within {START_TIMEOUT} s")
        if line is None:
            pytest.fail(f"the sandbox exited ({self.process.wait()}): {self.stderr()}")
        return line

    def stop(self, sig: int) -> tuple[int, str, str]:
        """Send `sig`; return the exit code and whatever stdout and stderr still held."""
        self.process.send_signal(sig)
        code = self.process.wait(timeout=STOP_TIMEOUT)
        self._reader.join(timeout=STOP_TIMEOUT)
        rest = []
        while (line := self.lines.get_nowait()) is not None:
            rest.append(line)
        return code, "".join(rest), self.stderr()

    def stderr(self) -> str:
        assert self.process.stderr is not None
        return self.process.stderr.read()


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    return env


@contextmanager
def running(command: list[str]) -> Iterator[Sandbox]:
    sandbox = Sandbox(command)
    try:
        yield sandbox
    finally:
        if sandbox.process.poll() is None:
            sandbox.process.kill()
            sandbox.process.wait(timeout=STOP_TIMEOUT)


def _module_command(*flags: str) -> list[str]:
    return [sys.executable, "-m", "iot_defender_tui", "sandbox", *flags]


def _serve_and_stop(command: list[str], sig: int) -> None:
    with running(command) as sandbox:
        line = sandbox.first_line()
        found = URL.findall(line)
        assert len(found) == 1 and int(found[0]) > 0, line
        url = f"http://127.0.0.1:{found[0]}"
        iot = make_client(url)
        config = iot.describe_account_audit_configuration()  # answered at once: no retry, no wait
        assert not any(c["enabled"] for c in config["auditCheckConfigurations"].values())
        iot.create_thing(thingName="probe")
        assert [t["thingName"] for t in iot.list_things()["things"]] == ["probe"]
        make_client(url, "iam").list_roles()
        code, stdout, stderr = sandbox.stop(sig)
    assert code == 0
    assert stdout == "", "printed after its URL line"
    assert stderr == "", "wrote to stderr (a TUI screen would be corrupted)"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_module_serves_one_url_line_and_stops_cleanly(sig):
    _serve_and_stop(_module_command("--port", "0", "--fleet", "empty"), sig)


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="console script not installed in this environment")
def test_console_script_serves_and_stops_cleanly():
    _serve_and_stop([str(CONSOLE_SCRIPT), "sandbox", "--port", "0", "--fleet", "empty"], signal.SIGINT)


def _refused(*flags: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        _module_command(*flags), capture_output=True, text=True, timeout=START_TIMEOUT, env=_child_env()
    )
    assert done.returncode != 0
    assert done.stdout == "", "nothing may be served when the flags are refused"
    return done


def test_non_loopback_host_is_refused():
    done = _refused("--host", "0.0.0.0", "--fleet", "empty")
    assert "loopback" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "flags",
    [
        ["--throttle-rate", "2"],
        ["--error-rate", "-0.1"],
        ["--error-after-rate", "1.5"],
        ["--latency-ms", "-5"],
        ["--fleet", "production"],
        ["--audit-seconds", "soon"],
        ["--problem-scale", "-1"],
    ],
)
def test_bad_flags_are_refused(flags):
    done = _refused(*flags)
    assert done.returncode == 2
    assert flags[0] in done.stderr


def test_problem_scale_reaches_the_sandbox_options(monkeypatch, capsys):
    from iot_defender_tui import cli
    from iot_defender_tui.sandbox import server

    seen = []

    def refuse(host, port, options):
        seen.append(options)
        raise ValueError("stopped before serving")

    monkeypatch.setattr(server, "SandboxServer", refuse)
    assert cli.main(["sandbox", "--problem-scale", "8", "--devices", "10"]) == 2
    assert [o.problem_scale for o in seen] == [8.0]
    assert cli.main(["sandbox"]) == 2
    assert seen[-1].problem_scale == 1.0
    assert "stopped before serving" in capsys.readouterr().err
