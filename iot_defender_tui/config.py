"""Where the app keeps its files, and the user's TOML settings.

The config file is only ever read: a broken file is reported (file, line, key) and left exactly as it
is, so a typo never costs the user the rest of their settings.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "iot-defender-tui"
HOME_ENV = "IOT_DEFENDER_TUI_HOME"
CONFIG_FILE = "config.toml"
JOURNAL_FILE = "journal.sqlite3"
HISTORY_FILE = "audit-history.sqlite3"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser().absolute() if value else None


def config_dir() -> Path:
    home = _home()
    return home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    home = _home()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    return config_dir() / CONFIG_FILE


def journal_path() -> Path:
    return data_dir() / JOURNAL_FILE


def history_path() -> Path:
    return data_dir() / HISTORY_FILE


class _Paths:
    """`paths.journal_path()` etc.; the environment is read on every call so tests can redirect it."""

    config_dir = staticmethod(config_dir)
    data_dir = staticmethod(data_dir)
    cache_dir = staticmethod(cache_dir)
    config_path = staticmethod(config_path)
    journal_path = staticmethod(journal_path)


paths = _Paths()


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file, and the line and key when known."""

    def __init__(self, path: Path, problem: str, *, line: int | None = None, key: str | None = None):
        self.path = path
        self.problem = problem
        self.line = line
        self.key = key
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class OrganizationSettings:
    """The `[organization]` table: every ACTIVE account of the AWS Organization, in each region, as a
    context (aws/organization.py lists them). Here, with the other settings, because this layer is below
    aws/ and checks the file; the contexts themselves are made in aws/."""

    regions: tuple[str, ...]
    role_name: str = "OrganizationAccountAccessRole"  # assumed in each member account
    profile: str | None = None  # the management (or delegated administrator) account's; None: the app's
    read_only: bool = False  # every organization context refuses changes
    accounts: tuple[str, ...] = ()  # only these account ids; empty: all
    exclude: tuple[str, ...] = ()  # never these


@dataclass(frozen=True, slots=True)
class Settings:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    read_only: bool = False
    rate_limit: bool = True  # pace requests to AWS's per-API quotas
    theme: str | None = None
    audit_poll_seconds: float = 1.0
    mitigation_poll_seconds: float = 1.0
    idle_poll_seconds: float = 30.0
    keymap: dict[str, str] = field(default_factory=dict)
    # The `[[contexts]]` tables, checked but kept as plain tables: aws/contexts.py makes them Contexts
    # (this layer is below aws/). Each has "name" and "read_only", and "profile", "region", "role_arn"
    # when set.
    contexts: tuple[dict[str, Any], ...] = ()
    organization: OrganizationSettings | None = None
    # Not settings: where they came from, and the problem that made us fall back to defaults.
    source: Path | None = field(default=None, compare=False)
    error: ConfigError | None = field(default=None, compare=False)


_STRING_KEYS = ("profile", "region", "endpoint_url", "theme")
_POLL_KEYS = ("audit_poll_seconds", "mitigation_poll_seconds", "idle_poll_seconds")
_BOOL_KEYS = ("read_only", "rate_limit")
_KNOWN_KEYS = (*_STRING_KEYS, *_BOOL_KEYS, *_POLL_KEYS, "keymap", "contexts", "organization")
_CONTEXT_KEYS = ("name", "profile", "region", "role_arn", "read_only", "account_id")
_ORGANIZATION_KEYS = ("regions", "role_name", "profile", "read_only", "accounts", "exclude")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
# An IAM role's ARN (arn:aws:iam::123456789012:role/path/Name), any partition.
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}")
_MAX_POLL_SECONDS = 3600.0

# A region's shape (us-east-1, us-gov-west-1, cn-north-1), ASCII only; whether AWS has IoT there is
# learned when connecting. Binding ids are the app's own (lower-case words joined by '-' or '_').
REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}")
_BINDING_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})


def region_problem(value: str) -> str | None:
    if REGION.fullmatch(value):
        return None
    return f"not an AWS region name such as us-east-1: {value!r}"


