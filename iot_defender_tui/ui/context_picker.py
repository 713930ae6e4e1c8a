"""`:` — pick the context to switch to (k9s's `:ctx`): its name, region, account once known, read-only
mode and which is shown, filtered as you type by letters in order ("ew1" finds "eu-west-1"); enter
switches, escape cancels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .pickers import Entry, PickerModal

if TYPE_CHECKING:
    from ..aws.contexts import Context


def fuzzy(needle: str, text: str) -> bool:
    """Every character of `needle` in `text`, in order (both lower case)."""
    rest = iter(text)
    return all(char in rest for char in needle)


def context_label(context: Context, account: str | None, read_only: bool, shown: bool = False) -> str:
    parts = [context.name, context.region or "default region", f"account {account}" if account else ""]
    parts += ["read-only" if read_only else "", "(shown)" if shown else ""]
    return "  ".join(p for p in parts if p)


class ContextPicker(PickerModal):
    """Dismisses with the chosen context's name, or None."""

    def __init__(self, contexts: Sequence[tuple[Context, str | None, bool, bool]]) -> None:
        """(context, its account once known, read-only, shown now) for each context."""
        entries = [(context_label(*entry), entry[0].name) for entry in contexts]

        async def load() -> list[Entry]:
            return entries

        super().__init__("Switch to context", load)

    def matches(self, needle: str, entry: Entry) -> bool:
        return fuzzy(needle.replace(" ", ""), entry[0].lower())
