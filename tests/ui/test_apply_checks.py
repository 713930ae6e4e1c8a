"""Apply across checks (issue 13.5): findings of several checks, each check its own actions, one task;
deleting an action a running task uses warns and names the task."""

from __future__ import annotations

import asyncio
import time

import pytest
from rich.text import Text
from textual.widgets import Static

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.models import Finding
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.apply_checks import ApplyConfirm, CheckActions
from iot_defender_tui.ui.apply_mitigation import ApplyMitigationScreen
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.mitigation import MitigationPane
from iot_defender_tui.ui.panes.mitigation_delete import DeleteActionConfirm
from iot_defender_tui.ui.panes.results import Level, ResultsPane
from iot_defender_tui.ui.widgets.fast_table import FastTable
from tests.support.mitigation import LOGGING_CHECK, NEEDS, POLICY_CHECK, SHARED, executions, make_role, start
from tests.support.sandbox import make_client, sandbox_settings
from tests.support.standin import StandIn
from tests.support.ui import until
from tests.ui.test_apply import ApplyHarness, mitigation_tasks, seed_action
from tests.ui.test_mitigation import Harness as MitigationHarness
from tests.ui.test_results import shown, static_text
from tests.ui.test_screens import connected


def seed_more_actions(url: str) -> None:
    """Besides seed_action's DeactivateCert and FixLogging: a policy action and one SNS action for all."""
    iot = make_client(url)
    iot.create_mitigation_action(
        actionName="ReplacePolicy",
        roleArn=make_role(url, "PolicyRole", NEEDS["REPLACE_DEFAULT_POLICY_VERSION"]),
        actionParams={"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}},
    )
    topic = make_client(url, "sns").create_topic(Name="defender-findings")["TopicArn"]
    iot.create_mitigation_action(
        actionName="NotifyOps",
        roleArn=make_role(url, "SnsRole", NEEDS["PUBLISH_FINDING_TO_SNS"]),
        actionParams={"publishFindingToSnsParams": {"topicArn": topic}},
    )


async def mark_every_finding(pilot, pane: ResultsPane) -> None:
    """The lab's audit → "All findings" (one finding of each of its three checks) → all marked."""
    await until(pilot, lambda: "COMPLETED" in shown(pane))
    await pilot.press("enter")
    await until(pilot, lambda: "All findings" in shown(pane))
    await pilot.press("enter")  # the cursor starts on All findings
    await until(
        pilot, lambda: pane.level == Level.FINDINGS and not pane.stream.loading and pane.table.row_count == 3
    )
    await pilot.press("A")
    assert {f.check_name for f in pane.marked_findings()} == {SHARED, POLICY_CHECK, LOGGING_CHECK}


async def open_dialog(pilot, app: ApplyHarness) -> ApplyMitigationScreen:
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, ApplyMitigationScreen))
    screen = app.screen
    assert isinstance(screen, ApplyMitigationScreen)
    await until(pilot, lambda: "Loading" not in static_text(screen.query_one("#message", Static)))
    return screen


def offered(screen: ApplyMitigationScreen) -> dict[str, list[str]]:
    lists = screen.query(CheckActions)
    return {
        w.group.check: [str(w.get_option_at_index(i).value) for i in range(w.option_count)] for w in lists
    }


async def pick(pilot, screen: ApplyMitigationScreen, check: str, names: list[str]) -> None:
    """In the focused check's list, pick `names` in order by arrows and space."""
    options = screen.focused
    assert isinstance(options, CheckActions) and options.group.check == check
    values = offered(screen)[check]
    for name in names:
        steps = values.index(name) - (options.highlighted or 0)
        await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "space")