def endpoint_problem(value: str) -> str | None:
    """Why `value` cannot be an endpoint URL, or None."""
    if not value.isascii() or not value.isprintable():
        return f"an endpoint URL is printable ASCII: {value!r}"
    try:
        url = urllib.parse.urlsplit(value)
        url.port  # noqa: B018  (raises for a port out of 0-65535)
    except ValueError as err:
        return f"not a URL ({err}): {value!r}"
    if url.scheme not in ("http", "https") or not url.hostname:
        return f"must be http:// or https:// and a host, e.g. http://127.0.0.1:8765, not {value!r}"
    return None


def profile_problem(value: str) -> str | None:
    if value and value.isprintable() and not any(c.isspace() for c in value) and len(value) <= 256:
        return None
    return f"a profile name is printable, without spaces, at most 256 characters: {value!r}"


def theme_problem(value: str) -> str | None:
    # textual.theme only (not the App): a config check must not start the TUI's machinery.
    from textual.theme import BUILTIN_THEMES

    if value in BUILTIN_THEMES:
        return None
    return f"unknown theme {value!r}; themes: {', '.join(sorted(BUILTIN_THEMES))}"


def key_problem(value: str) -> str | None:
    """Why `value` is not a Textual key list such as "ctrl+r" or "f5,r", or None."""
    from textual.keys import KEY_ALIASES, REPLACED_KEYS, Keys, key_to_character

    # Textual's short names ("slash", "minus") are replacements of Unicode's ("solidus", "hyphen_minus").
    named = {k.value.rsplit("+", 1)[-1] for k in Keys} | set(KEY_ALIASES) | set(REPLACED_KEYS)
    for key in value.split(","):
        *modifiers, base = key.strip().split("+")
        unknown = [m for m in modifiers if m not in _MODIFIERS]
        if unknown or not base or (base not in named and key_to_character(base) is None):
            return f'not a key name such as "ctrl+r", "f5" or "question_mark": {key.strip()!r}'
    return None


def load_settings(path: Path | str | None = None, *, ignore_errors: bool = False) -> Settings:
    """Read the settings; the default file may be absent (defaults), an explicit one must exist.

    With `ignore_errors`, a broken file yields the defaults with `.error` set for the caller to show.
    """
    explicit = path is not None
    file = Path(path).expanduser() if explicit else config_path()
    try:
        return _load(file, explicit)
    except ConfigError as err:
        if not ignore_errors:
            raise
        return Settings(source=file, error=err)


