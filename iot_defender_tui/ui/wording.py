"""Counts in words: "1 check", "2 checks", never "1 checks" nor "check(s)"."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """`count` and `word`, in the plural unless it is 1 (`many` when adding an "s" is wrong)."""
    return f"{count} {word if count == 1 else many or f'{word}s'}"
