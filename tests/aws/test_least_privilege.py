"""aws/permissions.py lists exactly what the code in aws/ can send, and its policies allow exactly that.

The operations are found here by walking the code for its calls, not by reading the list back: a call added
without its permission, or a permission left behind by a removed call, fails. tests/cli/test_iam_policy.py
holds README's "Least privilege" blocks to the policies printed from the list.
"""

from __future__ import annotations

import ast
from pathlib import Path

from iot_defender_tui.aws import guard, permissions

ROOT = Path(__file__).resolve().parents[2]
AWS = ROOT / "iot_defender_tui" / "aws"
SENDERS = {"_read": "read", "_all": "read", "_pages": "read", "_mutate": "write"}
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}
PASS_ROLE = "iam:PassRole"


def sent_operations() -> dict[str, set[str]]:
    """'service:Operation' → how the code sends it (read or write), from every literal call in aws/."""
    found: dict[str, set[str]] = {}
    for path in sorted(AWS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            kind = SENDERS.get(node.func.attr)
            args = node.args[:2]
            if kind and len(args) == 2 and all(isinstance(a, ast.Constant) for a in args):
                service, operation = (a.value for a in args)  # type: ignore[attr-defined]
                found.setdefault(f"{service}:{operation}", set()).add(kind)
    return found


def actions(policy: dict) -> list[str]:
    listed: list[str] = []
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        listed.extend(statement["Action"])
    return listed


def test_the_code_sends_what_the_guard_expects():
    sent = sent_operations()
    assert len(sent) > 40  # the walk found the client's calls, not nothing
    for name, kinds in sent.items():
        operation = name.split(":", 1)[1]
        assert kinds == {"write" if guard.is_mutating(operation) else "read"}, name


def test_the_list_is_what_the_code_sends():
    found = {name: "change" if kinds == {"write"} else "read" for name, kinds in sent_operations().items()}
    assert permissions.sent_operations() == found
    reads, changes = permissions.READ_OPERATIONS, permissions.CHANGE_OPERATIONS
    listed = permissions.actions(reads) + permissions.actions(changes)
    assert len(listed) == len(set(listed)), "an operation listed twice"
    # The guard lists each change by name, not only by its verb: the list and the guard agree.
    assert {n.split(":", 1)[1] for n in permissions.actions(changes)} <= guard.MUTATING_OPERATIONS


def test_read_only_policy_is_every_read_and_nothing_else():
    read_only = permissions.policy(change=False)
    listed = actions(read_only)
    assert len(listed) == len(set(listed)), "an action listed twice"
    reads = {n for n, kinds in sent_operations().items() if kinds == {"read"}} - NEEDS_NO_PERMISSION
    assert set(listed) == reads


def test_changes_policy_adds_every_write_and_pass_role():
    read_only, changes = permissions.policy(change=False), permissions.policy(read=False)
    listed = actions(changes)
    assert len(listed) == len(set(listed)), "an action listed twice"
    writes = {n for n, kinds in sent_operations().items() if kinds == {"write"}}
    assert set(listed) == writes | {PASS_ROLE}
    assert not set(listed) & set(actions(read_only)), "the second policy is added to the first"
    assert permissions.policy()["Statement"] == read_only["Statement"] + changes["Statement"]
    (pass_role,) = [s for s in changes["Statement"] if PASS_ROLE in s["Action"]]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "iot.amazonaws.com"}}
