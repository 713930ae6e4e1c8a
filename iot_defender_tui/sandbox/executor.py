"""The mitigation executor: applies audit mitigation actions task by task, one finding at a time."""

from __future__ import annotations

from .state import DefenderState


def advance(state: DefenderState, now: float) -> None:
    """Process the findings whose turn has come in every IN_PROGRESS mitigation task."""
