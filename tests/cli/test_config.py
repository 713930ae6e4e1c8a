"""The TOML config file: defaults, values, errors that name file, line and key, and never a rewrite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from iot_defender_tui.config import ConfigError, Settings, load_settings, paths

FULL = """\
# my settings
profile = "prod-admin"
region = "eu-west-1"
endpoint_url = "http://127.0.0.1:8765"
read_only = true
rate_limit = false
theme = "textual-light"
audit_poll_seconds = 1
mitigation_poll_seconds = 0.5
idle_poll_seconds = 60.0

[keymap]
refresh = "ctrl+r"
"schedules-run-audit" = "f5"
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IOT_DEFENDER_TUI_HOME", str(tmp_path))
    return tmp_path


def _write(home: Path, text: str | bytes) -> Path:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def _error(home: Path, text: str | bytes) -> ConfigError:
    path = _write(home, text)
    before = path.read_bytes()
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert path.read_bytes() == before, "a broken config file must be left exactly as it was"
    assert raised.value.path == path and str(raised.value).startswith(f"{path}")
    return raised.value


def test_paths_follow_the_home_override(home: Path):
    assert paths.config_path() == home / "config" / "config.toml"
    assert paths.journal_path() == home / "data" / "journal.sqlite3"
    assert paths.cache_dir() == home / "cache"


def test_paths_default_to_the_platform_dirs(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("IOT_DEFENDER_TUI_HOME", raising=False)
    assert paths.config_path().parent == Path(
        platformdirs.user_config_dir("iot-defender-tui", appauthor=False)
    )
    assert paths.journal_path().parent == Path(
        platformdirs.user_data_dir("iot-defender-tui", appauthor=False)
    )
    assert paths.cache_dir() == Path(platformdirs.user_cache_dir("iot-defender-tui", appauthor=False))


def test_defaults_when_the_file_is_absent(home: Path):
    settings = load_settings()
    assert settings == Settings()
    assert (settings.profile, settings.region, settings.read_only, settings.keymap) == (None, None, False, {})
    assert (settings.audit_poll_seconds, settings.mitigation_poll_seconds, settings.idle_poll_seconds) == (
        1.0, 1.0, 30.0,
    )  # fmt: skip
    assert settings.rate_limit is True
    assert not (home / "config").exists(), "loading must not create the file"


def test_values_are_read(home: Path):
    path = _write(home, FULL)
    settings = load_settings()
    assert settings.profile == "prod-admin" and settings.region == "eu-west-1"
    assert settings.endpoint_url == "http://127.0.0.1:8765"
    assert settings.read_only is True and settings.theme == "textual-light"
    assert settings.rate_limit is False
    assert (settings.audit_poll_seconds, settings.mitigation_poll_seconds, settings.idle_poll_seconds) == (
        1.0, 0.5, 60.0,
    )  # fmt: skip
    assert settings.keymap == {"refresh": "ctrl+r", "schedules-run-audit": "f5"}
    assert settings.source == path and settings.error is None
    assert load_settings(path) == settings


def test_syntax_error_names_file_and_line(home: Path):
    err = _error(home, 'profile = "prod"\nregion = \nread_only = true\n')
    assert err.line == 2 and ", line 2:" in str(err) and "TOML syntax error" in str(err)


def test_unterminated_string_names_the_last_line(home: Path):
    err = _error(home, 'profile = "prod"\nregion = "eu-west-1\n')
    assert err.line is not None and err.line >= 2 and ", line" in str(err)


def test_unknown_key_is_named(home: Path):
    err = _error(home, 'profile = "prod"\n\nprofle = "typo"\n')
    assert (err.key, err.line) == ("profle", 3)
    assert "unknown key 'profle'" in str(err) and "did you mean 'profile'" in str(err)


def test_unknown_table_is_named(home: Path):
    err = _error(home, 'region = "eu-west-1"\n[polling]\naudit = 1\n')
    assert (err.key, err.line) == ("polling", 2)


@pytest.mark.parametrize(
    ("text", "key", "line", "says"),
    [
        ('read_only = "yes"\n', "read_only", 1, "true or false"),
        ('region = "eu-west-1"\nrate_limit = 0\n', "rate_limit", 2, "rate_limit must be true or false"),
        ('region = "eu-west-1"\naudit_poll_seconds = true\n', "audit_poll_seconds", 2, "number of seconds"),
        ('idle_poll_seconds = "30"\n', "idle_poll_seconds", 1, "number of seconds"),
        ("mitigation_poll_seconds = 0\n", "mitigation_poll_seconds", 1, "more than 0"),
        ("profile = 42\n", "profile", 1, "string"),
        ('endpoint_url = "localhost:8765"\n', "endpoint_url", 1, "http://"),
        ('keymap = "ctrl+r"\n', "keymap", 1, "table"),
        ('theme = "nord"\n\n[keymap]\nrefresh = "r"\nquit = 3\n', "quit", 5, "key name"),
    ],
)
def test_wrong_type_is_named(home: Path, text: str, key: str, line: int, says: str):
    err = _error(home, text)
    assert (err.key, err.line) == (key, line)
    assert key in str(err) and says in str(err) and f", line {line}:" in str(err)


def test_not_utf8_is_named(home: Path):
    err = _error(home, b'profile = "prod"\ntheme = "\xff"\n')
    assert err.line == 2 and "UTF-8" in str(err)


def test_ignore_errors_gives_defaults_and_the_error(home: Path):
    path = _write(home, 'read_only = true\nregion = "eu-west-1"\nbogus = 1\n')
    settings = load_settings(ignore_errors=True)
    assert settings == Settings(), "a broken file is not half-applied"
    assert settings.error is not None and settings.error.key == "bogus" and settings.source == path


def test_an_explicit_missing_file_is_an_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "nope.toml")


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IOT_DEFENDER_TUI_HOME": str(home)}
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, "-m", "iot_defender_tui", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_cli_refuses_a_broken_config_and_leaves_it_alone(home: Path):
    path = _write(home, 'region = "eu-west-1"\nread_only = maybe\n')
    before = path.read_bytes()
    refused = _cli(home, "journal")
    assert refused.returncode == 2 and refused.stdout == ""
    assert f"{path}, line 2:" in refused.stderr and "--ignore-config" in refused.stderr
    assert "Traceback" not in refused.stderr

    for args in (["--ignore-config", "journal"], ["journal", "--ignore-config"]):
        started = _cli(home, *args)
        assert started.returncode == 0, started.stderr
        assert "journal is empty" in started.stdout
        assert f"{path}, line 2:" in started.stderr and "default settings" in started.stderr
    assert path.read_bytes() == before


def test_cli_config_flag_reads_that_file(home: Path, tmp_path: Path):
    elsewhere = tmp_path / "other.toml"
    elsewhere.write_text("colour = 'blue'\n")
    refused = _cli(home, "--config", str(elsewhere), "journal")
    assert refused.returncode == 2 and f"{elsewhere}, line 1:" in refused.stderr
    good = tmp_path / "good.toml"
    good.write_text(FULL)
    assert _cli(home, "journal", "--config", str(good)).returncode == 0
    missing = _cli(home, "--config", str(tmp_path / "missing.toml"), "journal")
    assert missing.returncode == 2 and "no such config file" in missing.stderr
