"""`mitigate` (issue 15, point 1) on the lab: the plan printed, nothing started without --yes off a
terminal, started and journaled with it, followed with --wait to each finding's outcome, and exit 1 when an
execution failed."""

from __future__ import annotations

import pytest

from iot_defender_tui import cli, cli_mitigate
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.config import journal_path
from tests.support.mitigation import NEEDS, SHARED, make_role
from tests.support.models import lab_task_id
from tests.support.sandbox import make_client


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_mitigate, "POLL_SECONDS", 0.05)


def deactivate_action(url: str, permissions: list[str]) -> str:
    make_client(url).create_mitigation_action(
        actionName="Deactivate", roleArn=make_role(url, "MitigateRole", permissions),
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )  # fmt: skip
    return lab_task_id(make_client(url))


def mitigate(task_id: str, *more: str) -> int:
    return cli.main(["mitigate", "--task", task_id, "--check", SHARED, "--action", "Deactivate", *more])


def started() -> int:
    with Journal.open(journal_path(), read_only=True) as journal:
        return sum(e.operation == "StartAuditMitigationActionsTask" for e in journal.entries(None))


def test_the_plan_then_the_outcome(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    audit = deactivate_action(lab, NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    iot = make_client(lab)
    finding = iot.list_audit_findings(taskId=audit, checkName=SHARED)["findings"][0]
    cert = finding["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]

    assert mitigate(audit) == 3  # not a terminal, no --yes: the plan only
    out = capsys.readouterr().out
    assert "Apply Deactivate (UPDATE_DEVICE_CERTIFICATE" in out and finding["findingId"] in out
    assert started() == 0

    assert mitigate(audit, "--yes", "--wait") == 0
    out = capsys.readouterr().out
    assert f"{finding['findingId']}" in out and "Deactivate  COMPLETED" in out
    assert started() == 1
    status = iot.describe_certificate(certificateId=cert)["certificateDescription"]["status"]
    assert status == "INACTIVE"


def test_a_failed_execution_exits_1(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    audit = deactivate_action(lab, [])  # a role allowed nothing: AWS's execution fails
    assert mitigate(audit, "--yes", "--wait") == 1
    out, err = capsys.readouterr()
    assert "Deactivate  FAILED" in out
    assert "did not succeed" in err


def test_findings_of_another_check_are_refused(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    audit = deactivate_action(lab, NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    logging = make_client(lab).list_audit_findings(taskId=audit, checkName="LOGGING_DISABLED_CHECK")
    other = logging["findings"][0]["findingId"]
    assert mitigate(audit, "--finding", other, "--yes") == 2
    assert f"not findings of {SHARED}" in capsys.readouterr().err
    assert started() == 0
