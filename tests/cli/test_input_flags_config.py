"""Every flag and config key is checked against what it stands for: ASCII digits, ranges, shapes.

A refusal is argparse's (exit 2, the flag named) or the config's (exit 2, "iot-defender-tui: <file>, line
N: …"), never a traceback and never a value taken that AWS, the sandbox or Textual cannot use.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iot_defender_tui import cli
from iot_defender_tui.config import ConfigError, load_settings

ARABIC_80 = "\u0668\u0660"  # int() and float() both read it as 80


def _refused(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as done:
        cli.build_parser().parse_args(list(argv))
    assert done.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["sandbox", "--port", "70000"],
        ["sandbox", "--port", "-1"],
        ["sandbox", "--port", ARABIC_80],
        ["sandbox", "--port", "8_080"],
        ["sandbox", "--devices", ARABIC_80],
        ["sandbox", "--devices", "1e3"],
        ["sandbox", "--devices", "2000000"],
        ["sandbox", "--seed", ARABIC_80],
        ["sandbox", "--audit-seconds", "nan"],
        ["sandbox", "--audit-seconds", "inf"],
        ["sandbox", "--audit-seconds", "1e400"],
        ["sandbox", "--mitigation-seconds", "nan"],
        ["sandbox", "--mitigation-seconds", ARABIC_80],
        ["sandbox", "--day-seconds", "0"],
        ["sandbox", "--day-seconds", "inf"],
        ["sandbox", "--latency-ms", "nan"],
        ["sandbox", "--latency-ms", "inf"],
        ["sandbox", "--throttle-rate", "\u0660.\u0665"],
        ["sandbox", "--error-rate", "nan"],
        ["sandbox", "--problem-scale", "inf"],
        ["sandbox", "--problem-scale", "nan"],
        ["sandbox", "--region", "US-EAST-1"],
        ["sandbox", "--region", "../etc"],
        ["--region", "eu-west-1\u202e"],
        ["--region", ""],
        ["--endpoint-url", "localhost:8765"],
        ["--endpoint-url", "http://"],
        ["--endpoint-url", "http://127.0.0.1:99999"],
        ["--endpoint-url", "ftp://127.0.0.1:21"],
        ["--profile", "prod\x1b[2J"],
        ["--profile", ""],
        ["--devices", "-3"],
        ["--devices", ARABIC_80],
        ["journal", "--limit", ARABIC_80],
        ["journal", "--limit", "0"],
        ["journal", "--region", "nowhere"],
        ["journal", "--endpoint-url", "127.0.0.1:8765"],
    ],
)
def test_a_bad_flag_is_refused_by_name(capsys, argv):
    err = _refused(capsys, *argv)
    flag = next(a for a in argv if a.startswith("--"))
    assert f"argument {flag}" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "attr", "value"),
    [
        (["sandbox", "--port", "65535"], "port", 65535),
        (["sandbox", "--port", "0"], "port", 0),
        (["sandbox", "--devices", "100000"], "devices", 100000),
        (["sandbox", "--audit-seconds", "0.5"], "audit_seconds", 0.5),
        (["sandbox", "--throttle-rate", ".2"], "throttle_rate", 0.2),
        (["sandbox", "--seed", "-7"], "seed", -7),
        (["sandbox", "--region", "us-gov-west-1"], "region", "us-gov-west-1"),
        (["--region", "ap-southeast-2"], "region", "ap-southeast-2"),
        (["--endpoint-url", "http://[::1]:8765"], "endpoint_url", "http://[::1]:8765"),
        (["journal", "--limit", "5"], "limit", 5),
    ],
)
def test_a_good_flag_is_taken(argv, attr, value):
    assert getattr(cli.build_parser().parse_args(argv), attr) == value


# -- config.toml ----------------------------------------------------------------------------------------
@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IOT_DEFENDER_TUI_HOME", str(tmp_path))
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True)

    def write(text: str) -> Path:
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.mark.parametrize(
    ("text", "key", "says"),
    [
        ('profile = "p"\ntheme = "dark"\n', "theme", "unknown theme 'dark'"),
        ('theme = "textual-dark "\nregion = "Mars"\n', "region", "not an AWS region"),
        ('region = "eu-west-1\\u202e"\n', "region", "not an AWS region"),
        ('endpoint_url = "http://"\n', "endpoint_url", "host"),
        ('endpoint_url = "http://127.0.0.1:70000"\n', "endpoint_url", "not a URL"),
        ('profile = "a b"\n', "profile", "without spaces"),
        ('profile = "\\u200bprod"\n', "profile", "printable"),
        ("audit_poll_seconds = nan\n", "audit_poll_seconds", "more than 0"),
        ("idle_poll_seconds = inf\n", "idle_poll_seconds", "at most 3600"),
        ('[keymap]\nrefresh = "ctrl+"\n', "refresh", "not a key name"),
        ('[keymap]\nrefresh = "cmd+r"\n', "refresh", "not a key name"),
        ('[keymap]\nrefresh = "f5,bogus"\n', "refresh", "not a key name"),
        ('[keymap]\n"Start Audit" = "f5"\n', "Start Audit", "not a binding id"),
    ],
)
def test_a_bad_config_value_is_named(config, text, key, says):
    config(text)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.key == key and says in str(err.value), str(err.value)
    assert err.value.line == text.count("\n"), "the line of the bad value"


def test_good_config_values_are_taken(config):
    config(
        'theme = "nord"\nregion = "cn-north-1"\nprofile = "prod-admin"\n'
        'endpoint_url = "https://iot.eu-west-1.amazonaws.com"\n'
        '[keymap]\nrefresh = "ctrl+r"\n"schedules-run-audit" = "f5,question_mark"\nquit = "ctrl+shift+q"\n'
    )
    settings = load_settings()
    assert (settings.theme, settings.region) == ("nord", "cn-north-1")
    assert settings.keymap["quit"] == "ctrl+shift+q"
    assert settings.keymap["schedules-run-audit"] == "f5,question_mark"


def test_every_key_the_app_binds_is_a_key_the_keymap_takes():
    import ast

    from iot_defender_tui.config import key_problem

    ui = Path(__file__).parents[2] / "iot_defender_tui" / "ui"
    keys = {
        node.args[0].value
        for path in ui.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "Binding"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert len(keys) > 20 and "slash" in keys
    assert {k: key_problem(k) for k in keys if key_problem(k)} == {}


def test_a_bad_theme_stops_the_tui_with_exit_2_before_it_starts(config, capsys, monkeypatch):
    from iot_defender_tui.ui import launch

    started = []
    monkeypatch.setattr(launch, "run_tui", lambda *args: started.append(args) or 0)
    path = config('theme = "no-such-theme"\n')
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"iot-defender-tui: {path}, line 1: theme: unknown theme 'no-such-theme'")
    assert "textual-dark" in err and started == []


def test_unknown_keymap_ids_stop_the_app_with_exit_2_naming_them(config, capsys, monkeypatch):
    from iot_defender_tui.ui import launch

    started = []
    monkeypatch.setattr(launch, "run_tui", lambda *args: started.append(args) or 0)
    path = config('[keymap]\nrefresh = "f5"\n"start-audit" = "f6"\nbogus = "x"\n')
    assert cli.main([]) == 2 and started == []
    err = capsys.readouterr().err
    assert err.startswith(
        f"iot-defender-tui: {path}, line 3: keymap: unknown binding ids 'start-audit', 'bogus'; known ids: "
    )
    assert "schedules-run-audit" in err and "refresh" in err
    assert cli.main(["journal"]) == 2, "a broken config stops every app command alike"


def test_a_misspelt_keymap_id_gets_a_suggestion_and_ignore_config_starts_with_defaults(config, capsys):
    config('[keymap]\nrefrseh = "f5"\n')
    assert cli.main(["--ignore-config", "journal"]) == 0
    err = capsys.readouterr().err
    assert "unknown binding id 'refrseh' (did you mean 'refresh'?)" in err
    assert "starting with the default settings" in err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["journal", "--limit", "abc"], "argument --limit: expected a whole number ≥ 1, got 'abc'"),
        (["journal", "--limit", "0"], "argument --limit: expected a whole number ≥ 1, got '0'"),
        (["journal", "--limit", ARABIC_80], f"≥ 1 in digits 0-9, got '{ARABIC_80}'"),
        (["sandbox", "--port", "70000"], "--port: expected a whole number from 0 to 65535, got '70000'"),
        (["--devices", "-3"], "argument --devices: expected a whole number from 0 to 1000000, got '-3'"),
        (["sandbox", "--seed", "x"], "argument --seed: expected a whole number, got 'x'"),
        (["sandbox", "--throttle-rate", "2"], "--throttle-rate: expected a number from 0 to 1, got '2'"),
        (["sandbox", "--day-seconds", "0"], "expected a number more than 0 and at most 315360000, got '0'"),
        (["sandbox", "--audit-seconds", "nan"], "expected a number from 0 to 315360000, got 'nan'"),
    ],
)
def test_a_bad_number_flag_says_what_it_expected_and_what_it_got(capsys, argv, says):
    err = _refused(capsys, *argv)
    assert says in err and "invalid" not in err and "e+" not in err, err
