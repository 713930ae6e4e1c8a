"""Start/Describe/List/CancelAuditMitigationActionsTask(s) and ListAuditMitigationActionsExecutions."""

from __future__ import annotations

from .base import DefenderResponse


class MitigationTasksMixin(DefenderResponse):
    pass
