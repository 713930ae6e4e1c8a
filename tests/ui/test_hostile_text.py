"""Hostile text from AWS never reaches the terminal unescaped.

A device picks its MQTT client id and a CA its subject: either can hold Rich markup, terminal control
sequences (CSI, OSC 0 title, OSC 52 clipboard), C0/C1 characters, bidi overrides or zero-width code
points. Every model parses AWS's replies through `safe_text.safe`; these tests drive such strings
through every model, widget row and CLI output that shows AWS text and look at what would be drawn.
"""

from __future__ import annotations

import io
import json
import unicodedata
import uuid
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text
from textual.widgets import Static
from textual.worker import WorkerState

from iot_defender_tui import cli
from iot_defender_tui.aws.catalogue import check_info
from iot_defender_tui.aws.errors import AwsError, map_error
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.aws.models import (
    AuditConfiguration,
    AuditTask,
    Finding,
    Identity,
    MitigationAction,
    MitigationExecution,
    MitigationTask,
    ScheduledAudit,
    Suppression,
)
from iot_defender_tui.aws.safe_text import safe
from iot_defender_tui.config import HOME_ENV, Settings, journal_path
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.finding_detail import FindingDetailScreen, describe_finding
from iot_defender_tui.ui.header import DefenderHeader
from iot_defender_tui.ui.panes.mitigation import MitigationPane
from iot_defender_tui.ui.panes.mitigation_views import EXECUTION_COLUMNS, execution_row, target_row
from iot_defender_tui.ui.panes.results import ResultsPane
from iot_defender_tui.ui.panes.results_views import (
    ALL_FINDING_COLUMNS,
    CHECK_COLUMNS,
    FINDING_COLUMNS,
    TASK_COLUMNS,
    all_finding_row,
    check_row,
    finding_row,
    task_row,
)
from iot_defender_tui.ui.panes.schedules_form import checks_text
from iot_defender_tui.ui.widgets.table_model import TableModel, row_text
from tests.support import ui
from tests.support.factories import defender_state, seed_finding, seed_task
from tests.support.sandbox import FAST, closed_port_url, sandbox_settings

until = partial(ui.until, timeout=20.0)  # this module's waits keep the patience they had

