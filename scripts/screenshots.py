"""Screenshots of every pane of the app on the sandbox lab: screenshots/<name>.svg and <name>.png.

    pip install -e '.[sandbox,screenshots]'
    python scripts/screenshots.py

The world shown is reproducible, so regenerating only changes the files when the UI changed: the sandbox
runs in this process on a frozen clock (`Clock(frozen_at=...)`) with deterministic ids and lab certificate
(`Options.deterministic`), the app reads that same clock, and times are shown in UTC.
tests/ui/test_snapshots.py imports `prepare`, `freeze_ui_clock` and `SHOTS` from here: the snapshot tests
and the screenshots show the same world.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from iot_defender_tui.aws.session import ConnectionSettings
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import Clock, Options, runtime

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
REGION = "us-east-1"
BASE = datetime(2026, 3, 2, 9, 30, tzinfo=UTC).timestamp()  # a Monday morning, for ever
ACTION = "DeactivateSharedCert"
MITIGATION_TASK = "lab-deactivate-shared-certificate"
SCHEDULE = "WeeklyLabAudit"
SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"
LAB_CHECKS = [SHARED, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK"]
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
FALLBACK_FONTS = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


# -- a reproducible world ---------------------------------------------------------------------------
def make_deterministic() -> None:
    """Frozen sandbox clock, ids from a seeded generator, a fixed lab certificate."""
    rt = runtime()
    rt.options = replace(rt.options, deterministic=True)
    rt.clock = Clock(frozen_at=BASE)
    rt.ids.seed(0)
    # Sandbox days start at midnight UTC of BASE's date, not at the (real) time the server started: else a
    # server started between 09:30 and 09:31 of any day would see BASE's day end during prepare's minute
    # and fire the Monday schedule, a second audit in the world.
    rt.started = datetime.fromtimestamp(BASE, UTC).replace(hour=0, minute=0).timestamp()


def prepare(url: str) -> None:
    """The lab with a weekly schedule, a mitigation action and a finished mitigation task of it.

    Call with the sandbox's moto freshly reset and `runtime().options` set (a test's conftest does both).
    """
    make_deterministic()
    seed_fleet("lab")  # includes yesterday's completed audit
    iot = boto3.client("iot", endpoint_url=url, region_name=REGION, **CREDENTIALS)
    iam = boto3.client("iam", endpoint_url=url, region_name=REGION, **CREDENTIALS)
    role = iam.create_role(RoleName="IoTMitigationRole", AssumeRolePolicyDocument=json.dumps(TRUST))
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}
    iam.put_role_policy(
        RoleName="IoTMitigationRole", PolicyName="mitigation", PolicyDocument=json.dumps(policy)
    )
    iot.create_mitigation_action(
        actionName=ACTION,
        roleArn=role["Role"]["Arn"],
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )
    iot.create_scheduled_audit(
        scheduledAuditName=SCHEDULE, frequency="WEEKLY", dayOfWeek="MON", targetCheckNames=LAB_CHECKS
    )
    now = datetime.fromtimestamp(BASE, UTC)
    audit = iot.list_audit_tasks(startTime=now - timedelta(days=2), endTime=now)["tasks"][0]["taskId"]
    iot.start_audit_mitigation_actions_task(
        taskId=MITIGATION_TASK,
        target={"auditTaskId": audit},
        auditCheckToActionsMapping={SHARED: [ACTION]},
        clientRequestToken=MITIGATION_TASK,
    )
    runtime().clock.advance(60)  # past the task's end: it finishes on the next tick
    status = iot.describe_audit_mitigation_actions_task(taskId=MITIGATION_TASK)["taskStatus"]
    if status != "COMPLETED":
        raise RuntimeError(f"the seeded mitigation task is {status}, not COMPLETED")


ORGANIZATION_REGIONS = (REGION, "eu-west-1")


def prepare_organization() -> None:
    """Three member accounts under the lab's (the second's role not assumable), for the Fleet overview."""
    from iot_defender_tui.sandbox.organization import plan, seed_organization

    seed_organization(plan(3, seed=0, regions=ORGANIZATION_REGIONS, broken=[2]), seed=0)


class _SandboxTime(datetime):
    """`datetime.now()` of the UI modules, read from the sandbox clock (header time, listing windows)."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return datetime.fromtimestamp(runtime().clock.now(), tz)


