"""Create/Describe/Update/Delete/ListScheduledAudit(s)."""

from __future__ import annotations

from .base import DefenderResponse


class ScheduledAuditsMixin(DefenderResponse):
    pass