# What may never be drawn: control characters (but newline and tab), format characters (bidi overrides,
# zero-width, tags), line/paragraph separators and lone surrogates.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
MARKUP = (
    "[bold]x[/]",
    "[/",
    "[/]",
    "[link=https://evil.example/]click[/link]",
    "[@click=app.quit]quit[/]",
    "[red on white]ALERT[/red on white]",
)
CONTROL = (
    "\x1b[2J",  # CSI: clear the screen
    "\x1b]0;pwn\x07",  # OSC 0: the window title
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: the clipboard
    "\x00\x01\x07\x08\r\x0b\x0c",
    "\x9b31m",  # C1 CSI
    "\x85\x9d\x9c",
    "\x7f",
    "\u202eevil\u202c",  # RIGHT-TO-LEFT OVERRIDE
    "\u202a\u202b\u202d",
    "\u2066x\u2067y\u2068z\u2069",
    "\u200b\u200c\u200d\u200e\u200f",
    "\ufeff",
    "\u2028\u2029",
    "\U000e0041\U000e0042",  # tag characters: invisible text
    "\ud800",  # a lone surrogate (JSON can carry one): it cannot even be encoded to the terminal
)
# A client id as a hostile device would pick it.
HOSTILE_NAME = "\x1b]0;pwn\x07[bold]dev[/]\u202eKCATTA\u202c\u200b\x9b2J"
PIECES = st.sampled_from(MARKUP + CONTROL)
DANGEROUS = st.sampled_from(sorted({c for piece in CONTROL for c in piece} | set("[]/=@\n\t ab")))
HOSTILE = st.one_of(
    PIECES,
    st.lists(st.one_of(PIECES, st.text(DANGEROUS, max_size=12)), min_size=1, max_size=6).map("".join),
    PIECES.map(lambda p: (p * (4096 // len(p) + 1))[:4096]),  # 4 KB
)
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def leaks(output: str) -> set[str]:
    """The code points in `output` a terminal must not get (newline and tab are fine)."""
    return {
        f"U+{ord(c):04X}"
        for c in output
        if c not in "\n\t" and unicodedata.category(c) in FORBIDDEN_CATEGORIES
    }


def drawn(*renderables: Text | str) -> str:
    """What Rich sends to the terminal for `renderables`: the text of every segment, styles aside."""
    console = Console(file=io.StringIO(), width=160, force_terminal=True, color_system="truecolor")
    out = []
    for renderable in renderables:
        for segment in console.render(Text(renderable) if isinstance(renderable, str) else renderable):
            assert segment.style is None or segment.style.link is None, "a link from AWS's text"
            out.append(segment.text)
    return "".join(out)


def row_drawn(columns: Any, cells: Iterable[Text | str]) -> str:
    """A table row as FastTable draws it (one line: no newline or tab in it either)."""
    console = Console(file=io.StringIO(), width=400, force_terminal=True, color_system="truecolor")
    line = row_text(columns, TableModel(columns).styled(tuple(cells)), None, 400)
    out = "".join(segment.text for segment in line.render(console))
    assert "\n" not in out and "\t" not in out, f"a row drawn over more than one line: {out[:200]!r}"
    return out


def assert_clean(output: str) -> None:
    assert not leaks(output), f"unescaped {sorted(leaks(output))} in {output[:200]!r}"


def finding_reply(h: str) -> dict[str, Any]:
    """A ListAuditFindings item with `h` wherever AWS's model allows free text (and where it does not)."""
    return {
        "findingId": h,
        "taskId": h,
        "checkName": h,
        "taskStartTime": 1_700_000_000,
        "findingTime": 1_700_000_001,
        "severity": h,
        "nonCompliantResource": {
            "resourceType": "CLIENT_ID",
            "resourceIdentifier": {"clientId": h},
            "additionalInfo": {h: h, "nested": {h: [h]}},
        },
        "relatedResources": [
            {
                "resourceType": "ISSUER_CERTIFICATE",
                "resourceIdentifier": {
                    "issuerCertificateIdentifier": {"issuerCertificateSubject": h, "issuerId": h},
                    "deviceCertificateId": h,
                },
                "additionalInfo": {"CONNECTION_TIME": h, h: h},
            },
            {"resourceIdentifier": {h: h}},
        ],
        "reasonForNonComplianceCode": h,
        "reasonForNonCompliance": h,
        "isSuppressed": False,
    }


# -- the boundary ---------------------------------------------------------------------------------------
def test_safe_covers_every_control_format_and_separator_code_point() -> None:
    missed = [
        f"U+{c:04X}"
        for c in range(0x110000)
        if chr(c) not in "\n\t"
        and unicodedata.category(chr(c)) in FORBIDDEN_CATEGORIES
        and leaks(safe(chr(c)))
    ]
    assert missed == []
    assert safe("\u202e") == "\\u202e" and safe("\x1b[2J") == "\\x1b[2J"
    assert safe("\U000e0041") == "\\U000e0041"
    assert safe("a\nb\tc") == "a\nb\tc"
    assert safe("Zürich 東京 [bold]x[/] é") == "Zürich 東京 [bold]x[/] é"  # printable text is untouched


@FEW
@given(HOSTILE)
def test_safe_escapes_visibly_and_only_once(h: str) -> None:
    shown = safe(h)
    assert_clean(shown)
    assert safe(shown) == shown
    assert shown.count("\n") == h.count("\n") and shown.count("\t") == h.count("\t")


# Each way around the boundary found in issue 11, with ESC (which `safe` always escaped): what is shown.
ESC = "\x1b]0;pwn\x07"
BYPASSES = {
    "additionalInfo keys and values": lambda: drawn(
        describe_finding(Finding.from_api({"nonCompliantResource": {"additionalInfo": {ESC: ESC}}}))
    ),
    "AwsError hint": lambda: AwsError("Code", "message", "Op", hint=ESC).text,
    "AccessDenied hint quoting AWS": lambda: (
        map_error(
            ClientError({"Error": {"Code": "AccessDenied", "Message": ESC}}, "GetRole"),
            "GetRole",
            None,
            service="iam",
        ).text
    ),
    "check names from auditCheckConfigurations keys": lambda: "".join(
        c.name
        for c in AuditConfiguration.from_api({"auditCheckConfigurations": {ESC: {"enabled": True}}}).checks
    ),
    "check configuration": lambda: "".join(
        k + v
        for c in AuditConfiguration.from_api(
            {"auditCheckConfigurations": {"X": {"configuration": {ESC: ESC}}}}
        ).checks
        for k, v in c.configuration.items()
    ),
    "check names from auditDetails keys": lambda: row_drawn(
        CHECK_COLUMNS, check_row(AuditTask.from_api({"auditDetails": {ESC: {}}}).checks[0])
    ),
    "check names from strings()": lambda: "".join(
        ScheduledAudit.from_api({"targetCheckNames": [ESC]}).check_names
    ),
    "check title of an unknown check": lambda: check_info(ESC).title + check_info(ESC).description,
    "mitigation mapping and statistics keys": lambda: "".join(
        k + "".join(v) + "".join(t.stats)
        for t in [
            MitigationTask.from_api(
                {
                    "auditCheckToActionsMapping": {ESC: [ESC]},
                    "taskStatistics": {ESC: {"totalFindingsCount": 1}},
                }
            )
        ]
        for k, v in t.mapping.items()
    ),
    "mitigation target finding ids": lambda: (
        row_drawn(EXECUTION_COLUMNS, target_row(ESC))
        + row_drawn(EXECUTION_COLUMNS, execution_row(ESC, MitigationExecution.from_api({})))
    ),
    "resource full id from flattened identifier": lambda: (
        Finding.from_api({"nonCompliantResource": {"resourceIdentifier": {ESC: ESC}}}).resource.full_id
    ),
}


@pytest.mark.parametrize("shown", BYPASSES.values(), ids=BYPASSES.keys())
def test_no_way_around_the_boundary(shown: Any) -> None:
    assert_clean(shown())


# -- models and the rows and screens built from them ------------------------------------------------------
@FEW
@given(HOSTILE)
def test_findings_rows_and_detail(h: str) -> None:
    finding = Finding.from_api(finding_reply(h))
    assert_clean(row_drawn(FINDING_COLUMNS, finding_row(finding)))
    assert_clean(row_drawn(ALL_FINDING_COLUMNS, all_finding_row(finding)))
    assert_clean(drawn(describe_finding(finding)))
    for ref in (finding.resource, *finding.related):
        assert_clean(ref.readable + ref.full_id)
        assert_clean("".join(k + v for k, v in ref.additional_info.items()))
    # What goes back to AWS (a suppression's resourceIdentifier) is AWS's own value, not the shown one.
    assert finding.resource.identifier == {"clientId": h}


@FEW
@given(HOSTILE)
def test_audit_tasks_checks_configuration_and_schedules(h: str) -> None:
    stats = {"totalChecks": 1, "nonCompliantChecks": 1}
    task = AuditTask.from_api(
        {
            "taskId": h,
            "taskStatus": h,
            "taskType": h,
            "scheduledAuditName": h,
            "taskStatistics": stats,
            "auditDetails": {h: {"checkRunStatus": h, "errorCode": h, "message": h}},
        },
    )
    assert_clean(row_drawn(TASK_COLUMNS, task_row(task)))
    for check in task.checks:
        assert_clean(check.check_name + (check.message or "") + (check.error_code or ""))
        assert_clean(row_drawn(CHECK_COLUMNS, check_row(check)))
    config = AuditConfiguration.from_api(
        {
            "roleArn": h,
            "auditCheckConfigurations": {h: {"enabled": True, "configuration": {h: h}}},
            "auditNotificationTargetConfigurations": {"SNS": {"targetArn": h, "roleArn": h}},
        }
    )
    for c in config.checks:
        info = check_info(c.name)
        assert_clean(c.name + info.title + info.description)
        assert_clean("".join(k + v for k, v in c.configuration.items()))
    assert_clean(check_info(h).title + check_info(h).description)  # a name no model has seen
    audit = ScheduledAudit.from_api({"scheduledAuditName": h, "targetCheckNames": [h, h], "frequency": h})
    assert_clean(audit.name + "".join(audit.check_names) + checks_text(audit.check_names))
    suppression = Suppression.from_api(
        {"checkName": h, "resourceIdentifier": {"clientId": h}, "description": h}
    )
    assert_clean(suppression.check_name + (suppression.description or "") + suppression.resource.readable)


@FEW
@given(HOSTILE)
def test_mitigation_tasks_actions_and_executions(h: str) -> None:
    task = MitigationTask.from_api(
        {
            "taskId": h,
            "taskStatus": h,
            "target": {"findingIds": [h]},
            "auditCheckToActionsMapping": {h: [h]},
            "taskStatistics": {h: {"totalFindingsCount": 1}},
            "actionsDefinition": [{"name": h, "roleArn": h, "actionParams": {h: {h: h}}}],
        },
    )
    assert_clean(drawn(*MitigationPane._task_row(task)))
    assert_clean("".join(k + "".join(v) for k, v in task.mapping.items()) + "".join(task.stats))
    for action in (*task.actions, MitigationAction.from_api({"actionName": h, "actionType": h})):
        assert_clean(drawn(*MitigationPane._action_row(action)))
    execution = MitigationExecution.from_api(
        {"taskId": h, "findingId": h, "actionName": h, "status": h, "errorCode": h, "message": h}
    )
    # The finding ids of a task's target are AWS's structure, kept as sent (they are sent back).
    assert task.target == {"findingIds": [h]}
    assert_clean(row_drawn(EXECUTION_COLUMNS, execution_row(h, execution)))
    assert_clean(row_drawn(EXECUTION_COLUMNS, target_row(h)))


@FEW
@given(HOSTILE)
def test_errors_and_their_hints(h: str) -> None:
    error = AwsError(h, h, h, hint=h)
    assert_clean(error.text + error.code + error.message + str(error))
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": h}}, "ListAuditFindings")
    assert_clean(map_error(denied, "ListAuditFindings", None).text)
    other = map_error(RuntimeError(h), "ListAuditFindings", None)
    assert_clean(other.text)


@FEW
@given(HOSTILE)
def test_header_identity(h: str) -> None:
    me = Identity.from_api({"Account": h, "Arn": h, "UserId": h})
    header = DefenderHeader(read_only=True, region="us-east-1")
    header.account, header.arn = me.account, me.arn
    assert_clean(drawn(header.render_text()))


# At most 3 pieces (120 characters): one line of every place checked below.
MARKUP_TEXT = st.lists(
    st.one_of(st.sampled_from(MARKUP), st.text("[]/=@ab ", max_size=6)), min_size=1, max_size=3
).map("".join)


@FEW
@given(MARKUP_TEXT)
def test_markup_is_shown_as_typed(h: str) -> None:
    """Brackets from AWS are text: shown literally, nothing styled or linked (drawn() checks links)."""
    finding = Finding.from_api(finding_reply(h))
    assert f"Finding id    {h}" in drawn(describe_finding(finding))
    assert h in row_drawn(FINDING_COLUMNS, finding_row(finding))
    me = Identity.from_api({"Account": "123456789012", "Arn": h})
    header = DefenderHeader(read_only=False, region="us-east-1")
    header.arn = me.arn
    assert h in drawn(header.render_text())
    assert h in drawn(Text(AwsError("Code", h, "Op", hint=h).text))


# -- the journal command ------------------------------------------------------------------------------------
def _journal_with(h: str) -> None:
    """Entries as the client writes them: who from STS, params and results as sent and received, errors
    as AwsError's text."""
    me = Identity.from_api({"Account": h, "Arn": h})
    with Journal.open(journal_path()) as journal:
        entry = journal.record_intent(
            identity_arn=me.arn,
            account=me.account,
            region="us-east-1",
            operation="CreateAuditSuppression",
            params={"checkName": h, "resourceIdentifier": {"clientId": h}, "description": h},
        )
        journal.record_outcome(entry, error=AwsError(h, h, "CreateAuditSuppression", h).text)
        other = journal.record_intent(
            identity_arn=me.arn,
            account=me.account,
            region="us-east-1",
            operation="StartOnDemandAuditTask",
            params={},
        )
        journal.record_outcome(other, result={"taskId": h})


@pytest.mark.parametrize(
    "flags",
    [[], ["--json"]],
)
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(h=HOSTILE)
@example(h=HOSTILE_NAME)
@example(h="\x7f")
def test_journal_command(
    h: str, flags: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    home = tmp_path / uuid.uuid4().hex
    monkeypatch.setenv(HOME_ENV, str(home))
    _journal_with(h)
    capsys.readouterr()
    assert cli.main(["journal", *flags]) == 0
    out = capsys.readouterr().out
    assert_clean(out)
    if flags:  # escaped for the terminal, yet still AWS's values once parsed
        entries = [json.loads(line) for line in out.splitlines()]
        assert [e["params"].get("resourceIdentifier", {}).get("clientId") for e in entries] == [None, h]


# -- the real app ---------------------------------------------------------------------------------------


async def test_status_line_shows_errors_escaped(aws_env: Path) -> None:
    app = DefenderApp(sandbox_settings(closed_port_url()), Settings(), None, tuning=FAST)
    async with app.run_test(size=(100, 24)) as pilot:
        status = app.query_one("#status", Static)
        await until(pilot, lambda: "connection refused" in str(status.render()))  # the first connection
        for error in (RuntimeError(HOSTILE_NAME), AwsError(HOSTILE_NAME, HOSTILE_NAME, hint=HOSTILE_NAME)):
            app.report_worker(SimpleNamespace(error=error, name="load", group="load"), WorkerState.ERROR)
            await pilot.pause()
            shown = str(status.render())
            assert_clean(shown)
            assert "[bold]dev[/]" in shown
            assert_clean(app.export_screenshot())


def _table_text(table: Any) -> str:
    return "\n".join(table.render_line(y).text for y in range(table.scrollable_content_region.height))


async def test_findings_table_and_detail_in_the_app(sandbox_url: str, aws_env: Path) -> None:
    check = "CONFLICTING_CLIENT_IDS_CHECK"
    state = defender_state()
    task = seed_task(state, runtime().clock.now() - 600, checks=(check,))
    task.checks[check].non_compliant = task.checks[check].total_resources = 1
    finding = seed_finding(
        state,
        task,
        {"clientId": HOSTILE_NAME},
        check_name=check,
        reason_code="DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS",
        reason=HOSTILE_NAME,
        related=[
            {
                "resourceType": "CLIENT_ID",
                "resourceIdentifier": {"clientId": HOSTILE_NAME},
                "additionalInfo": {HOSTILE_NAME: HOSTILE_NAME, "CONNECTION_TIME": "1700000000000"},
            }
        ],
    )
    finding.additional_info = {HOSTILE_NAME: HOSTILE_NAME}
    app = DefenderApp(sandbox_settings(sandbox_url), Settings(), None)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "connected" in str(app.query_one(DefenderHeader).render_text()))
        await pilot.press("3")
        pane = app.query_one(ResultsPane)
        await until(pilot, lambda: "COMPLETED" in _table_text(pane.table))
        await pilot.press("enter")
        await until(pilot, lambda: "non-compliant" in _table_text(pane.table))
        pane.table.move_to_key(check)
        await pilot.press("enter")
        await until(pilot, lambda: pane.table.row_count == 1 and not pane.stream.loading)
        rows = _table_text(pane.table)
        assert "[bold]dev[/]" in rows
        assert_clean(rows)
        assert_clean(app.export_screenshot())

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FindingDetailScreen))
        detail = str(app.screen.query_one("#finding", Static).render())
        assert detail.count("[bold]dev[/]") >= 5  # id, reason, related id, additionalInfo key and value
        assert_clean(detail)
        assert_clean(app.export_screenshot())
