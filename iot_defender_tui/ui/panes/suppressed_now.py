"""Which listed findings have a suppression in force now, beside AWS's isSuppressed (as of their audit).

AWS reports a finding's isSuppressed as it was when its audit ran ("whether the audit finding was
suppressed or not during reporting", API_AuditFinding); a suppression made later leaves it as it was. So
the Results pane shows both, and stays the same across a reload: AWS's value, and whether the check has a
suppression on the resource now, from one ListAuditSuppressions per list loaded (one set lookup per row).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ...aws.models import Finding, Suppression


def suppression_key(check_name: str, identifier: Mapping[str, Any]) -> str:
    """What one suppression covers: the check and the resource (whose identifier is a dict)."""
    return check_name + json.dumps(identifier, sort_keys=True, default=str)


def resource_key(finding: Finding) -> str:
    return suppression_key(finding.check_name, finding.resource.identifier)


def supp_cell(as_of_audit: bool, now: bool | None) -> str:
    """The Supp column: "yes" suppressed in the audit's report (and still, or not known), "now" only since
    (a suppression made after the audit), "was" in the report but no longer; `now` None: not known."""
    if now is None or now == as_of_audit:
        return "yes" if as_of_audit else ""
    return "now" if now else "was"


class InForce:
    """The suppressions in force now, as keys (suppression_key)."""

    def __init__(self, suppressions: Iterable[Suppression] = (), now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        self._keys: set[str] = set()
        self._checks: set[str] = set()  # a cheap test first: most rows' checks have no suppression
        for s in suppressions:
            if s.indefinitely or s.expiration is None or s.expiration > now:
                self._keys.add(suppression_key(s.check_name, s.resource.identifier))
                self._checks.add(s.check_name)

    def __contains__(self, finding: Finding) -> bool:
        return finding.check_name in self._checks and resource_key(finding) in self._keys

    def changed(self, findings: Iterable[Finding], suppressed: bool) -> None:
        """The pane suppressed (or unsuppressed) these findings' resources."""
        for finding in findings:
            if suppressed:
                self._keys.add(resource_key(finding))
                self._checks.add(finding.check_name)
            else:
                self._keys.discard(resource_key(finding))

    def shown_differently(self, findings: Iterable[Finding]) -> list[Finding]:
        """Those whose Supp cell this changes from AWS's value alone."""
        return [f for f in findings if f.is_suppressed or f in self]
