"""How check tests run an audit (helpers the other test_checks_* modules import), and the checks every
account has: the evaluator registry and LOGGING_DISABLED_CHECK."""

from __future__ import annotations

from typing import Any

from iot_defender_tui.sandbox import audits
from iot_defender_tui.sandbox.checks import CHECKS
from iot_defender_tui.sandbox.engine.registry import EVALUATORS
from iot_defender_tui.sandbox.state import CheckRun
from tests.support.factories import configure_audit, defender_state


def run_audit(iot: Any, *checks: str) -> tuple[dict[str, CheckRun], list[dict[str, Any]]]:
    """Start an on-demand audit of `checks` over HTTP, finish it now, and list its findings over HTTP."""
    configure_audit(iot, *checks)
    task_id = iot.start_on_demand_audit_task(targetCheckNames=list(checks))["taskId"]
    state = defender_state()
    task = state.tasks[task_id]
    audits.run_to_completion(state, task)
    findings: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"taskId": task_id, "maxResults": 250}
    while True:
        page = iot.list_audit_findings(**kwargs)
        findings.extend(page["findings"])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    return task.checks, findings


def audit_check(iot: Any, check: str) -> tuple[CheckRun, list[dict[str, Any]]]:
    runs, findings = run_audit(iot, check)
    run = runs[check]
    assert run.status != "FAILED", run.message
    return run, findings


def ids(findings: list[dict[str, Any]], key: str) -> set[str]:
    return {f["nonCompliantResource"]["resourceIdentifier"][key] for f in findings}


def test_every_check_has_an_evaluator() -> None:
    assert set(EVALUATORS) == set(CHECKS)


def test_logging_never_configured_is_non_compliant(iot) -> None:
    run, findings = audit_check(iot, "LOGGING_DISABLED_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert run.total_resources == 1
    (finding,) = findings
    assert finding["severity"] == "LOW"
    assert finding["nonCompliantResource"] == {
        "resourceType": "ACCOUNT_SETTINGS",
        "resourceIdentifier": {"account": "123456789012"},
    }
    assert finding["reasonForNonComplianceCode"] == "LOGGING_DISABLED"


def test_logging_disabled_in_both_versions_is_non_compliant(iot) -> None:
    state = defender_state()
    state.logging_v1 = {"roleArn": "arn:aws:iam::123456789012:role/Log", "logLevel": "DISABLED"}
    state.logging_v2 = {
        "roleArn": "arn:aws:iam::123456789012:role/Log",
        "defaultLogLevel": "INFO",
        "disableAllLogs": True,
    }
    run, _ = audit_check(iot, "LOGGING_DISABLED_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"


def test_logging_enabled_in_either_version_is_compliant(iot) -> None:
    state = defender_state()
    state.logging_v2 = {
        "roleArn": "arn:aws:iam::123456789012:role/Log",
        "defaultLogLevel": "ERROR",
        "disableAllLogs": False,
    }
    run, findings = audit_check(iot, "LOGGING_DISABLED_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])
    state.logging_v2 = None
    state.logging_v1 = {"roleArn": "arn:aws:iam::123456789012:role/Log", "logLevel": "WARN"}
    run, findings = audit_check(iot, "LOGGING_DISABLED_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])
