"""`revert --mitigation-task ID` (issue 15, point 2) on the lab: the certificate a mitigation deactivated is
active again, the change journaled; what was not changed, or cannot be undone, is said."""

from __future__ import annotations

import time

import pytest

from iot_defender_tui import cli
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.config import journal_path
from tests.support.mitigation import NEEDS, SHARED, make_role
from tests.support.models import lab_task_id
from tests.support.sandbox import make_client


def mitigate(url: str, action: str, params: dict, needs: str) -> tuple[str, str]:
    """A finished mitigation task of `action` on the lab's shared-certificate finding: (task id, cert id)."""
    iot = make_client(url)
    iot.create_mitigation_action(actionName=action, roleArn=make_role(url, f"{action}Role", NEEDS[needs]),
                                 actionParams=params)  # fmt: skip
    finding = iot.list_audit_findings(taskId=lab_task_id(iot), checkName=SHARED)["findings"][0]
    task_id = iot.start_audit_mitigation_actions_task(
        taskId=f"revert-{action}", target={"findingIds": [finding["findingId"]]},
        auditCheckToActionsMapping={SHARED: [action]}, clientRequestToken=f"revert-{action}",
    )["taskId"]  # fmt: skip
    for _ in range(200):
        if iot.describe_audit_mitigation_actions_task(taskId=task_id)["taskStatus"] == "COMPLETED":
            break
        time.sleep(0.05)
    return task_id, finding["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]


def status(url: str, cert_id: str) -> str:
    return make_client(url).describe_certificate(certificateId=cert_id)["certificateDescription"]["status"]


def test_revert_reactivates_the_deactivated_certificate(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    deactivate = {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}
    task_id, cert_id = mitigate(lab, "Deactivate", deactivate, "UPDATE_DEVICE_CERTIFICATE")
    assert status(lab, cert_id) == "INACTIVE"

    assert cli.main(["revert", "--mitigation-task", task_id]) == 3  # not a terminal, no --yes: nothing
    assert status(lab, cert_id) == "INACTIVE"
    assert "re-activate certificate" in capsys.readouterr().out

    assert cli.main(["revert", "--mitigation-task", task_id, "--yes"]) == 0
    assert status(lab, cert_id) == "ACTIVE"
    out = capsys.readouterr().out
    assert f"re-activate certificate {cert_id[:10]}… (INACTIVE now): done" in out
    with Journal.open(journal_path(), read_only=True) as journal:
        entries = journal.entries(None)
    assert [e.operation for e in entries if e.operation == "UpdateCertificate"] == ["UpdateCertificate"]

    # Again: the certificate is active, nothing is sent.
    assert cli.main(["revert", "--mitigation-task", task_id, "--yes"]) == 0
    assert "it is ACTIVE now" in capsys.readouterr().out
    with Journal.open(journal_path(), read_only=True) as journal:
        assert sum(e.operation == "UpdateCertificate" for e in journal.entries(None)) == 1


def test_what_cannot_be_undone_is_said(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    sns = make_client(lab, "sns").create_topic(Name="findings")["TopicArn"]
    task_id, _ = mitigate(lab, "Publish", {"publishFindingToSnsParams": {"topicArn": sns}},
                          "PUBLISH_FINDING_TO_SNS")  # fmt: skip
    assert cli.main(["revert", "--mitigation-task", task_id, "--yes"]) == 0
    assert "a message sent cannot be unsent" in capsys.readouterr().out


def test_an_unknown_task_is_one_line_and_exit_1(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["revert", "--mitigation-task", "no-such-task", "--yes"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("iot-defender-tui: ") and len(err.strip().splitlines()) == 1
