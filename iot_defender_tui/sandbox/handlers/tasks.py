"""StartOnDemandAuditTask, ListAuditTasks, DescribeAuditTask, CancelAuditTask."""

from __future__ import annotations

from .base import DefenderResponse


class AuditTasksMixin(DefenderResponse):
    pass
