"""Create/Describe/Update/Delete/ListAuditSuppression(s)."""

from __future__ import annotations

from .base import DefenderResponse


class SuppressionsMixin(DefenderResponse):
    pass
