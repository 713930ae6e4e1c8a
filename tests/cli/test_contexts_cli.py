"""The automation commands across contexts (issue 17, point 5): `--context NAME` picks one, `--all-contexts`
runs in each (a context's failure named on stderr, the others printed), and every format says which account
and region each finding is of. Against the sandbox: us-east-1 has the lab and its completed audit, eu-west-1
nothing (no audit configuration, no audit)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from iot_defender_tui import cli, cli_audit, cli_mitigate
from iot_defender_tui.aws import context_fanout, organization
from iot_defender_tui.aws.contexts import Context
from iot_defender_tui.aws.errors import AccessDeniedError
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.config import journal_path
from iot_defender_tui.sandbox.fleet import seed_fleet
from tests.cli.test_mitigate import deactivate_action
from tests.support.mitigation import NEEDS, SHARED
from tests.support.models import lab_task_id
from tests.support.sandbox import ACCOUNT, make_client

LAB = {"DEVICE_CERTIFICATE_SHARED_CHECK", "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK"}
LOGGING = "LOGGING_DISABLED_CHECK"
POLICY = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
OTHER = "210987654321"  # a second account, reached through a role (moto lets any role be assumed)
TWO = ("--region", "us-east-1,eu-west-1")  # contexts default/us-east-1 and default/eu-west-1
CONFIG = """
[[contexts]]
name = "prod"
region = "us-east-1"

[[contexts]]
name = "eu"
region = "eu-west-1"
read_only = true
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def configure(text: str) -> None:
    path = journal_path().parent.parent / "config" / "config.toml"  # under IOT_DEFENDER_TUI_HOME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def jsonl(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_all_contexts_prints_each_regions_findings_and_names_the_one_that_failed(lab, capsys):
    code, out, err = run(capsys, "findings", "--all-contexts", "--latest", "--format", "jsonl", *TWO)
    assert code == 1  # a context failed: the run is not a success, though the other was printed
    found = jsonl(out)
    assert {f["check_name"] for f in found} == LAB and len(found) == 3
    where = {(f["account"], f["region"], f["context"]) for f in found}
    assert where == {(ACCOUNT, "us-east-1", "default/us-east-1")}
    (line,) = err.splitlines()
    assert line.startswith("iot-defender-tui: default/eu-west-1: ") and "no completed audit" in line


def test_context_picks_one_and_an_unknown_one_is_a_usage_error(lab, capsys):
    us = "default/us-east-1"
    code, out, _ = run(capsys, "findings", "--context", us, "--latest", "--format", "jsonl", *TWO)
    assert code == 0 and {(f["region"], f["context"]) for f in jsonl(out)} == {("us-east-1", us)}
    code, out, err = run(capsys, "findings", "--context", "default/eu-west-1", "--latest", *TWO)
    assert code == 1 and out == "" and "no completed audit" in err and err.count("\n") == 1

    configure(CONFIG)
    code, out, _ = run(capsys, "findings", "--context", "prod", "--latest", "--format", "jsonl")
    assert code == 0 and {f["context"] for f in jsonl(out)} == {"prod"} and len(jsonl(out)) == 3
    code, out, err = run(capsys, "findings", "--context", "nope", "--latest")
    assert code == 2 and out == "" and "no context named 'nope'" in err and "prod, eu" in err
    for command in (
        ["mitigate", "--task", "t", "--check", LOGGING, "--action", "a"],
        ["revert", "--mitigation-task", "t"],
    ):
        code, _, err = run(capsys, *command, "--context", "nope", "--yes")
        assert code == 2 and "known contexts: prod, eu" in err, command
        with pytest.raises(SystemExit) as exited:  # a task id is of one account-region: no --all-contexts
            cli.main([*command, "--all-contexts"])
        assert exited.value.code == 2