async def test_each_check_gets_its_own_actions_in_one_task(lab: str, dd: DefenderClient) -> None:
    seed_action(lab)
    seed_more_actions(lab)
    iot = make_client(lab)
    app = ApplyHarness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await mark_every_finding(pilot, pane)
        by_check = {f.check_name: f for f in pane.marked_findings()}
        screen = await open_dialog(pilot, app)
        assert "3 findings of 3 checks" in static_text(screen.query_one("#title", Static))
        # Each check its own actions, the SNS one under all three: not only what all have in common.
        lists = offered(screen)
        assert {check: sorted(names) for check, names in lists.items()} == {
            SHARED: ["DeactivateCert", "NotifyOps"],
            POLICY_CHECK: ["NotifyOps", "ReplacePolicy"],
            LOGGING_CHECK: ["FixLogging", "NotifyOps"],
        }

        order = list(lists)  # the checks as the dialog lists them, the first one focused
        picks = {SHARED: ["NotifyOps", "DeactivateCert"], POLICY_CHECK: ["ReplacePolicy"]}
        picks[LOGGING_CHECK] = ["FixLogging"]
        for n, check in enumerate(order):
            if n:
                await pilot.press("tab")
            await pick(pilot, screen, check, picks[check])
        assert static_text(screen.query_one("#summary", Static)) == "Task: 3 findings of 3 checks."
        # Two picks for one check: each says when it runs (AWS applies them in order).
        shared = next(w for w in screen.query(CheckActions) if w.group.check == SHARED)
        labels = [str(shared.get_option_at_index(i).prompt) for i in range(shared.option_count)]
        assert "NotifyOps (PUBLISH_FINDING_TO_SNS)  runs 1st" in labels
        assert "DeactivateCert (UPDATE_DEVICE_CERTIFICATE)  runs 2nd" in labels

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        confirm = static_text(app.screen.query_one("#body", Static))
        assert "Apply mitigation to 3 findings of 3 checks" in confirm
        for check, resource_kind in ((SHARED, "cert "), (POLICY_CHECK, "v1"), (LOGGING_CHECK, "account ")):
            part = confirm.split(screen.groups[order.index(check)].title)[1]
            assert resource_kind in part.split("on:")[1].splitlines()[0]
        assert "DeactivateCert: deactivate the device certificate" in confirm
        assert "Left out" not in confirm
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, (ApplyMitigationScreen, ConfirmModal)))

        (task_id,) = [t["taskId"] for t in mitigation_tasks(lab)]
        assert app.notes[0] == f"Mitigation task {task_id} started"
        described = iot.describe_audit_mitigation_actions_task(taskId=task_id)
        assert described["auditCheckToActionsMapping"] == picks
        assert sorted(described["target"]["findingIds"]) == sorted(f.finding_id for f in by_check.values())

        (entry,) = [e for e in dd.journal.entries() if e.operation == "StartAuditMitigationActionsTask"]
        assert entry.params["auditCheckToActionsMapping"] == picks and entry.state == "ok"

        # Followed to its end: the outcome is notified.
        await until(pilot, lambda: any("COMPLETED" in n for n in app.notes))
        assert any("3 succeeded, 0 failed" in n for n in app.notes)
        stats = iot.describe_audit_mitigation_actions_task(taskId=task_id)["taskStatistics"]
        assert {
            check: (s["totalFindingsCount"], s["succeededFindingsCount"]) for check, s in stats.items()
        } == {check: (1, 1) for check in picks}
        for check, finding in by_check.items():  # per finding, its own check's actions in order
            ran = executions(iot, task_id, finding.finding_id)
            assert [(e["actionName"], e["status"]) for e in ran] == [(n, "COMPLETED") for n in picks[check]]
        assert app.errors == []


async def test_a_check_left_without_a_pick_is_left_out(lab: str, dd: DefenderClient) -> None:
    seed_action(lab)  # DeactivateCert and FixLogging: nothing for the policy check
    iot = make_client(lab)
    app = ApplyHarness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await mark_every_finding(pilot, pane)
        by_check = {f.check_name: f for f in pane.marked_findings()}
        screen = await open_dialog(pilot, app)
        assert offered(screen)[POLICY_CHECK] == []
        policy = next(n for n, g in enumerate(screen.groups) if g.check == POLICY_CHECK)
        assert "left out" in static_text(screen.query_one(f"#note-{policy}", Static))
        assert "REPLACE_DEFAULT_POLICY_VERSION" in static_text(screen.query_one(f"#note-{policy}", Static))

        await pilot.press("enter")  # nothing picked: refused, the dialog stays
        assert "Pick at least one action" in static_text(screen.query_one("#message", Static))
        assert isinstance(app.screen, ApplyMitigationScreen)

        while screen.focused.group.check != SHARED:  # type: ignore[union-attr]
            await pilot.press("tab")
        await pick(pilot, screen, SHARED, ["DeactivateCert"])
        summary = static_text(screen.query_one("#summary", Static))
        assert (
            summary
            == "Task: 1 finding of 1 check. Left out: IoT policies overly permissive, Logging disabled."
        )
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        confirm = static_text(app.screen.query_one("#body", Static))
        assert "Apply mitigation to 1 finding of 1 check" in confirm
        left_out = "Left out, no action picked (2 findings): IoT policies overly permissive, Logging disabled"
        assert left_out in confirm
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, (ApplyMitigationScreen, ConfirmModal)))

        (task_id,) = [t["taskId"] for t in mitigation_tasks(lab)]
        described = iot.describe_audit_mitigation_actions_task(taskId=task_id)
        assert described["auditCheckToActionsMapping"] == {SHARED: ["DeactivateCert"]}
        assert described["target"]["findingIds"] == [by_check[SHARED].finding_id]
        await until(pilot, lambda: any("COMPLETED" in n for n in app.notes))
        assert app.errors == []


