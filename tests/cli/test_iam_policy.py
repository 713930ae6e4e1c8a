"""`iot-defender-tui iam-policy`: exactly what the client can send, and README's copy of it.

The operations are found by walking the code in aws/ for its calls (tests/aws/test_least_privilege.py), never
by reading aws/permissions.py's list back.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from iot_defender_tui import cli
from iot_defender_tui.aws import guard
from tests.aws.test_least_privilege import NEEDS_NO_PERMISSION, PASS_ROLE, ROOT, sent_operations


def _run(capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    assert cli.main(["iam-policy", *flags]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def _policy(capsys: pytest.CaptureFixture[str], *flags: str) -> dict:
    return json.loads(_run(capsys, *flags))


def _actions(policy: dict) -> list[str]:
    assert policy["Version"] == "2012-10-17"
    listed = [a for s in policy["Statement"] for a in s["Action"]]
    assert all(s["Effect"] == "Allow" and s["Resource"] == "*" for s in policy["Statement"])
    assert len(listed) == len(set(listed)), "an action listed twice"
    return listed


def test_full_policy_is_every_operation_the_client_sends_and_nothing_more(capsys):
    sent = set(sent_operations()) - NEEDS_NO_PERMISSION
    assert len(sent) > 40  # the walk found the client's calls
    assert set(_actions(_policy(capsys))) == sent | {PASS_ROLE}


def test_read_only_is_part_of_the_full_policy_and_changes_nothing(capsys):
    read_only, full = _policy(capsys, "--read-only"), _policy(capsys)
    listed = _actions(read_only)
    assert set(listed) < set(_actions(full))
    assert not [a for a in listed if guard.is_mutating(a.split(":", 1)[1])]
    reads = {n for n, kinds in sent_operations().items() if kinds == {"read"}}
    assert set(listed) == reads - NEEDS_NO_PERMISSION
    assert [s["Sid"] for s in read_only["Statement"]] == ["DeviceDefenderTriage"]


def test_mitigation_is_what_the_full_policy_adds_to_read_only(capsys):
    read_only, mitigation, full = (_policy(capsys, *f) for f in (["--read-only"], ["--mitigation"], []))
    assert full["Statement"] == read_only["Statement"] + mitigation["Statement"]
    assert [s["Sid"] for s in mitigation["Statement"]] == ["DeviceDefenderChanges", "PassRolesToIoT"]
    listed = _actions(mitigation)
    assert all(guard.is_mutating(a.split(":", 1)[1]) for a in listed if a != PASS_ROLE)
    (pass_role,) = [s for s in mitigation["Statement"] if PASS_ROLE in s["Action"]]
    assert pass_role["Action"] == [PASS_ROLE]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "iot.amazonaws.com"}}


def test_readme_blocks_are_the_commands_output(capsys):
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Least privilege\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```json\n(.*?)```", section, re.DOTALL)
    assert blocks == [_run(capsys, "--read-only"), _run(capsys, "--mitigation")]
    assert "iot-defender-tui iam-policy" in section


def test_the_app_flag_before_the_command_counts(capsys):
    assert cli.main(["--read-only", "iam-policy"]) == 0
    assert json.loads(capsys.readouterr().out) == _policy(capsys, "--read-only")


@pytest.mark.parametrize(
    "argv",
    [
        ["iam-policy", "--read-only", "--mitigation"],
        ["--read-only", "iam-policy", "--mitigation"],
        ["iam-policy", "--json"],
    ],
)
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        code = cli.main(argv)
        raise SystemExit(code)
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "--" in err


def test_help_mentions_it(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "iam-policy" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["iam-policy", "--help"])
    out = capsys.readouterr().out
    assert "--read-only" in out and "--mitigation" in out and "PassRole" in out


def test_needs_no_aws_connection_nor_config(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "HOME": str(tmp_path),
        "IOT_DEFENDER_TUI_HOME": str(tmp_path / "home"),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: a request would fail
        "AWS_CONFIG_FILE": str(tmp_path / "missing"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "iot_defender_tui", "iam-policy"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Statement"]
