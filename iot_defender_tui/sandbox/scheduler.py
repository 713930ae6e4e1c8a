"""Scheduled audits fire on the sandbox calendar (a day lasts `--day-seconds`)."""

from __future__ import annotations

from .state import DefenderState


def advance(state: DefenderState, now: float) -> None:
    """Start a SCHEDULED_AUDIT_TASK for every schedule due on the current sandbox day."""
