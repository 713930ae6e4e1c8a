"""How times, identifiers and counts read on screen, the same in every pane and screen (plain str)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache


def when(moment: datetime | None) -> str:
    """A moment in full, local time: "2026-11-03 14:05:09"; "-" for none."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


@lru_cache(maxsize=4096)  # findings of one audit share a few times: one str each, formatted once
def short_time(moment: datetime | None) -> str:
    """A moment in a list's narrow column, local time: "11-03 14:05"; "-" for none."""
    return moment.astimezone().strftime("%m-%d %H:%M") if moment else "-"


def short_id(identifier: str, keep: int = 6) -> str:
    """A long id cut to its first `keep` characters and an ellipsis (a certificate's 64 hex digits)."""
    return identifier if len(identifier) <= keep + 1 else f"{identifier[:keep]}…"


def leading_number(text: str) -> int:
    """'3/10' → 3, '7' → 7, '-' → -1: a count column's sort key, so counts sort as numbers."""
    head = text.split("/", 1)[0]
    return int(head) if head.isdigit() else -1


def plural(count: int, word: str, many: str | None = None) -> str:
    """`count` and `word`, in the plural unless it is 1 (`many` when adding an "s" is wrong)."""
    return f"{count:,} {word if count == 1 else many or f'{word}s'}"  # 1,000,000 findings, not 1000000
