"""ListAuditFindings, DescribeAuditFinding, ListRelatedResourcesForAuditFinding."""

from __future__ import annotations

from .base import DefenderResponse


class FindingsMixin(DefenderResponse):
    pass
