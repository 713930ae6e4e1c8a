"""The JSON the commands write: orjson where it writes what json would, json where it would not."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from iot_defender_tui.export import _dumps

REFERENCE = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(values)
@example({"reason": "\x1b]8;;http://evil\x07click\x1b]8;;\x07", "id": "\u202eabc", "c1": "\x9b31m"})
@example({"del": "a\x7fb", "lone": "\ud800", "big": 2**70})
def test_every_line_is_what_json_writes(value):
    line = _dumps(value)
    assert line == REFERENCE(value)
    assert line.isascii() and "\x1b" not in line and "\x7f" not in line  # nothing a terminal acts on
    assert json.loads(line) == value


def test_keys_that_are_not_strings_are_written_as_json_writes_them():
    assert _dumps({1: "a", None: "b"}) == '{"1":"a","null":"b"}'
