"""`iot-defender-tui iam-policy [--read-only | --mitigation]`: the app's least-privilege IAM policy.

Issue 15. A sibling of cli.py that cli.py registers, like cli_history. Printed from aws/permissions.py, the
list of every operation the client sends, so it needs no connection, no config and no credentials. Exit
codes: 0 printed, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .aws.permissions import policy
from .cli_common import fail, stdout_pipe


def add_iam_commands(commands: Any) -> None:
    """Add `iam-policy` to cli's subparsers. It reads no config: it takes none of the config flags."""
    iam = commands.add_parser(
        "iam-policy",
        help="print the IAM policy (JSON) that allows exactly what the app can send",
        description="Print the IAM policy document that allows exactly the AWS operations the app can "
        "send, generated from its own list of them (sts:GetCallerIdentity needs no permission). "
        "Default: everything (triage and changes); --read-only and --mitigation print its two halves, "
        'as README\'s "Least privilege" gives them. No AWS connection is made.',
    )
    half = iam.add_mutually_exclusive_group()
    # SUPPRESS: `iot-defender-tui --read-only iam-policy` (the app's own flag, before the command) must not
    # be overwritten by this one's default.
    half.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="only what triage sends (the app's --read-only mode, journal --reconcile): statement "
        "DeviceDefenderTriage",
    )
    half.add_argument(
        "--mitigation",
        action="store_true",
        default=argparse.SUPPRESS,
        help="only what changes and mitigation add on top of --read-only (audit settings, audits, "
        'suppressions, mitigation actions and tasks, logging, "Create role", and iam:PassRole to '
        "iot.amazonaws.com for the roles they run as): statements DeviceDefenderChanges and "
        "PassRolesToIoT. The mitigation itself runs under the action's role, not yours.",
    )


def run_iam(args: argparse.Namespace) -> int:
    read_only, mitigation = getattr(args, "read_only", False), getattr(args, "mitigation", False)
    if read_only and mitigation:  # one before the command, one after: argparse's group did not see both
        return fail(ValueError("iam-policy: --mitigation is not allowed with --read-only"), 2)
    document = policy(read=not mitigation, change=not read_only)
    with stdout_pipe():
        print(json.dumps(document, indent=2))
    return 0
