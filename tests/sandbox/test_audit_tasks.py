"""On-demand audit tasks: start, progress and statistics, listing, cancel."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from iot_defender_tui.sandbox import audits
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.factories import ROLE, configure_audit, defender_state, error_of, seed_task

CHECKS = ["LOGGING_DISABLED_CHECK", "DEVICE_CERTIFICATE_SHARED_CHECK", "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]
FINAL = {"COMPLETED_COMPLIANT", "COMPLETED_NON_COMPLIANT", "FAILED"}


def window(before: float = 3600, after: float = 60) -> dict[str, datetime]:
    now = runtime().clock.now()
    return {
        "startTime": datetime.fromtimestamp(now - before, UTC),
        "endTime": datetime.fromtimestamp(now + after, UTC),
    }


def wait_done(iot, task_id: str, timeout: float = 3.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        task = iot.describe_audit_task(taskId=task_id)
        if task["taskStatus"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


def test_on_demand_task_runs_to_its_end_with_statistics(iot):
    configure_audit(iot)
    started = runtime().clock.now()
    task_id = iot.start_on_demand_audit_task(targetCheckNames=CHECKS)["taskId"]
    task = iot.describe_audit_task(taskId=task_id)
    assert task["taskStatus"] == "IN_PROGRESS" and task["taskType"] == "ON_DEMAND_AUDIT_TASK"
    assert abs(task["taskStartTime"].timestamp() - started) < 2
    assert "scheduledAuditName" not in task
    stats = task["taskStatistics"]
    assert stats["totalChecks"] == 3 and stats["inProgressChecks"] == 3
    assert {d["checkRunStatus"] for d in task["auditDetails"].values()} == {"IN_PROGRESS"}

    task = wait_done(iot, task_id)
    assert task["taskStatus"] in ("COMPLETED", "FAILED")
    stats = task["taskStatistics"]
    assert stats["totalChecks"] == 3 and stats["inProgressChecks"] == 0 and stats["canceledChecks"] == 0
    assert stats["compliantChecks"] + stats["nonCompliantChecks"] + stats["failedChecks"] == 3
    assert set(task["auditDetails"]) == set(CHECKS)
    for detail in task["auditDetails"].values():
        assert detail["checkRunStatus"] in FINAL
        if detail["checkRunStatus"] == "FAILED":
            assert detail["message"]  # a check the sandbox cannot evaluate says so
        else:
            assert detail["checkCompliant"] == (detail["checkRunStatus"] == "COMPLETED_COMPLIANT")
            assert detail["nonCompliantResourcesCount"] <= detail["totalResourcesCount"]


def test_statistics_count_each_check_status(iot):
    state = defender_state()
    task = seed_task(state, runtime().clock.now(), checks=(*CHECKS, "CA_CERTIFICATE_EXPIRING_CHECK"))
    runs = list(task.checks.values())
    runs[0].status, runs[0].compliant, runs[0].total_resources = "COMPLETED_COMPLIANT", True, 4
    runs[1].status, runs[1].compliant, runs[1].total_resources = "COMPLETED_NON_COMPLIANT", False, 9
    runs[1].non_compliant, runs[1].suppressed_non_compliant = 3, 1
    runs[2].status, runs[2].error_code, runs[2].message = "FAILED", "AUDIT_CHECK_FAILED", "no data"
    runs[3].status = "CANCELED"
    task.status = "CANCELED"
    described = iot.describe_audit_task(taskId=task.task_id)
    assert described["taskStatistics"] == {
        "totalChecks": 4,
        "inProgressChecks": 0,
        "waitingForDataCollectionChecks": 0,
        "compliantChecks": 1,
        "nonCompliantChecks": 1,
        "failedChecks": 1,
        "canceledChecks": 1,
    }
    details = described["auditDetails"]
    assert details[runs[1].name] == {
        "checkRunStatus": "COMPLETED_NON_COMPLIANT",
        "checkCompliant": False,
        "totalResourcesCount": 9,
        "nonCompliantResourcesCount": 3,
        "suppressedNonCompliantResourcesCount": 1,
    }
    assert details[runs[2].name]["errorCode"] == "AUDIT_CHECK_FAILED"
    assert details[runs[2].name]["message"] == "no data"
    assert details[runs[3].name] == {"checkRunStatus": "CANCELED"}


def test_the_first_configuration_must_enable_a_check(iot):
    """auditCheckConfigurations: "On the first call to UpdateAccountAuditConfiguration, this parameter is
    required and must specify at least one enabled check"; an invalid request is InvalidRequestException
    (https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateAccountAuditConfiguration.html)."""
    for checks in ({}, {"LOGGING_DISABLED_CHECK": {"enabled": False}}):
        code, text = error_of(
            iot.update_account_audit_configuration, roleArn=ROLE, auditCheckConfigurations=checks
        )
        assert code == "InvalidRequestException" and "at least one" in text
    assert "roleArn" not in iot.describe_account_audit_configuration()  # nothing was kept
    configure_audit(iot, "LOGGING_DISABLED_CHECK")
    # Later calls may disable every check (AWS's own way to stop audits without deleting the settings).
    iot.update_account_audit_configuration(
        auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": False}}
    )
    checks = iot.describe_account_audit_configuration()["auditCheckConfigurations"]
    assert not any(c["enabled"] for c in checks.values())


def test_start_refuses_unknown_disabled_and_unconfigured(iot):
    code, text = error_of(iot.start_on_demand_audit_task, targetCheckNames=["LOGGING_DISABLED_CHECK"])
    assert code == "InvalidRequestException" and "not configured" in text
    configure_audit(iot, "LOGGING_DISABLED_CHECK")
    code, text = error_of(iot.start_on_demand_audit_task, targetCheckNames=["NO_SUCH_CHECK"])
    assert code == "InvalidRequestException" and "NO_SUCH_CHECK" in text
    code, text = error_of(iot.start_on_demand_audit_task, targetCheckNames=CHECKS)
    assert code == "InvalidRequestException"
    assert "DEVICE_CERTIFICATE_SHARED_CHECK" in text and "IOT_POLICY_OVERLY_PERMISSIVE_CHECK" in text


def test_at_most_ten_on_demand_audits_run_at_once(iot):
    configure_audit(iot, "LOGGING_DISABLED_CHECK")
    runtime().options.audit_seconds = 60
    for _ in range(10):
        iot.start_on_demand_audit_task(targetCheckNames=["LOGGING_DISABLED_CHECK"])
    code, _ = error_of(iot.start_on_demand_audit_task, targetCheckNames=["LOGGING_DISABLED_CHECK"])
    assert code == "LimitExceededException"


def test_cancel(iot):
    configure_audit(iot, *CHECKS)
    runtime().options.audit_seconds = 60
    task_id = iot.start_on_demand_audit_task(targetCheckNames=CHECKS)["taskId"]
    iot.cancel_audit_task(taskId=task_id)
    task = iot.describe_audit_task(taskId=task_id)
    assert task["taskStatus"] == "CANCELED"
    assert task["taskStatistics"]["canceledChecks"] == 3 and task["taskStatistics"]["inProgressChecks"] == 0
    audits.advance(defender_state(), runtime().clock.now() + 61)  # a canceled task's checks never finish
    assert iot.describe_audit_task(taskId=task_id)["taskStatus"] == "CANCELED"
    code, text = error_of(iot.cancel_audit_task, taskId=task_id)
    assert code == "InvalidRequestException" and "CANCELED" in text
    assert error_of(iot.cancel_audit_task, taskId="0" * 32)[0] == "ResourceNotFoundException"
    assert error_of(iot.describe_audit_task, taskId="0" * 32)[0] == "ResourceNotFoundException"


def test_list_filters_orders_newest_first_and_pages(iot):
    state = defender_state()
    now = runtime().clock.now()
    tasks = [
        seed_task(
            state,
            now - 100 * i,
            status="COMPLETED" if i % 3 else "FAILED",
            task_type="SCHEDULED_AUDIT_TASK" if i % 2 else "ON_DEMAND_AUDIT_TASK",
        )
        for i in range(30)
    ]
    old = seed_task(state, now - 7200)
    listed, token = [], None
    while True:
        reply = iot.list_audit_tasks(maxResults=7, **window(), **({"nextToken": token} if token else {}))
        listed += reply["tasks"]
        token = reply.get("nextToken")
        if not token:
            break
    assert [t["taskId"] for t in listed] == [t.task_id for t in tasks]  # newest first, old one outside
    assert old.task_id not in {t["taskId"] for t in listed}
    assert listed[1] == {
        "taskId": tasks[1].task_id,
        "taskStatus": "COMPLETED",
        "taskType": "SCHEDULED_AUDIT_TASK",
    }

    failed = iot.list_audit_tasks(taskStatus="FAILED", maxResults=250, **window())["tasks"]
    assert [t["taskId"] for t in failed] == [t.task_id for i, t in enumerate(tasks) if i % 3 == 0]
    scheduled = iot.list_audit_tasks(
        taskType="SCHEDULED_AUDIT_TASK", taskStatus="COMPLETED", maxResults=250, **window()
    )["tasks"]
    assert [t["taskId"] for t in scheduled] == [t.task_id for i, t in enumerate(tasks) if i % 2 and i % 3]
    assert len(iot.list_audit_tasks(**window())["tasks"]) == 25  # AWS's default page size


def test_list_window_rules(iot):
    reversed_window = window()
    reversed_window["startTime"], reversed_window["endTime"] = (
        reversed_window["endTime"],
        reversed_window["startTime"],
    )
    code, text = error_of(iot.list_audit_tasks, **reversed_window)
    assert code == "InvalidRequestException" and "startTime" in text
    code, text = error_of(iot.list_audit_tasks, **window(before=91 * 86400))
    assert code == "InvalidRequestException" and "90 days" in text
    code, _ = error_of(iot.list_audit_tasks, nextToken="not-a-token", **window())
    assert code == "InvalidRequestException"