async def test_arrows_run_on_into_the_next_check(lab: str, dd: DefenderClient) -> None:
    seed_action(lab)
    seed_more_actions(lab)
    app = ApplyHarness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        await mark_every_finding(pilot, app.query_one(ResultsPane))
        screen = await open_dialog(pilot, app)
        first, second, third = screen.query(CheckActions)
        assert screen.focused is first and first.highlighted == 0
        await pilot.press("down", "down")  # two options each: past the first list's last one
        assert screen.focused is second and second.highlighted == 0
        await pilot.press("up")
        assert screen.focused is first and first.highlighted == 1
        await pilot.press("tab", "tab")
        assert screen.focused is third
        await pilot.press("escape")
        assert not isinstance(app.screen, ApplyMitigationScreen)
    assert mitigation_tasks(lab) == []


async def test_a_confirmation_taller_than_the_screen_scrolls_by_keyboard(lab: str, aws_env) -> None:
    # In the real app, whose CSS once stretched every `#body` (the app's own main container's id).
    answers: list[bool | None] = []
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        body = Text("\n".join(f"line {n}" for n in range(40)))
        await app.push_screen(ApplyConfirm("Apply mitigation", body, "Apply"), answers.append)
        shown = app.screen.query_one("#body-scroll")
        await until(pilot, lambda: shown.max_scroll_y > 0)
        assert shown.size.height == int(24 * 0.9) - ApplyConfirm.FRAME_ROWS
        await pilot.press("down", "down")
        assert shown.scroll_y == 2
        await pilot.press("pagedown", "up")
        assert shown.scroll_y == 9
        await pilot.press("y")
    assert answers == [True]


def lab_audit(iot) -> dict:
    window = {"startTime": time.time() - 7 * 86400, "endTime": time.time() + 60}
    return iot.list_audit_tasks(taskType="ON_DEMAND_AUDIT_TASK", **window)["tasks"][0]


async def test_deleting_an_action_a_running_task_uses_names_the_task(lab: str, dd: DefenderClient) -> None:
    runtime().options.mitigation_seconds = 60  # still running while the delete is confirmed
    seed_action(lab)
    iot = make_client(lab)
    audit = lab_audit(iot)
    findings = iot.list_audit_findings(taskId=audit["taskId"])["findings"]
    ids = [f["findingId"] for f in findings if f["checkName"] in (SHARED, LOGGING_CHECK)]
    running = start(
        iot, "RunningTask", {SHARED: ["DeactivateCert"], LOGGING_CHECK: ["FixLogging"]}, findingIds=ids
    )
    app = MitigationHarness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(MitigationPane)
        actions = pane.query_one("#actions", FastTable)
        await until(pilot, lambda: actions.row_count == 2)

        actions.move_to_key("FixLogging")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteActionConfirm) and app.screen.checked)
        body = static_text(app.screen.query_one("#body", Static))
        assert "Warning" in body and running in body and "Logging disabled" in body
        await pilot.press("y")  # AWS allows it: the user may still delete
        await until(pilot, lambda: "FixLogging" not in actions.visible_keys())
        assert [a["actionName"] for a in iot.list_mitigation_actions()["actionIdentifiers"]] == [
            "DeactivateCert"
        ]

        # Once the task has ended, no warning.
        iot.cancel_audit_mitigation_actions_task(taskId=running)
        actions.move_to_key("DeactivateCert")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteActionConfirm) and app.screen.checked)
        body = static_text(app.screen.query_one("#body", Static))
        assert "No running mitigation task uses it." in body and running not in body
        await pilot.press("n")
        assert not isinstance(app.screen, DeleteActionConfirm)
        assert app.errors == []


