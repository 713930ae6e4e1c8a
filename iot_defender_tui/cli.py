"""Command line: `iot-defender-tui [COMMAND]`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from . import __version__


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text}")
    return value


def _non_negative(kind: type) -> object:
    def parse(text: str) -> object:
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must not be negative: {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iot-defender-tui",
        description="AWS IoT Device Defender Audit and mitigation in the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sandbox = commands.add_parser(
        "sandbox",
        help="serve the offline Device Defender sandbox (moto + audit/mitigation APIs) on loopback",
        description="Serve moto (every service) plus Device Defender audit, mitigation and logging "
        "operations on loopback. Point the AWS CLI or SDKs at the printed URL with any dummy "
        "credentials.",
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    sandbox.add_argument(
        "--port", type=_non_negative(int), default=0, help="port to listen on (default 0: a free port)"
    )
    sandbox.add_argument(
        "--fleet",
        choices=["lab", "empty"],
        default="lab",
        help="lab: the Device Defender workshop's account (default); empty: a fresh account",
    )
    sandbox.add_argument(
        "--devices",
        type=_non_negative(int),
        default=0,
        help="generated devices added to the fleet (e.g. 10000)",
    )
    sandbox.add_argument(
        "--seed", type=int, default=0, help="random seed of the generated fleet and of injected faults"
    )
    sandbox.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        help="region the fleet is seeded in (default: AWS_REGION or us-east-1)",
    )
    sandbox.add_argument(
        "--audit-seconds",
        type=_non_negative(float),
        default=5.0,
        help="how long an audit takes to finish its checks (default 5)",
    )
    sandbox.add_argument(
        "--day-seconds",
        type=_non_negative(float),
        default=86400.0,
        help="length of a sandbox day for scheduled audits (default 86400)",
    )
    sandbox.add_argument(
        "--mitigation-seconds",
        type=_non_negative(float),
        default=2.0,
        help="how long a mitigation task takes to work through its findings (default 2)",
    )
    sandbox.add_argument(
        "--throttle-rate",
        type=_rate,
        default=0.0,
        help="share of requests answered with ThrottlingException",
    )
    sandbox.add_argument(
        "--error-rate",
        type=_rate,
        default=0.0,
        help="share of requests answered with 500 InternalFailureException",
    )
    sandbox.add_argument(
        "--latency-ms", type=_non_negative(float), default=0.0, help="delay added to every request"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        return run_sandbox(args)
    parser.print_help()
    return 2


def run_sandbox(args: argparse.Namespace) -> int:
    try:
        from .sandbox.fleet import seed_fleet
        from .sandbox.runtime import Options
        from .sandbox.server import SandboxServer
    except ImportError as err:
        print(
            f"iot-defender-tui: the sandbox needs moto: pip install 'iot-defender-tui[sandbox]' ({err})",
            file=sys.stderr,
        )
        return 1
    if args.day_seconds <= 0:
        print("iot-defender-tui: --day-seconds must be positive", file=sys.stderr)
        return 2
    options = Options(
        audit_seconds=args.audit_seconds,
        day_seconds=args.day_seconds,
        mitigation_seconds=args.mitigation_seconds,
        throttle_rate=args.throttle_rate,
        error_rate=args.error_rate,
        latency_ms=args.latency_ms,
        seed=args.seed,
    )
    try:
        server = SandboxServer(args.host, args.port, options)
    except ValueError as err:
        print(f"iot-defender-tui: {err}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        url = server.start()
    except OSError as err:
        print(f"iot-defender-tui: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 1
    try:
        seed_fleet(args.fleet, devices=args.devices, seed=args.seed, region=args.region)
        print(f"Device Defender sandbox ({args.fleet} fleet, {args.region}) at {url}", flush=True)
        stop.wait()
    finally:
        server.stop()
    return 0