def test_a_task_id_or_a_region_list_alone_is_a_usage_error(lab, iot, capsys):
    task_id = lab_task_id(iot)
    for flags in (["--task", task_id], ["--latest", "--new-since", task_id]):
        code, out, err = run(capsys, "findings", "--all-contexts", *flags, *TWO)
        assert code == 2 and out == "" and "--all-contexts takes --latest" in err, flags
    code, _, err = run(capsys, "findings", "--latest", *TWO)  # which of the two? say so, do not guess
    assert code == 2 and "--context NAME (default/us-east-1, default/eu-west-1)" in err
    with pytest.raises(SystemExit) as exited:
        cli.main(["findings", "--latest", "--all-contexts", "--context", "prod"])
    assert exited.value.code == 2
    code, _, err = run(capsys, "findings", "--latest", "--all-contexts")  # no contexts at all
    assert code == 2 and "there are no contexts" in err


def test_csv_json_and_junit_stay_whole_when_a_context_fails(lab, capsys):
    configure(CONFIG)
    code, out, err = run(capsys, "findings", "--all-contexts", "--latest", "--format", "csv")
    assert code == 1 and "eu: " in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {(r["account"], r["region"], r["context"]) for r in rows} == {(ACCOUNT, "us-east-1", "prod")}
    assert {r["check_name"] for r in rows} == LAB

    code, out, _ = run(capsys, "findings", "--all-contexts", "--latest", "--format", "json")
    found = {(f["context"], f["check_name"]) for f in json.loads(out)}
    assert code == 1 and found == {("prod", c) for c in LAB}

    code, out, _ = run(capsys, "findings", "--all-contexts", "--latest", "--format", "asff")
    assert {(f["AwsAccountId"], f["Region"]) for f in json.loads(out)} == {(ACCOUNT, "us-east-1")}

    code, out, _ = run(capsys, "findings", "--all-contexts", "--latest", "--format", "junit")
    root = ET.fromstring(out)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert {n for n, s in suites.items() if s.get("failures") != "0"} == {f"prod/{c}" for c in LAB}
    props = {p.get("name"): p.get("value") for p in suites[f"prod/{LOGGING}"].iter("property")}
    assert (props["account"], props["region"], props["context"]) == (ACCOUNT, "us-east-1", "prod")
    error = suites["eu"].find("testcase/error")
    assert suites["eu"].get("errors") == "1" and "no completed audit" in error.get("message")
    assert root.get("errors") == "1"

    # Every context failed: still one valid (empty) document.
    configure(CONFIG.replace('"us-east-1"', '"eu-central-1"'))
    code, out, err = run(capsys, "findings", "--all-contexts", "--latest", "--format", "json")
    assert code == 1 and json.loads(out) == [] and len(err.splitlines()) == 2


def test_a_baseline_knows_findings_in_its_own_account_and_region_only(lab, capsys, tmp_path):
    seed_fleet("lab", account_id=OTHER)  # the same problems in a second account
    configure(CONFIG + f'[[contexts]]\nname = "other"\nrole_arn = "arn:aws:iam::{OTHER}:role/Auditor"\n')
    code, out, _ = run(capsys, "findings", "--context", "prod", "--latest", "--format", "json")
    assert code == 0
    keyed, old = tmp_path / "keyed.json", tmp_path / "old.json"
    keyed.write_text(out)
    unkeyed = [{k: v for k, v in f.items() if k not in ("account", "region")} for f in json.loads(out)]
    old.write_text(json.dumps(unkeyed))

    flags = ["--all-contexts", "--latest", "--format", "jsonl"]
    code, out, _ = run(capsys, "findings", *flags, "--baseline", str(keyed))
    new = jsonl(out)
    assert code == 1  # eu has no audit
    assert {f["account"] for f in new} == {OTHER}  # this account's are known, the other's all new
    assert {f["check_name"] for f in new} == LAB
    # A baseline written before findings named their account and region knows them everywhere, as before:
    # the other account's policy has the same name, so is "known".
    code, out, _ = run(capsys, "findings", *flags, "--baseline", str(old))
    assert {f["check_name"] for f in jsonl(out)} == LAB - {POLICY}


