"""The write path: no change without a journal, the journal off the event loop, no blind retry of a
mutation, and what the app says after AWS answered an error it may have acted on (--error-after-rate)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iot_defender_tui.aws import roles
from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.guard import JournalUnavailableError, ReadOnlyError
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.aws.models import UpdateDeviceCertificateParams
from iot_defender_tui.aws.mutations import NotCarriedOutError, OutcomeUnknownError
from iot_defender_tui.sandbox.runtime import runtime
from tests.aws.test_client_safety import WRITES
from tests.support.factories import configure_audit
from tests.support.mitigation import audit_task, cert_finding, device_certificate, make_role
from tests.support.sandbox import FAST, make_client, request_counts, sandbox_settings

SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"


def _sent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}


async def test_without_a_journal_every_write_is_refused_before_it_is_sent(sandbox_url, aws_env):
    before = request_counts(sandbox_url)
    async with DefenderClient(sandbox_settings(sandbox_url), journal_problem="disk full") as dd:
        for name, write in WRITES.items():
            with pytest.raises(JournalUnavailableError) as err:
                await write(dd)
            assert isinstance(err.value, ReadOnlyError), name  # the UI treats it like read-only
            assert "journal is unavailable (disk full)" in str(err.value), name
            assert "refused until it is fixed" in str(err.value)
        assert (await dd.describe_audit_configuration()).checks  # reading still works
    assert _sent(before, request_counts(sandbox_url)) == {"DescribeAccountAuditConfiguration": 1}


async def test_a_client_made_without_a_journal_refuses_writes_too(sandbox_url, aws_env):
    before = request_counts(sandbox_url)
    async with DefenderClient(sandbox_settings(sandbox_url)) as dd:
        with pytest.raises(JournalUnavailableError, match="journal is unavailable"):
            await dd.start_audit([SHARED])
    assert _sent(before, request_counts(sandbox_url)) == {}


async def test_journal_writes_run_off_the_event_loop_and_the_intent_is_committed_before_sending(
    sandbox_url, aws_env, tmp_path: Path, monkeypatch
):
    configure_audit(make_client(sandbox_url), SHARED)
    journal = Journal.open(tmp_path / "journal.sqlite")
    loop_thread = threading.get_ident()
    threads: dict[str, int] = {}
    for method in ("record_intent", "record_outcome"):
        original = getattr(Journal, method)

        def spy(self, *args, _original=original, _name=method, **kwargs):
            threads[_name] = threading.get_ident()
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Journal, method, spy)
    intents_at_send: list[list[str]] = []
    async with DefenderClient(sandbox_settings(sandbox_url), journal) as dd:

        def note_intents(**_):
            intents_at_send.append([e.operation for e in journal.unknown_outcomes()])

        # On the open client and the session (any client made later), whichever sends the write.
        dd._clients["iot"].meta.events.register("before-send.iot.StartOnDemandAuditTask", note_intents)
        dd._session.register("before-send.iot.StartOnDemandAuditTask", note_intents)
        await dd.start_audit([SHARED])
    assert set(threads) == {"record_intent", "record_outcome"}
    assert loop_thread not in threads.values()
    assert intents_at_send == [["StartOnDemandAuditTask"]]
    (entry,) = journal.entries()
    assert entry.state == "ok"


class Faults:
    """A sandbox fault (`error_after_rate`: executed, then a 500; `error_rate`: a 500 instead) on the
    next `times` sends of `operations` by any client of `dd`, and a count of every operation sent."""

    def __init__(self, dd: DefenderClient, kind: str, *operations: str, times: int | None = None):
        self.kind, self.operations, self.times = kind, operations, times
        self.hits = 0
        self.sent: Counter[str] = Counter()
        dd._session.register("before-send", self)  # the clients made from now on
        for client in (*dd._clients.values(), *dd._writers.values()):
            client.meta.events.register("before-send", self)

    def __call__(self, event_name: str, **_: object) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        self.sent[operation] += 1
        hit = operation in self.operations and (self.times is None or self.hits < self.times)
        self.hits += hit
        setattr(runtime().options, self.kind, 1.0 if hit else 0.0)


async def test_an_audit_started_though_aws_answered_500_is_reported_started_once(dd, journal, sandbox_url):
    configure_audit(make_client(sandbox_url), SHARED)
    faults = Faults(dd, "error_after_rate", "StartOnDemandAuditTask")
    task_id = await dd.start_audit([SHARED])
    now = datetime.now(UTC)
    audits = await dd.list_audit_tasks(now - timedelta(hours=1), now + timedelta(days=2))
    assert [a.task_id for a in audits] == [task_id]
    assert faults.sent["StartOnDemandAuditTask"] == 1  # never resent: a second send is a second audit
    (entry,) = journal.entries()
    assert entry.state == "reconciled"
    assert entry.reconcile_note.startswith(f"carried out: on-demand audit {task_id} of these checks exists")
    assert "AWS answered 500 InternalFailureException" in entry.reconcile_note


async def test_an_audit_started_though_aws_answered_500_is_told_from_audits_of_the_same_checks_before(
    dd, journal, sandbox_url
):
    # An audit has no request token: what was there before the start is what tells the new one apart.
    configure_audit(make_client(sandbox_url), SHARED)
    earlier = {await dd.start_audit([SHARED]), await dd.start_audit([SHARED])}
    faults = Faults(dd, "error_after_rate", "StartOnDemandAuditTask")
    task_id = await dd.start_audit([SHARED])
    assert task_id not in earlier
    now = datetime.now(UTC)
    audits = await dd.list_audit_tasks(now - timedelta(hours=1), now + timedelta(days=2))
    assert {a.task_id for a in audits} == {*earlier, task_id}
    assert faults.sent["StartOnDemandAuditTask"] == 1
    assert journal.entries()[0].state == "reconciled"


async def test_an_audit_refused_with_a_500_is_reported_not_started(dd, journal, sandbox_url):
    configure_audit(make_client(sandbox_url), SHARED)
    faults = Faults(dd, "error_rate", "StartOnDemandAuditTask")
    with pytest.raises(NotCarriedOutError) as err:
        await dd.start_audit([SHARED])
    assert "AWS answered 500 InternalFailureException; checked: no on-demand audit" in err.value.text
    assert "try again" in err.value.text
    assert faults.sent["StartOnDemandAuditTask"] == 1
    now = datetime.now(UTC)
    assert await dd.list_audit_tasks(now - timedelta(hours=1), now + timedelta(days=2)) == ()
    (entry,) = journal.entries()
    assert (entry.state, entry.reconcile_note.startswith("not carried out")) == ("reconciled", True)


async def test_a_role_created_though_aws_answered_500_gets_its_policy(dd, journal, sandbox_url):
    faults = Faults(dd, "error_after_rate", "CreateRole", "PutRolePolicy")
    role = await dd.create_mitigation_role("IoTMitigation-Deactivate", "UPDATE_DEVICE_CERTIFICATE")
    assert role.name == "IoTMitigation-Deactivate"
    iam = make_client(sandbox_url, "iam")
    assert iam.get_role(RoleName=role.name)["Role"]["Arn"] == role.arn
    policy = iam.get_role_policy(RoleName=role.name, PolicyName=roles.POLICY_NAME)["PolicyDocument"]
    assert policy == roles.permission_policy("UPDATE_DEVICE_CERTIFICATE")
    assert (faults.sent["CreateRole"], faults.sent["PutRolePolicy"]) == (1, 1)
    notes = [e.reconcile_note or "" for e in journal.entries()]
    assert [n.split(":")[0] for n in notes] == ["carried out", "carried out"]


async def test_a_mitigation_action_created_though_aws_answered_500_is_returned(dd, journal, sandbox_url):
    arn = make_role(sandbox_url, "MitigationRole", ["iot:UpdateCertificate"])
    faults = Faults(dd, "error_after_rate", "CreateMitigationAction")
    action = await dd.create_mitigation_action("deactivate", arn, UpdateDeviceCertificateParams())
    described = make_client(sandbox_url).describe_mitigation_action(actionName="deactivate")
    assert (action.arn, action.action_id) == (described["actionArn"], described["actionId"])
    assert faults.sent["CreateMitigationAction"] == 1
    (entry,) = journal.entries()
    assert entry.state == "reconciled" and entry.reconcile_note.startswith("carried out")


async def test_when_checking_fails_too_the_outcome_is_unknown_and_stays_open(sandbox_url, aws_env, journal):
    arn = make_role(sandbox_url, "MitigationRole", ["iot:UpdateCertificate"])
    async with DefenderClient(sandbox_settings(sandbox_url), journal, tuning=FAST) as dd:
        Faults(dd, "error_after_rate", "CreateMitigationAction", "DescribeMitigationAction")
        with pytest.raises(OutcomeUnknownError) as err:
            await dd.create_mitigation_action("deactivate", arn, UpdateDeviceCertificateParams())
    assert "whether AWS carried it out is unknown" in err.value.text
    assert [e.operation for e in journal.unknown_outcomes()] == ["CreateMitigationAction"]


async def test_a_delete_that_aws_did_though_it_answered_500_is_a_success(dd, journal, sandbox_url):
    configure_audit(make_client(sandbox_url), SHARED)
    make_client(sandbox_url).create_scheduled_audit(
        scheduledAuditName="daily", frequency="DAILY", targetCheckNames=[SHARED]
    )
    faults = Faults(dd, "error_after_rate", "DeleteScheduledAudit", times=1)
    await dd.delete_scheduled_audit("daily")  # sent again: gone by then
    assert faults.sent["DeleteScheduledAudit"] == 2
    assert make_client(sandbox_url).list_scheduled_audits()["scheduledAudits"] == []
    (entry,) = journal.entries()
    assert entry.reconcile_note is not None and "no longer exists" in entry.reconcile_note


async def test_a_converging_update_is_sent_again_after_a_500(dd, journal, sandbox_url):
    configure_audit(make_client(sandbox_url), SHARED)
    make_client(sandbox_url).create_scheduled_audit(
        scheduledAuditName="daily", frequency="DAILY", targetCheckNames=[SHARED]
    )
    faults = Faults(dd, "error_rate", "UpdateScheduledAudit", times=1)
    await dd.update_scheduled_audit("daily", frequency="WEEKLY", day_of_week="MON")
    assert faults.sent["UpdateScheduledAudit"] == 2
    described = make_client(sandbox_url).describe_scheduled_audit(scheduledAuditName="daily")
    assert described["frequency"] == "WEEKLY"
    assert journal.entries()[0].state == "ok"


async def test_a_mitigation_task_started_though_aws_answered_500_is_one_task(dd, journal, sandbox_url):
    runtime().options.mitigation_seconds = 60
    arn = make_role(sandbox_url, "MitigationRole", ["iot:UpdateCertificate"])
    await dd.create_mitigation_action("deactivate", arn, UpdateDeviceCertificateParams())
    finding = cert_finding(audit_task(), device_certificate(make_client(sandbox_url))[0])
    faults = Faults(dd, "error_after_rate", "StartAuditMitigationActionsTask")
    start = await dd.start_mitigation_task({"findingIds": [finding.finding_id]}, {SHARED: ["deactivate"]})
    assert not start.reused and start.task.status == "IN_PROGRESS"
    assert faults.sent["StartAuditMitigationActionsTask"] == 1
    now = datetime.now(UTC)
    listed = await dd.list_mitigation_tasks(now - timedelta(hours=1), now + timedelta(days=2))
    assert [t.task_id for t in listed] == [start.task_id]
    assert journal.entries()[0].reconcile_note.startswith(f"carried out: mitigation task {start.task_id}")


async def test_the_create_role_dialog_fills_the_role_in_though_aws_answered_500(dd, sandbox_url):
    from textual.widgets import Input

    from iot_defender_tui.ui.create_role import CreateRoleModal
    from iot_defender_tui.ui.modals import ConfirmModal
    from iot_defender_tui.ui.panes.mitigation_forms import ActionForm
    from tests.ui.test_create_role import Harness, focused_id, until

    Faults(dd, "error_after_rate", "CreateRole", "PutRolePolicy")
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ActionForm())
        await until(pilot, lambda: focused_id(app) == "name")
        await pilot.press(*"Flaky", "f3")
        await until(pilot, lambda: isinstance(app.screen, CreateRoleModal))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ActionForm))  # not "choose another name"
        assert app.screen.query_one("#role", Input).value.endswith(":role/IoTMitigation-Flaky")
    iam = make_client(sandbox_url, "iam")
    assert iam.list_role_policies(RoleName="IoTMitigation-Flaky")["PolicyNames"] == [roles.POLICY_NAME]
