"""`iot-defender-tui findings` against the session sandbox with the lab fleet: every format parsed back by a
real parser, the audit chosen, the filters, a baseline, the exit codes."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import pytest

from iot_defender_tui import cli, cli_findings, export
from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.models import Finding
from tests.support.models import lab_task_id
from tests.support.sandbox import ACCOUNT, REGION, closed_port_url

SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"
POLICY = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
LOGGING = "LOGGING_DISABLED_CHECK"
LAB = {SHARED, POLICY, LOGGING}  # the lab's three failing checks, one finding each
# Security Hub's required top-level ASFF attributes and their JSON types.
ASFF_REQUIRED = {
    "AwsAccountId": str,
    "CreatedAt": str,
    "Description": str,
    "GeneratorId": str,
    "Id": str,
    "ProductArn": str,
    "Resources": list,
    "SchemaVersion": str,
    "Severity": dict,
    "Title": str,
    "Types": list,
    "UpdatedAt": str,
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["findings", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def rows(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, *argv, "--format", "jsonl")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def new_audit(iot: Any, *checks: str) -> str:
    task_id = iot.start_on_demand_audit_task(targetCheckNames=list(checks))["taskId"]
    deadline = time.monotonic() + 20
    while iot.describe_audit_task(taskId=task_id)["taskStatus"] != "COMPLETED":
        assert time.monotonic() < deadline, "the audit did not finish"
        time.sleep(0.1)
    return task_id


def test_every_format_parses_back_to_the_lab_findings(lab, iot, capsys):
    task_id = lab_task_id(iot)
    code, out, _ = run(capsys, "--task", task_id, "--format", "json")
    assert code == 0
    found = json.loads(out)
    assert {f["check_name"] for f in found} == LAB and len(found) == 3
    assert {f["task_id"] for f in found} == {task_id}
    assert {(f["account"], f["region"]) for f in found} == {(ACCOUNT, REGION)}  # no context: no "context"
    assert not any("context" in f for f in found)
    by_check = {f["check_name"]: f for f in found}
    assert by_check[LOGGING]["resource_identifier"] == {"account": ACCOUNT}
    assert by_check[SHARED]["severity"] == "CRITICAL" and by_check[LOGGING]["severity"] == "LOW"

    assert rows(capsys, "--task", task_id) == found  # jsonl: the same objects, one a line

    _, out, _ = run(capsys, "--task", task_id, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert [r["finding_id"] for r in table] == [f["finding_id"] for f in found]
    assert [r["reason"] for r in table] == [f["reason"] for f in found]
    assert list(table[0]) == list(export.CSV_FIELDS)

    _, out, _ = run(capsys, "--task", task_id, "--format", "asff")
    for item in json.loads(out):
        for name, kind in ASFF_REQUIRED.items():
            assert isinstance(item[name], kind), name
        assert item["SchemaVersion"] == "2018-10-08" and item["AwsAccountId"] == ACCOUNT
        check = item["GeneratorId"]
        assert item["Types"] == [f"Software and Configuration Checks/AWS IoT Device Defender/{check}"]
        assert item["Severity"]["Label"] == by_check[check]["severity"]
        assert item["Compliance"] == {"Status": "FAILED"} and item["RecordState"] == "ACTIVE"
        assert item["CreatedAt"].endswith("Z") and item["Resources"][0]["Id"] and item["Resources"][0]["Type"]

    _, out, _ = run(capsys, "--task", task_id, "--format", "ocsf")
    for item in json.loads(out):
        assert (item["class_uid"], item["category_uid"], item["activity_id"], item["type_uid"]) == (
            2003, 2, 1, 200301,
        )  # fmt: skip
        assert isinstance(item["time"], int) and item["severity_id"] in (2, 5)
        assert item["metadata"]["version"] and item["metadata"]["product"]["name"]
        assert item["finding_info"]["uid"] in by_check[item["compliance"]["control"]]["finding_id"]
        assert item["compliance"]["standards"] and item["compliance"]["status_id"] == 3

    _, out, _ = run(capsys, "--task", task_id, "--format", "junit")
    root = ET.fromstring(out)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert {name for name, s in suites.items() if s.get("failures") != "0"} == LAB
    assert len(suites) == len(iot.describe_audit_task(taskId=task_id)["auditDetails"])
    assert suites[SHARED].find("testcase/failure").get("type") == "CRITICAL"
    passing = next(s for name, s in suites.items() if name not in LAB)
    assert passing.find("testcase").get("name") == "compliant" and passing.find("testcase/failure") is None

    _, out, _ = run(capsys, "--task", task_id)
    lines = out.splitlines()
    assert lines[0].split() == ["SEVERITY", "CHECK", "RESOURCE", "ACCOUNT/REGION", "REASON"]
    assert lines[-1] == "3 findings" and all(f"{ACCOUNT}/{REGION}" in line for line in lines[1:-1])
    assert sum(check in out for check in LAB) == 3


def test_latest_filters_and_suppressed(lab, iot, capsys):
    assert {r["check_name"] for r in rows(capsys, "--latest")} == LAB
    checks = rows(capsys, "--latest", "--check", LOGGING, SHARED)
    assert {r["check_name"] for r in checks} == {LOGGING, SHARED}
    critical = rows(capsys, "--latest", "--severity", "critical")
    assert {r["check_name"] for r in critical} == {SHARED, POLICY}
    assert rows(capsys, "--latest", "--severity", "LOW", "--check", SHARED) == []

    iot.create_audit_suppression(
        checkName=LOGGING, resourceIdentifier={"account": ACCOUNT}, suppressIndefinitely=True
    )
    # AWS reports a finding's suppression as of its audit (API_AuditFinding's isSuppressed): the lab's
    # audit ran before the suppression, an audit run after it reports the finding suppressed.
    assert {r["check_name"] for r in rows(capsys, "--latest")} == LAB
    after = new_audit(iot, *LAB)
    assert {r["check_name"] for r in rows(capsys, "--latest")} == {SHARED, POLICY}
    every = rows(capsys, "--latest", "--include-suppressed")
    suppressed = {r["check_name"]: r["is_suppressed"] for r in every}
    assert suppressed == {SHARED: False, POLICY: False, LOGGING: True}
    assert {r["task_id"] for r in every} == {after}

    newer = new_audit(iot, LOGGING)  # --latest: the newest completed audit
    assert [(r["task_id"], r["check_name"]) for r in rows(capsys, "--latest", "--include-suppressed")] == [
        (newer, LOGGING)
    ]


def test_a_baseline_or_an_older_audit_leaves_only_the_new_findings(lab, iot, capsys, tmp_path):
    old = lab_task_id(iot)
    baseline = tmp_path / "baseline.json"
    code, out, _ = run(capsys, "--latest", "--format", "json")
    baseline.write_text(out)
    assert code == 0 and rows(capsys, "--latest", "--baseline", str(baseline)) == []

    # A new problem: a second device policy allowing every IoT action, attached to a certificate.
    cert = iot.create_keys_and_certificate(setAsActive=True)["certificateArn"]
    allow_all = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}],
    }
    iot.create_policy(policyName="WideOpen", policyDocument=json.dumps(allow_all))
    iot.attach_policy(policyName="WideOpen", target=cert)
    task = new_audit(iot, POLICY, LOGGING)

    for flags in (("--baseline", str(baseline)), ("--new-since", old)):
        new = rows(capsys, "--task", task, *flags)
        assert [(r["check_name"], r["resource_id"]) for r in new] == [(POLICY, "WideOpen")], flags
    jsonl = tmp_path / "baseline.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows(capsys, "--task", old)))
    assert [r["resource_id"] for r in rows(capsys, "--task", task, "--baseline", str(jsonl))] == ["WideOpen"]
    _, out, _ = run(capsys, "--task", task, "--baseline", str(baseline), "--format", "junit")
    failed = [c.get("name") for c in ET.fromstring(out).iter("testcase") if c.find("failure") is not None]
    assert failed == ["WideOpen"]


def split_pages(
    monkeypatch: pytest.MonkeyPatch, printed: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Each page AWS gives becomes ten pages of one finding each (ids made distinct); `printed` gets what
    was out on stdout before each page was handed over."""
    original = DefenderClient.iter_findings

    async def ten_pages(self: DefenderClient, **filters: Any) -> AsyncIterator[Any]:
        async for page in original(self, **filters):
            for n in range(10):
                printed.append(capsys.readouterr().out)
                yield tuple(dataclasses.replace(f, finding_id=f"{f.finding_id}-{n}") for f in page[:1])
                await asyncio.sleep(0)  # as a page from the network would

    monkeypatch.setattr(DefenderClient, "iter_findings", ten_pages)


