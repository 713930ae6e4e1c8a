"""SIGTERM and SIGHUP (an SSH link dropping) end the real TUI the normal way: the terminal is given back
(the alternate screen left, the cursor shown) and the `--sandbox` child is stopped, also when the signal
comes while the sandbox is still starting.

The app runs as a user runs it, `python -m iot_defender_tui --sandbox` in a pseudo-terminal.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"
ENTER_ALTERNATE_SCREEN = b"\x1b[?1049h"
SHOW_CURSOR = b"\x1b[?25h"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _default_hangup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


class Terminal:
    """The TUI in a pseudo-terminal of 80x24; what it wrote is collected in `output`."""

    def __init__(self, home: Path) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "PYTEST", "TEXTUAL", "COLUMNS", "LINES"))
        }
        env |= {"TERM": "xterm", "PYTHONPATH": str(ROOT), "IOT_DEFENDER_TUI_HOME": str(home)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "iot_defender_tui", "--sandbox"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,  # its signals are the test's to send, and none reach pytest
            # As from a login shell: a run under nohup (CI started in the background) would hand down an
            # ignored SIGHUP, which the app rightly keeps ignoring, and a hang-up would not end it.
            preexec_fn=_default_hangup,
        )
        os.close(slave)
        self.output = b""
        self.started = time.monotonic()

    def drop(self) -> None:
        """Close our side of the terminal, as an SSH link dropping does: nothing reads the app any more."""
        os.close(self.master)
        self.master = -1

    def read(self, timeout: float = 0.1) -> None:
        if self.master < 0:  # dropped: wait as a read would (polling a closed descriptor would spin)
            time.sleep(timeout)
            return
        while select.select([self.master], [], [], timeout)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every writer of the terminal is gone
                return
            if not chunk:
                return
            self.output += chunk
            timeout = 0.0

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, f"the app ended: {self.output[-2000:]!r}"
            assert time.monotonic() < deadline, f"no {what}: {self.output[-2000:]!r}"
            self.read()

    def children(self) -> list[int]:
        pids: list[int] = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                pids += [int(pid) for pid in (task / "children").read_text().split()]
        return pids

    def ended(self) -> int:
        """The app's exit status, once it has ended and everything it wrote is read.

        Ending waits on nothing but work: Textual restores the terminal (~0.1 s), then the launcher stops
        the sandbox child (its HTTP server's 0.5 s poll, then two interpreters tearing down their heaps):
        1.1-1.7 s on 2 cores loaded 3 to 9 deep. No signal is lost (the app takes them over in on_mount,
        before it connects; before that they raise SystemExit). Only a load heavy enough to stretch that
        past 20 s failed this (twice: a CI run beside four busy helpers), so the bound follows the load as
        getting here did: start-up does more of the same work (two interpreters importing Textual and
        moto) and took 2-3 times as long as ending in the runs measured (2.2-3.9 s to "connected").
        """
        timeout = max(40.0, 3 * (time.monotonic() - self.started))
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            assert time.monotonic() < deadline, f"running {timeout:.0f} s on: {self.output[-2000:]!r}"
            self.read()
        self.read()
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.master >= 0:
            os.close(self.master)


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, ended but not yet reaped, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(tmp_path)
    children: list[int] = []
    try:
        yield term
    finally:
        children = term.children()
        term.close()
        for pid in children:  # a sandbox the app failed to stop must not outlive the test
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def sandbox_command(pid: int) -> bool:
    """Whether `pid` runs the sandbox: not yet while it is forked but not exec'd (it shows the app's
    command line then) or exec'ing (an empty one), which a loaded machine can make last."""
    with contextlib.suppress(OSError):
        return b"iot_defender_tui\x00sandbox\x00" in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


def sandbox_child(term: Terminal) -> int:
    term.wait_for(lambda: any(sandbox_command(pid) for pid in term.children()), "sandbox child")
    [pid] = term.children()
    return pid


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_gives_the_terminal_back_and_stops_the_sandbox(terminal: Terminal, signum: int) -> None:
    child = sandbox_child(terminal)
    terminal.wait_for(lambda: b"connected" in terminal.output, "drawn and connected app")
    terminal.process.send_signal(signum)
    assert terminal.ended() == 128 + signum
    tail = terminal.output[terminal.output.rindex(ENTER_ALTERNATE_SCREEN) :]
    assert LEAVE_ALTERNATE_SCREEN in tail
    assert SHOW_CURSOR in tail
    assert gone(child)


def test_a_signal_while_the_sandbox_starts_stops_it(terminal: Terminal) -> None:
    child = sandbox_child(terminal)
    assert ENTER_ALTERNATE_SCREEN not in terminal.output  # the app is not running yet
    terminal.process.send_signal(signal.SIGTERM)
    assert terminal.ended() == 128 + signal.SIGTERM
    assert gone(child)


def test_a_dropped_terminal_stops_the_sandbox(terminal: Terminal) -> None:
    """An SSH link dropping: the terminal is gone (nothing reads it any more) when SIGHUP comes.

    (Textual's input thread then spins on the hung-up terminal's end of file, so this exit competes with it
    for the GIL: slower than the others under load, not stuck.)"""
    child = sandbox_child(terminal)
    terminal.wait_for(lambda: b"connected" in terminal.output, "drawn and connected app")
    terminal.drop()
    terminal.process.send_signal(signal.SIGHUP)
    terminal.ended()
    assert gone(child)