def freeze_ui_clock(set_attribute: Callable[[object, str, object], None] = setattr) -> None:
    """Point every loaded UI module's `datetime` at the sandbox clock, and show times in UTC.

    Pass `monkeypatch.setattr` in a test so it is undone; import the app (and its panes) first.
    """
    from iot_defender_tui.ui.app import PANES, pane_class

    for pane_id, *_ in PANES:  # imports every pane module (the app does when a pane is first shown)
        pane_class(pane_id)
    for name, module in list(sys.modules.items()):
        if name.startswith("iot_defender_tui.ui") and getattr(module, "datetime", None) is datetime:
            set_attribute(module, "datetime", _SandboxTime)


def connection(url: str) -> ConnectionSettings:
    return ConnectionSettings.resolve(region=REGION, endpoint_url=url)


# -- driving the app --------------------------------------------------------------------------------
def screen_text(app: Any) -> str:
    """What the terminal shows, as plain text (the SVG a snapshot saves, without its markup)."""
    svg = app.export_screenshot()
    svg = re.sub(r"<style>.*?</style>", "", svg, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def until(pilot: Any, condition: Callable[[str], bool], what: str, timeout: float = 30.0) -> None:
    """Poll until the screen meets `condition` and has stopped changing (messages still in flight, such
    as a table's highlighted-row event filling a detail line, would otherwise make snapshots flaky)."""
    deadline = time.monotonic() + timeout
    seen, steady = "", 0
    while steady < 3:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)
        text = screen_text(pilot.app)
        steady = steady + 1 if condition(text) and text == seen else 0
        seen = text


def _quiet(text: str) -> bool:
    return "loading" not in text.lower() and "Connecting" not in text


async def show_settings(pilot: Any) -> None:
    await until(pilot, lambda t: "refreshed" in t, "the header")
    await pilot.press("1")
    await until(
        pilot, lambda t: "Device certificate shared" in t and "IoT logging" in t and _quiet(t), "settings"
    )


async def show_schedules(pilot: Any) -> None:
    await until(pilot, lambda t: "refreshed" in t, "the header")
    await pilot.press("2")
    await until(pilot, lambda t: SCHEDULE in t and "Checks:" in t and _quiet(t), "the schedule")


async def show_results(pilot: Any) -> None:
    await until(pilot, lambda t: "refreshed" in t, "the header")
    await pilot.press("3")
    await until(pilot, lambda t: "COMPLETED" in t and _quiet(t), "the audit task")
    await pilot.press("enter")
    await until(pilot, lambda t: "> checks" in t and "non-compliant" in t and _quiet(t), "the audit's checks")


async def show_findings(pilot: Any) -> None:
    await show_results(pilot)
    # Past "All findings" (its rows arrive in whatever order the checks answer) to the first
    # non-compliant check, whose findings always come in the same order.
    await pilot.press("down", "enter")
    await until(
        pilot, lambda t: "> findings" in t and re.search(r"cert [0-9a-f]{6}", t) is not None, "the findings"
    )


async def show_finding(pilot: Any) -> None:
    await show_findings(pilot)
    await pilot.press("enter")
    await until(pilot, lambda t: "SensorDevice01" in t and "SensorDevice02" in t, "the finding")


async def show_mitigation(pilot: Any) -> None:
    await until(pilot, lambda t: "refreshed" in t, "the header")
    await pilot.press("4")
    await until(pilot, lambda t: "actions (1)" in t and "COMPLETED" in t and _quiet(t), "mitigation")


