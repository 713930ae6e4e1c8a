"""`revert --mitigation-task ID` (issue 15, point 2) on the lab: the certificate a mitigation deactivated is
active again, the change journaled; the things it added to a group are taken out (only those: what was in
the group before comes from the journal) and the logging options it replaced are back; what was not
changed, or cannot be undone, is said."""

from __future__ import annotations

import time

import pytest

from iot_defender_tui import cli, cli_mitigate
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.config import journal_path
from tests.support.mitigation import LOGGING_CHECK, NEEDS, SHARED, make_role
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


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_mitigate, "POLL_SECONDS", 0.05)


def mitigate_by_app(url: str, action: str, params: dict, needs: str, check: str = SHARED) -> str:
    """`mitigate --yes --wait` of `action` on the lab's finding of `check` (the app journals what the
    action will replace): the mitigation task's id."""
    iot = make_client(url)
    iot.create_mitigation_action(actionName=action, roleArn=make_role(url, f"{action}Role", NEEDS[needs]),
                                 actionParams=params)  # fmt: skip
    argv = ["mitigate", "--task", lab_task_id(iot), "--check", check, "--action", action]
    assert cli.main([*argv, "--yes", "--wait"]) == 0
    with Journal.open(journal_path(), read_only=True) as journal:
        start = next(e for e in journal.entries(None) if e.operation == "StartAuditMitigationActionsTask")
    return start.params["taskId"]


def group_members(url: str, group: str) -> set[str]:
    return set(make_client(url).list_things_in_thing_group(thingGroupName=group)["things"])


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


def test_revert_takes_out_of_the_group_only_the_things_the_task_added(
    lab: str, capsys: pytest.CaptureFixture[str]
) -> None:
    iot = make_client(lab)
    iot.create_thing_group(thingGroupName="Quarantine")
    shared = iot.list_audit_findings(taskId=lab_task_id(iot), checkName=SHARED)["findings"][0]
    cert_id = shared["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]
    arn = iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["certificateArn"]
    # Two things on the shared certificate; one of them was quarantined before the task.
    for thing in ("sensor-a", "sensor-b"):
        iot.create_thing(thingName=thing)
        iot.attach_thing_principal(thingName=thing, principal=arn)
    iot.add_thing_to_thing_group(thingGroupName="Quarantine", thingName="sensor-a")
    things = set(iot.list_principal_things(principal=arn)["things"])
    params = {"addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine"]}}
    task_id = mitigate_by_app(lab, "Quarantine", params, "ADD_THINGS_TO_THING_GROUP")
    assert group_members(lab, "Quarantine") == things
    capsys.readouterr()

    assert cli.main(["revert", "--mitigation-task", task_id, "--yes"]) == 0
    out = capsys.readouterr().out
    assert group_members(lab, "Quarantine") == {"sensor-a"}
    assert "take thing sensor-b out of group Quarantine (the task added it): done" in out
    assert "take thing sensor-a out of group Quarantine for finding" in out and "in the group before" in out
    with Journal.open(journal_path(), read_only=True) as journal:
        removed = [e.params for e in journal.entries(None) if e.operation == "RemoveThingFromThingGroup"]
    assert {p["thingName"] for p in removed} == things - {"sensor-a"}


def test_revert_puts_the_replaced_logging_options_back(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    iot = make_client(lab)
    before_role = make_role(lab, "OldLoggingRole", [])
    iot.set_v2_logging_options(roleArn=before_role, defaultLogLevel="ERROR", disableAllLogs=False)
    logging_role = make_role(lab, "LoggingRole", [])
    params = {"enableIoTLoggingParams": {"roleArnForLogging": logging_role, "logLevel": "DEBUG"}}
    task_id = mitigate_by_app(lab, "EnableLogging", params, "ENABLE_IOT_LOGGING", LOGGING_CHECK)
    assert iot.get_v2_logging_options()["defaultLogLevel"] == "DEBUG"
    capsys.readouterr()

    assert cli.main(["revert", "--mitigation-task", task_id, "--yes"]) == 0
    assert "restore v2 logging: level ERROR" in capsys.readouterr().out
    now = iot.get_v2_logging_options()
    assert (now["roleArn"], now["defaultLogLevel"], now["disableAllLogs"]) == (before_role, "ERROR", False)

    assert cli.main(["revert", "--mitigation-task", task_id, "--yes"]) == 0  # again: nothing to change
    assert "it is as before now" in capsys.readouterr().out


def test_a_task_started_elsewhere_leaves_groups_and_logging_alone(
    lab: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_client(lab).create_thing_group(thingGroupName="Quarantine")
    params = {"addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine"]}}
    task_id, _ = mitigate(lab, "Quarantine", params, "ADD_THINGS_TO_THING_GROUP")  # boto3: no journal
    members = group_members(lab, "Quarantine")
    assert cli.main(["revert", "--mitigation-task", task_id, "--yes"]) == 0
    assert "not started by this app" in capsys.readouterr().out
    assert group_members(lab, "Quarantine") == members
