"""`--context NAME` connects in that context's region and the header names it, with its read-only mode."""

from __future__ import annotations

from pathlib import Path

from iot_defender_tui.aws.session import connection_for
from iot_defender_tui.cli import build_parser, load_cli_settings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.header import DefenderHeader
from tests.support import ui
from tests.support.sandbox import FAST, REGION

CONFIG = f"""\
[[contexts]]
name = "elsewhere"
region = "eu-west-1"

[[contexts]]
name = "lab"
region = "{REGION}"
read_only = true
"""


def header(app: DefenderApp) -> str:
    return str(app.query_one(DefenderHeader).render_text())


async def test_context_flag_picks_the_region_and_the_header_shows_it(
    sandbox_url: str, aws_env: Path, tmp_path: Path
) -> None:
    seed_fleet("lab")
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    # --region says eu-west-1; the named context's region wins.
    args = build_parser().parse_args(
        ["--config", str(config), "--context", "lab", "--region", "eu-west-1", "--endpoint-url", sandbox_url]
    )
    settings = load_cli_settings(args)
    assert settings is not None
    connection = connection_for(args, settings)
    assert (connection.region, connection.read_only, connection.context) == (REGION, True, "lab")
    app = DefenderApp(connection, settings, None, tuning=FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.until(pilot, lambda: "connected" in header(app))
        first, second = header(app).split("\n")
        assert REGION in first and "READ-ONLY" in first
        assert second.startswith("ctx lab  read-only  arn:aws:sts::123456789012:")
        assert app.dd is not None and app.dd.region == REGION
        assert app.read_only_reason == "started with --read-only or in read-only context lab"


def test_header_without_a_context_is_unchanged() -> None:
    plain = DefenderHeader(read_only=False, region="us-east-1")
    named = DefenderHeader(read_only=False, region="us-east-1", context="prod")
    assert "ctx" not in str(plain.render_text())
    assert str(named.render_text()).split("\n")[1] == "ctx prod  identity: …"
