"""What the Results pane lists, for tests: every finding of its findings table, in the list's order."""

from __future__ import annotations

from iot_defender_tui.aws.models import Finding


def listed(pane) -> list[Finding]:
    """The findings the table shows (all of them unless a filter is typed), in order; read from the
    history for a stored list, so only for a test's small lists."""
    return pane.stream.findings_of(pane.table.visible_keys())