def _load(file: Path, explicit: bool) -> Settings:
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(file, "no such config file") from None
        return Settings()
    except OSError as err:
        raise ConfigError(file, f"cannot read the config file: {err.strerror or err}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ConfigError(file, "the file is not UTF-8 text (TOML must be UTF-8)", line=line) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        problem, line = _split_position(str(err))
        if line is None and problem.endswith("at the end of the file"):
            line = len(text.splitlines()) or 1
        raise ConfigError(file, f"TOML syntax error: {problem}", line=line) from None
    return _settings_from(data, file, text)


_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_AT_END = re.compile(r"\s*\(at end of document\)$")


def _split_position(message: str) -> tuple[str, int | None]:
    """tomllib puts the position only in its message: "Invalid value (at line 2, column 5)"."""
    if match := _POSITION.search(message):
        return f"{message[: match.start()]} (column {match.group(2)})", int(match.group(1))
    if match := _AT_END.search(message):
        return f"{message[: match.start()]} at the end of the file", None
    return message, None


def _settings_from(data: dict[str, Any], file: Path, text: str) -> Settings:
    def fail(key: str, problem: str, table: str | None = None) -> ConfigError:
        return ConfigError(file, problem, line=_line_of(text, key, table), key=key)

    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _KNOWN_KEYS:
            hint = difflib.get_close_matches(key, _KNOWN_KEYS, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; known keys: {', '.join(_KNOWN_KEYS)}"
            raise fail(key, f"unknown key {key!r}{suggestion}")
        if key in _STRING_KEYS:
            if not isinstance(value, str) or not value.strip():
                raise fail(key, f"{key} must be a non-empty string, not {_describe(value)}")
            checks = {
                "endpoint_url": endpoint_problem,
                "region": region_problem,
                "profile": profile_problem,
                "theme": theme_problem,
            }
            if problem := checks[key](value.strip()):
                raise fail(key, f"{key}: {problem}")
            values[key] = value.strip()
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                raise fail(key, f"{key} must be true or false, not {_describe(value)}")
            values[key] = value
        elif key in _POLL_KEYS:
            # bool is an int in Python; `true` is never a number of seconds.
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise fail(key, f"{key} must be a number of seconds, not {_describe(value)}")
            if not 0 < value <= _MAX_POLL_SECONDS:
                raise fail(key, f"{key} must be more than 0 and at most {_MAX_POLL_SECONDS:g}, not {value}")
            values[key] = float(value)
        elif key == "contexts":
            values[key] = _contexts(value, file, text)
        elif key == "organization":
            values[key] = _organization(value, fail)
        else:
            values[key] = _keymap(value, fail)
    return dataclasses.replace(Settings(source=file), **values)


def _keymap(value: object, fail: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise fail(
            "keymap", f'keymap must be a table ([keymap]) of binding id = "key", not {_describe(value)}'
        )
    keymap: dict[str, str] = {}
    for binding, key in value.items():
        if not isinstance(key, str) or not key.strip():
            raise fail(
                binding,
                f'keymap.{binding} must be a key name such as "ctrl+r", not {_describe(key)}',
                "keymap",
            )
        if not _BINDING_ID.fullmatch(binding):
            raise fail(binding, f"keymap: {binding!r} is not a binding id such as refresh", "keymap")
        if problem := key_problem(key):
            raise fail(binding, f"keymap.{binding}: {problem}", "keymap")
        keymap[binding] = key.strip()
    return keymap


def _contexts(value: object, file: Path, text: str) -> tuple[dict[str, Any], ...]:
    lines = _context_lines(text)

    def fail(index: int, key: str | None, problem: str) -> ConfigError:
        line = lines[index] if index < len(lines) else _line_of(text, "contexts", None)
        if key is not None and index < len(lines):
            line = _key_line(text, key, line) or line
        return ConfigError(file, f"contexts[{index + 1}]: {problem}", line=line, key=key)

    if not isinstance(value, list) or not all(isinstance(table, dict) for table in value):
        raise ConfigError(
            file,
            f'contexts must be [[contexts]] tables with name = "…", not {_describe(value)}',
            line=_line_of(text, "contexts", None),
            key="contexts",
        )
    tables: list[dict[str, Any]] = []
    for index, table in enumerate(value):
        for key in table:
            if key not in _CONTEXT_KEYS:
                hint = difflib.get_close_matches(key, _CONTEXT_KEYS, n=1)
                known = f"; known keys: {', '.join(_CONTEXT_KEYS)}"
                suggestion = f"; did you mean {hint[0]!r}?" if hint else known
                raise fail(index, key, f"unknown key {key!r}{suggestion}")
        if "name" not in table:
            raise fail(index, None, 'a context needs a name (name = "prod")')
        checked: dict[str, Any] = {"read_only": False}
        for key, raw in table.items():
            if key == "read_only":
                if not isinstance(raw, bool):
                    raise fail(index, key, f"read_only must be true or false, not {_describe(raw)}")
                checked[key] = raw
                continue
            if not isinstance(raw, str) or not raw.strip():
                raise fail(index, key, f"{key} must be a non-empty string, not {_describe(raw)}")
            problem = {
                "name": profile_problem,  # a name is typed after --context: the same shape as a profile's
                "profile": profile_problem,
                "region": region_problem,
                "role_arn": role_arn_problem,
                "account_id": account_id_problem,
            }[key](raw.strip())
            if problem:
                raise fail(index, key, f"{key}: {problem}")
            checked[key] = raw.strip()
        if any(other["name"] == checked["name"] for other in tables):
            raise fail(index, "name", f"a second context named {checked['name']!r}; names are unique")
        tables.append(checked)
    return tuple(tables)


def _organization(value: object, fail: Any) -> OrganizationSettings:
    if not isinstance(value, dict):
        raise fail("organization", f"organization must be a table ([organization]), not {_describe(value)}")

    def problem(key: str, text: str) -> ConfigError:
        return fail(key, f"organization.{key}: {text}", "organization")

    for key in value:
        if key not in _ORGANIZATION_KEYS:
            hint = difflib.get_close_matches(key, _ORGANIZATION_KEYS, n=1)
            known = f"known keys: {', '.join(_ORGANIZATION_KEYS)}"
            raise problem(key, f"unknown key; did you mean {hint[0]!r}?" if hint else f"unknown key; {known}")
    if "regions" not in value:
        raise fail("organization", 'organization needs regions = ["us-east-1", …]')

    def strings(key: str, check: Any, what: str) -> tuple[str, ...]:
        items = value.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise problem(key, f"must be a list of {what} in quotes, not {_describe(items)}")
        for item in items:
            if text := check(item.strip()):
                raise problem(key, text)
        return tuple(dict.fromkeys(i.strip() for i in items))

    regions = strings("regions", region_problem, "region names")
    if not regions:
        raise problem("regions", 'needs at least one region, e.g. ["us-east-1"]')
    settings = OrganizationSettings(
        regions=regions,
        accounts=strings("accounts", account_id_problem, "account ids"),
        exclude=strings("exclude", account_id_problem, "account ids"),
    )
    for key, check in (("role_name", role_name_problem), ("profile", profile_problem)):
        if key in value:
            raw = value[key]
            if not isinstance(raw, str) or not raw.strip():
                raise problem(key, f"must be a non-empty string, not {_describe(raw)}")
            if text := check(raw.strip()):
                raise problem(key, text)
            settings = dataclasses.replace(settings, **{key: raw.strip()})
    if "read_only" in value:
        if not isinstance(value["read_only"], bool):
            raise problem("read_only", f"must be true or false, not {_describe(value['read_only'])}")
        settings = dataclasses.replace(settings, read_only=value["read_only"])
    return settings


def account_id_problem(value: str) -> str | None:
    if _ACCOUNT_ID.fullmatch(value):
        return None
    return f"an AWS account id is 12 digits, in quotes: {value!r}"


def role_name_problem(value: str) -> str | None:
    if _ROLE_NAME.fullmatch(value):
        return None
    return f"not an IAM role name such as OrganizationAccountAccessRole: {value!r}"


def role_arn_problem(value: str) -> str | None:
    if _ROLE_ARN.fullmatch(value):
        return None
    return f"not an IAM role ARN such as arn:aws:iam::123456789012:role/Auditor: {value!r}"


_CONTEXT_TABLE = re.compile(r"^\s*\[\[\s*contexts\s*\]\]")


def _context_lines(text: str) -> list[int]:
    """The line of each `[[contexts]]` header, in order (tomllib keeps no positions)."""
    return [n for n, line in enumerate(text.splitlines(), start=1) if _CONTEXT_TABLE.match(line)]


def _key_line(text: str, key: str, start: int) -> int | None:
    """The line of `key` in the table whose header is on line `start`, before the next table."""
    key_pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    for number, line in enumerate(text.splitlines()[start:], start=start + 1):
        if _TABLE.match(line):
            return None
        if key_pattern.match(line):
            return number
    return None


def check_keymap_ids(settings: Settings, known: Iterable[str]) -> None:
    """Raise ConfigError naming the `[keymap]` ids that are none of `known` (the UI's binding ids).

    The UI knows its ids, not this layer: the caller passes them.
    """
    known = sorted(known)
    unknown = [binding for binding in settings.keymap if binding not in known]
    if not unknown or settings.source is None:
        return
    hints = [
        f"{u!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, known, n=1)) else repr(u)
        for u in unknown
    ]
    noun = "id" if len(unknown) == 1 else "ids"
    try:
        text = settings.source.read_text(encoding="utf-8")
    except OSError:
        text = ""
    raise ConfigError(
        settings.source,
        f"keymap: unknown binding {noun} {', '.join(hints)}; known ids: {', '.join(known)}",
        line=_line_of(text, unknown[0], "keymap"),
        key=unknown[0],
    )


def _describe(value: object) -> str:
    kind = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
    return f"{kind} ({value!r})" if not isinstance(value, dict | list) else kind


_TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")


def _line_of(text: str, key: str, table: str | None) -> int | None:
    """The line defining `key` in `table` (None: top level); tomllib keeps no positions for values."""
    current: str | None = None
    key_pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*[=.]""")
    for number, line in enumerate(text.splitlines(), start=1):
        if header := _TABLE.match(line):
            current = header.group(1).strip("[] ")
            if table is None and current.split(".")[0].strip("\"'") == key:
                return number
            continue
        if current == table and key_pattern.match(line):
            return number
    # An inline table (`keymap = { … }`) keeps its members on the table's own line.
    return _line_of(text, table, None) if table else None