async def show_overview(pilot: Any) -> None:
    await until(pilot, lambda t: "8 read, 2 failed" in t and "reading" not in t and _quiet(t), "overview")


# name -> (how to get there, sizes)
SHOTS: dict[str, tuple[Callable[[Any], Awaitable[None]], tuple[tuple[int, int], ...]]] = {
    "settings": (show_settings, ((120, 40), (80, 24))),
    "schedules": (show_schedules, ((120, 40),)),
    "results": (show_results, ((120, 40),)),
    "findings": (show_findings, ((120, 40),)),
    "finding": (show_finding, ((120, 40),)),
    "mitigation": (show_mitigation, ((120, 40),)),
    "overview": (show_overview, ((120, 40), (80, 24))),
}


def organization_app(url: str) -> Any:
    """The app over the sandbox's organization: it opens on the Fleet overview of its account-regions."""
    from iot_defender_tui.config import OrganizationSettings
    from iot_defender_tui.ui.app import DefenderApp

    return DefenderApp(
        connection(url), Settings(), None, organization=OrganizationSettings(regions=ORGANIZATION_REGIONS)
    )


async def _shoot(url: str, name: str, drive: Callable[[Any], Awaitable[None]], size: tuple[int, int]) -> Path:
    from iot_defender_tui.ui.app import DefenderApp

    app = organization_app(url) if name == "overview" else DefenderApp(connection(url), Settings(), None)
    async with app.run_test(size=size) as pilot:
        await drive(pilot)
        await pilot.pause()
        stem = name if size == (120, 40) else f"{name}-{size[0]}x{size[1]}"
        path = OUT / f"{stem}.svg"
        path.write_text(app.export_screenshot(title=f"iot-defender-tui: {name}"))
    return path


def _rasterizer() -> Callable[[Path], None]:
    try:
        import resvg_py
    except ImportError:
        sys.exit("PNG needs the rasterizer: pip install -e '.[screenshots]' (resvg-py)")

    def to_png(svg: Path) -> None:
        # The SVG asks for Fira Code from the web, which a rasterizer does not fetch: offer common
        # monospace fonts a machine is likely to have before the generic family.
        text = svg.read_text().replace("Fira Code, monospace", f"Fira Code, {FALLBACK_FONTS}, monospace")
        svg.with_suffix(".png").write_bytes(bytes(resvg_py.svg_to_bytes(svg_string=text)))

    return to_png


def main() -> None:
    from iot_defender_tui.sandbox.server import SandboxServer

    to_png = _rasterizer()  # fail before the slow part
    os.environ["TZ"] = "UTC"
    time.tzset()
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    server = SandboxServer("127.0.0.1", 0, Options(audit_seconds=1.0, mitigation_seconds=1.0))
    url = server.start()
    try:
        prepare(url)
        prepare_organization()
        freeze_ui_clock()
        OUT.mkdir(exist_ok=True)
        for name, (drive, sizes) in SHOTS.items():
            for size in sizes:
                svg = asyncio.run(_shoot(url, name, drive, size))
                to_png(svg)
                print(f"{svg.relative_to(ROOT)} (+ .png)")
    finally:
        server.stop()
    # The history's screens are snapshot-tested on hand-made audits (a sandbox has a day or two of them):
    # their reviewed snapshots are the pictures.
    for name, snapshot in SNAPSHOT_SHOTS.items():
        svg = OUT / f"{name}.svg"
        shutil.copyfile(ROOT / "tests" / "ui" / "__snapshots__" / snapshot, svg)
        to_png(svg)
        print(f"{svg.relative_to(ROOT)} (+ .png)")


SNAPSHOT_SHOTS = {
    "drift-80x24": "test_drift_screen/test_drift_snapshot[80x24].svg",
    "trend-80x24": "test_trend/test_trend_snapshot[80x24].svg",
}


if __name__ == "__main__":
    main()