def test_jsonl_is_out_page_by_page(lab, capsys, monkeypatch):
    """Lines are on stdout while later pages are still to come: streamed (at most 2 pages read ahead),
    not collected."""
    printed: list[str] = []  # stdout before each page
    split_pages(monkeypatch, printed, capsys)
    code, out, _ = run(capsys, "--latest", "--check", SHARED, "--format", "jsonl")
    early = "".join(printed).count("\n")
    assert code == 0 and len(out.splitlines()) + early == 10
    assert early >= 10 - 3  # all but the pages read ahead were out before the last was asked for


def test_checks_read_side_by_side_print_each_finding_once(lab, capsys, monkeypatch):
    """An audit of more than a page or two reads its checks side by side after the first pages: every
    finding once, none lost or repeated where the two streams meet."""
    printed: list[str] = []
    split_pages(monkeypatch, printed, capsys)
    code, out, _ = run(capsys, "--latest", "--format", "jsonl")
    ids = [json.loads(line)["finding_id"] for line in ("".join(printed) + out).splitlines()]
    assert code == 0 and len(ids) == len(set(ids)) == 3 * 10
    assert {i.rsplit("-", 1)[1] for i in ids} == {str(n) for n in range(10)}


def test_aws_text_is_data_in_every_format():
    hostile = "=cmd|'/c calc'!A1\x1b[2J\n<b>&\u202e"
    f = Finding.from_api(
        {
            "findingId": "f1",
            "taskId": "t1",
            "checkName": LOGGING,
            "severity": "LOW",
            "nonCompliantResource": {
                "resourceType": "ACCOUNT_SETTINGS",
                "resourceIdentifier": {"account": "1"},
            },
            "reasonForNonCompliance": hostile,
        }
    )
    source = export.Source(ACCOUNT, REGION)
    outs = {}
    for fmt in export.FORMATS:
        out = io.StringIO()
        w = export.writer(fmt, out, source, [LOGGING])
        w.write([f])
        w.close()
        outs[fmt] = out.getvalue()
    for fmt in ("table", "junit", "jsonl", "json", "asff", "ocsf"):
        assert not any(c in outs[fmt] for c in "\x1b\u202e"), fmt
    assert json.loads(outs["json"])[0]["reason"] == f.reason
    assert next(csv.DictReader(io.StringIO(outs["csv"])))["reason"] == "'" + f.reason  # no formula
    assert ET.fromstring(outs["junit"]).find(".//failure").get("message").startswith("=cmd")
    assert cli_findings.FORMATS == export.FORMATS


def test_exit_codes(lab, capsys, tmp_path, monkeypatch):
    code, out, err = run(capsys, "--task", "no-such-task")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad.json"
    bad.write_text('[{"check_name": 1}]')
    for path in (bad, tmp_path / "missing.json"):
        code, _, err = run(capsys, "--latest", "--baseline", str(path))
        assert code == 2 and "--baseline" in err and len(err.strip().splitlines()) == 1
    for argv in ([], ["--task", "a b"], ["--latest", "--format", "xml"], ["--latest", "--severity", "BAD"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(["findings", *argv])
        assert exited.value.code == 2
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed_port_url())
    code, out, err = run(capsys, "--latest")
    assert code == 1 and out == "" and err.startswith("iot-defender-tui: ") and err.count("\n") == 1