def test_a_read_only_context_refuses_audit_run_and_the_others_still_run(lab, capsys, monkeypatch):
    monkeypatch.setattr(cli_audit, "POLL_SECONDS", 0.05)
    configure(CONFIG)
    code, out, err = run(capsys, "audit", "run", "--context", "eu", "--checks", LOGGING)
    assert code == 1 and out == "" and "read-only" in err.lower()

    argv = ["audit", "run", "--all-contexts", "--checks", LOGGING, "--wait", "--fail-on", "LOW"]
    argv += ["--format", "jsonl"]
    code, out, err = run(capsys, *argv)
    assert code == 1  # an error in one context outranks a finding at --fail-on in another (3)
    assert [(f["context"], f["check_name"]) for f in jsonl(out)] == [("prod", LOGGING)]
    assert "iot-defender-tui: eu: " in err and "read-only" in err.lower()
    assert "iot-defender-tui: prod: 1 findings, the worst LOW: at or above --fail-on LOW" in err
    with Journal.open(journal_path(), read_only=True) as journal:
        started = [e.region for e in journal.entries(None) if e.operation == "StartOnDemandAuditTask"]
    assert started == ["us-east-1"]

    configure(CONFIG.replace("read_only = true", "read_only = false").replace('"eu-west-1"', '"us-east-1"'))
    # No --wait: each context's task id.
    code, out, _ = run(capsys, "audit", "run", "--all-contexts", "--checks", LOGGING)
    assert code == 0 and sorted(line.split("\t")[0] for line in out.splitlines()) == ["eu", "prod"]
    code, _, _ = run(capsys, *argv)
    assert code == 3  # both ran, both found the LOW finding


@pytest.fixture
def org(lab: str) -> dict[str, str]:
    """The sandbox's account manages an organization of two more; members' regions have no audit."""
    organizations = make_client(lab, "organizations")
    organizations.create_organization(FeatureSet="ALL")
    ids = {}
    for name in ("Prod Fleet", "Lab"):
        status = organizations.create_account(Email=f"{name[:3]}@example.com", AccountName=name)
        ids[name] = status["CreateAccountStatus"]["AccountId"]
    configure('[organization]\nregions = ["us-east-1"]\n')
    return ids


def test_all_contexts_includes_the_organizations_accounts(org, capsys):
    code, out, err = run(capsys, "findings", "--all-contexts", "--latest", "--format", "jsonl")
    assert code == 1
    found = jsonl(out)
    assert len(found) == 3 and {(f["account"], f["context"]) for f in found} == {
        (ACCOUNT, "master/us-east-1")
    }
    failed = sorted(line.split(": ")[1] for line in err.splitlines())
    assert failed == ["Lab/us-east-1", "Prod-Fleet/us-east-1"]  # each member named: no audit there
    assert all("no completed audit" in line for line in err.splitlines())

    # Each finding names its own account, in every format.
    seed_fleet("lab", account_id=org["Prod Fleet"])
    code, out, _ = run(capsys, "findings", "--all-contexts", "--latest", "--format", "asff")
    accounts = {(f["AwsAccountId"], f["Region"], f["ProductArn"].split(":")[4]) for f in json.loads(out)}
    assert accounts == {(ACCOUNT, "us-east-1", ACCOUNT), (org["Prod Fleet"], "us-east-1", org["Prod Fleet"])}
    code, out, _ = run(capsys, "findings", "--all-contexts", "--latest", "--format", "ocsf")
    clouds = {(f["cloud"]["account"]["uid"], f["cloud"]["region"]) for f in json.loads(out)}
    assert clouds == {(ACCOUNT, "us-east-1"), (org["Prod Fleet"], "us-east-1")}

    # A member picked by name: listed from AWS, then worked in (through its role) like any context.
    code, out, err = run(capsys, "findings", "--context", "Lab/us-east-1", "--latest")
    assert code == 1 and "no completed audit" in err
    code, _, err = run(capsys, "findings", "--context", "Nope/us-east-1", "--latest")
    assert code == 2 and "Prod-Fleet/us-east-1" in err


