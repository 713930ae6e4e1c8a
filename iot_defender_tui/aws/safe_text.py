"""The one boundary of AWS's text: what a reply brings is shown, never obeyed, by a terminal.

Every string a model keeps from a reply passes through `safe` (through `reply_fields.text` and friends);
the CLI's journal listing and the UI's error texts use it directly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# What AWS's text must not bring to the user's terminal: control characters (ESC above all, which drives
# the terminal; C1's CSI too), format characters (bidi overrides that reorder what is shown, zero-width
# and tag characters that hide text), line and paragraph separators, and lone surrogates (which JSON can
# carry and no terminal encoding can write). These are Unicode's Cc, Cf, Zl, Zp and Cs code points but
# newline and tab, which free text keeps. AWS names and ids never contain any of them; a device's MQTT
# client id or a CA's subject may.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def safe(value: str) -> str:
    """`value` with the code points above shown as \\xNN, \\uNNNN or \\UNNNNNNNN (newlines and tabs kept).

    The one boundary of AWS's text: every string a model keeps from a reply passes through it.
    """
    if value.isprintable():  # none of them is printable: most text skips the regex
        return value
    return _UNSAFE.sub(_escape, value)


def safe_str(value: Any) -> str:
    """Any value of a reply (a dict key, a list item, a nested member) as safe text."""
    return safe(value if type(value) is str else str(value))


def safe_map(value: Any) -> dict[str, str]:
    """A string-to-string member (additionalInfo, a check's configuration), keys and values made safe."""
    if not isinstance(value, Mapping):
        return {}
    # The fast path of `safe` inlined: a third of a big audit's findings carry additionalInfo.
    return {
        (k if type(k) is str and k.isprintable() else safe_str(k)): (
            v if type(v) is str and v.isprintable() else safe_str(v)
        )
        for k, v in value.items()
    }