async def test_a_yes_typed_during_the_look_up_waits_for_it(
    lab: str, dd: DefenderClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime().options.mitigation_seconds = 60
    seed_action(lab)
    iot = make_client(lab)
    audit = lab_audit(iot)
    shared = iot.list_audit_findings(taskId=audit["taskId"], checkName=SHARED)["findings"][0]["findingId"]
    running = start(iot, "RunningTask", {SHARED: ["DeactivateCert"]}, findingIds=[shared])
    gate = asyncio.Event()
    look_up = DefenderClient.running_tasks_using

    async def held(self: DefenderClient, name: str):
        await gate.wait()
        return await look_up(self, name)

    monkeypatch.setattr(DefenderClient, "running_tasks_using", held)
    app = MitigationHarness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        actions = app.query_one(MitigationPane).query_one("#actions", FastTable)
        await until(pilot, lambda: actions.row_count == 2)
        # Used by the running task: the early yes stops at the warning.
        actions.move_to_key("DeactivateCert")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteActionConfirm))
        await pilot.press("y")
        assert "The delete follows unless one does" in static_text(app.screen.query_one("#body", Static))
        gate.set()
        await until(pilot, lambda: isinstance(app.screen, DeleteActionConfirm) and app.screen.checked)
        assert running in static_text(app.screen.query_one("#body", Static))
        await pilot.press("n")
        # Not used by one: the early yes deletes once the look-up found nothing.
        gate.clear()
        actions.move_to_key("FixLogging")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteActionConfirm))
        await pilot.press("y")
        assert isinstance(app.screen, DeleteActionConfirm)
        gate.set()
        await until(pilot, lambda: "FixLogging" not in actions.visible_keys())
        assert len(iot.list_mitigation_actions()["actionIdentifiers"]) == 1
        assert app.errors == []


def _finding(n: int, check: str) -> Finding:
    return Finding.from_api(
        {
            "findingId": f"f-{n}", "taskId": "t" * 32, "checkName": check, "severity": "LOW",
            "nonCompliantResource": {
                "resourceType": "DEVICE_CERTIFICATE", "resourceIdentifier": {"deviceCertificateId": "c" * 64},
            },
        }
    )  # fmt: skip


class DialogHarness(StandIn):
    def __init__(self, dd: DefenderClient, findings: list[Finding]) -> None:
        super().__init__(dd)
        self.findings = findings

    def on_mount(self) -> None:
        self.push_screen(ApplyMitigationScreen(self.findings, self.dd))


async def test_at_60x20_the_dialog_keeps_its_hint_and_message_on_screen(aws_env, sandbox_url, journal):
    """Five checks and nothing to pick: the reason and the keys stayed below the bottom edge."""
    checks = [
        "DEVICE_CERTIFICATE_EXPIRING_CHECK", "CA_CERTIFICATE_EXPIRING_CHECK", "CONFLICTING_CLIENT_IDS_CHECK",
        "CA_CERTIFICATE_KEY_QUALITY_CHECK", "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
    ]  # fmt: skip
    findings = [_finding(n, check) for n, check in enumerate(checks)]
    async with DefenderClient(sandbox_settings(sandbox_url), journal) as dd:
        app = DialogHarness(dd, findings)
        async with app.run_test(size=(60, 20)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, ApplyMitigationScreen))
            screen = app.screen
            message = screen.query_one("#message", Static)
            await until(pilot, lambda: "No mitigation action applies" in static_text(message))
            await pilot.pause()
            bottom = screen.query_one("#hint").region.bottom
            frame = screen.query_one("#title").parent
            assert frame is not None and bottom <= frame.region.bottom - 1  # inside the border
            assert message.region.bottom <= screen.query_one("#hint").region.y
            assert frame.region.bottom <= 20 - 2  # above the key hints
            await pilot.press("down", "down", "down", "down", "down", "down", "down", "down")
            assert screen.query_one("#checks").scroll_y > 0  # every check's note can be read