def test_an_organization_that_cannot_be_listed_leaves_the_other_contexts_running(lab, capsys, monkeypatch):
    async def refused(*_: object) -> list[Context]:
        # moto lists any caller's accounts: AWS's refusal as organization_contexts raises it
        # (tests/aws/test_organization.py holds it to AWS's reply).
        denied = "Cannot list the organization's accounts: access denied."
        raise AccessDeniedError("AccessDenied", denied, "ListAccounts", None, "organizations:ListAccounts")

    monkeypatch.setattr(organization, "organization_contexts", refused)
    configure('[organization]\nregions = ["us-east-1"]\n\n' + CONFIG)
    code, out, err = run(capsys, "findings", "--all-contexts", "--latest", "--format", "junit")
    assert code == 1 and "iot-defender-tui: [organization]: " in err and "access denied" in err
    suites = {s.get("name"): s for s in ET.fromstring(out).iter("testsuite")}
    assert suites["[organization]"].get("errors") == "1" and f"prod/{LOGGING}" in suites


def test_a_plain_run_or_a_static_context_does_not_list_the_organization(org, capsys, monkeypatch):
    async def refused(*_: object) -> list[Context]:
        raise AssertionError("the organization was listed")

    monkeypatch.setattr(organization, "organization_contexts", refused)
    configure('[organization]\nregions = ["us-east-1"]\n\n' + CONFIG)
    assert run(capsys, "findings", "--latest")[0] == 0
    code, out, _ = run(capsys, "findings", "--context", "prod", "--latest", "--format", "jsonl")
    assert code == 0 and len(jsonl(out)) == 3


async def test_contexts_run_eight_at_a_time_and_two_per_account():
    running: dict[str, int] = {}
    most: dict[str, int] = {}

    async def job(context: Context) -> str:
        for key in (context.account_id, "all"):
            running[key] = running.get(key, 0) + 1
            most[key] = max(most.get(key, 0), running[key])
        await asyncio.sleep(0.001)
        for key in (context.account_id, "all"):
            running[key] -= 1
        return context.name

    contexts = [Context(f"c{n}", None, "us-east-1", account_id=str(n % 6).zfill(12)) for n in range(30)]
    names = await context_fanout.run_each(contexts, job)
    assert names == [c.name for c in contexts]  # each once, reported in order
    assert most["all"] == 8 and all(most[str(n).zfill(12)] == 2 for n in range(6))


def test_mitigate_works_in_the_context_it_is_given(lab, capsys, monkeypatch):
    monkeypatch.setattr(cli_mitigate, "POLL_SECONDS", 0.05)
    audit = deactivate_action(lab, NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    configure(CONFIG + '[[contexts]]\nname = "watch"\nregion = "us-east-1"\nread_only = true\n')
    argv = ["mitigate", "--task", audit, "--check", SHARED, "--action", "Deactivate", "--yes", "--wait"]
    code, _, err = run(capsys, *argv, "--context", "watch")
    assert code == 1 and "read-only" in err.lower()  # the context's read_only holds
    code, _, err = run(capsys, *argv, "--context", "eu")
    assert code == 1 and "Deactivate" in err  # eu-west-1 has no such action: the request went there
    code, out, _ = run(capsys, *argv, "--context", "prod")
    assert code == 0 and "Deactivate  COMPLETED" in out
    with Journal.open(journal_path(), read_only=True) as journal:
        regions = [
            e.region for e in journal.entries(None) if e.operation == "StartAuditMitigationActionsTask"
        ]
    assert regions == ["us-east-1"]
