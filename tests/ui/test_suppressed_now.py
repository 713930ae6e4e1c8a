"""The Supp column: AWS's isSuppressed (as of the audit, API_AuditFinding) beside the suppressions now."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from iot_defender_tui.aws.models import Finding, ResourceRef, Suppression
from iot_defender_tui.ui.panes.results_views import finding_row
from iot_defender_tui.ui.panes.suppressed_now import InForce, supp_cell

CHECK = "DEVICE_CERTIFICATE_SHARED_CHECK"
NOW = datetime(2026, 12, 3, tzinfo=UTC)


def finding(cert: str, suppressed: bool = False) -> Finding:
    return Finding(
        finding_id=f"f-{cert}", task_id="t", check_name=CHECK, severity="CRITICAL",
        resource=ResourceRef.from_identifier({"deviceCertificateId": cert}), reason=None, reason_code=None,
        finding_time=None, task_start_time=None, is_suppressed=suppressed, related=(),
    )  # fmt: skip


def suppression(cert: str, expiration: datetime | None, indefinitely: bool = False) -> Suppression:
    resource = ResourceRef.from_identifier({"deviceCertificateId": cert})
    return Suppression(CHECK, resource, expiration, indefinitely, None)


def test_supp_cell_says_as_of_the_audit_and_now() -> None:
    assert [supp_cell(a, None) for a in (True, False)] == ["yes", ""]  # not known: AWS's value alone
    assert supp_cell(True, True) == "yes" and supp_cell(False, False) == ""
    assert supp_cell(False, True) == "now" and supp_cell(True, False) == "was"


def test_in_force_skips_expired_and_follows_the_panes_changes() -> None:
    in_force = InForce(
        [suppression("a", NOW + timedelta(days=1)), suppression("b", NOW - timedelta(days=1)),
         suppression("c", None, indefinitely=True)],
        now=NOW,
    )  # fmt: skip
    a, b, c = finding("a"), finding("b", suppressed=True), finding("c")
    assert [f in in_force for f in (a, b, c)] == [True, False, True]
    assert finding_row(a, a in in_force)[-1] == "now" and finding_row(b, b in in_force)[-1] == "was"
    assert in_force.shown_differently([a, b, c, finding("d")]) == [a, b, c]
    in_force.changed([a], False)
    in_force.changed([dataclasses.replace(b, finding_id="other")], True)  # one suppression: its resource
    assert [f in in_force for f in (a, b)] == [False, True]
