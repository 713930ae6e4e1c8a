"""ListAuditFindings, DescribeAuditFinding, ListRelatedResourcesForAuditFinding.

An audit of a large fleet leaves 100,000 findings and clients page through them 250 at a time, so the
filtered, ordered id list of a query is computed once and kept (per state, keyed by the filter and the
number of findings); each page is then a slice of it. An audit's findings are also kept ordered, and
grouped by check, once per audit: a client reading "all findings" check by check (the TUI, four checks
at a time) otherwise made the server sort 100,000 findings for every check.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from ..audits import resource_key
from ..errors import InvalidRequest, ResourceNotFound
from ..state import DefenderState, Finding
from ..wire import as_epoch, finding_to_dict
from .base import DefenderResponse, page

CACHED_QUERIES = 16  # per state; a TUI pages through a handful of filters at a time

_cache: weakref.WeakKeyDictionary[DefenderState, OrderedDict[tuple[Any, ...], list[str]]] = (
    weakref.WeakKeyDictionary()
)
_cache_lock = threading.Lock()
_by_task: weakref.WeakKeyDictionary[DefenderState, dict[str, _TaskFindings]] = weakref.WeakKeyDictionary()


@dataclass
class _TaskFindings:
    size: tuple[int, int]  # (the audit's findings, the account's): rebuilt when either changes
    ordered: list[Finding]
    by_check: dict[str, list[Finding]]


def _order(finding: Finding) -> tuple[float, str]:
    return (finding.finding_time, finding.finding_id)


def task_findings(state: DefenderState, task_id: str, check_name: str | None) -> list[Finding]:
    """The audit's findings (of one check, or all), in AWS's order; not to be changed (under state.lock)."""
    task = state.tasks.get(task_id)
    if task is None:
        return []
    size = (len(task.finding_ids), len(state.findings))
    with _cache_lock:
        index = _by_task.setdefault(state, {}).get(task_id)
    if index is None or index.size != size:
        ordered = sorted((state.findings[f] for f in task.finding_ids if f in state.findings), key=_order)
        by_check: dict[str, list[Finding]] = {}
        for finding in ordered:
            by_check.setdefault(finding.check_name, []).append(finding)
        index = _TaskFindings(size, ordered, by_check)
        with _cache_lock:
            _by_task[state][task_id] = index
    return index.ordered if check_name is None else index.by_check.get(check_name, [])


def _query(state: DefenderState, args: dict[str, Any]) -> list[str]:
    """The ordered ids of the findings matching `args` (under state.lock)."""
    task_id = args.get("taskId")
    start = as_epoch(args.get("startTime"), "startTime")
    end = as_epoch(args.get("endTime"), "endTime")
    if task_id is not None and (start is not None or end is not None):
        raise InvalidRequest("Specify either taskId or startTime and endTime, not both.")
    if task_id is None and (start is None or end is None):
        raise InvalidRequest("Specify either taskId or both startTime and endTime.")
    if start is not None and end is not None and start > end:
        raise InvalidRequest("startTime must not be later than endTime.")
    check_name = args.get("checkName")
    identifier = args.get("resourceIdentifier") or None
    suppressed_filter = args.get("listSuppressedFindings")
    key = (
        task_id,
        start,
        end,
        check_name,
        resource_key(identifier) if identifier else None,
        suppressed_filter,
        len(state.findings),
    )
    with _cache_lock:
        queries = _cache.setdefault(state, OrderedDict())
        ids = queries.get(key)
        if ids is not None:
            queries.move_to_end(key)
            return ids

    if task_id is not None:
        candidates = task_findings(state, task_id, check_name)  # ordered already
    else:
        candidates = [f for f in state.findings.values() if start <= f.finding_time <= end]
        if check_name is not None:
            candidates = [f for f in candidates if f.check_name == check_name]
        candidates.sort(key=_order)
    if identifier:
        candidates = [
            f
            for f in candidates
            if all(f.resource_identifier.get(member) == value for member, value in identifier.items())
        ]
    if suppressed_filter is not None:
        # Against isSuppressed as the audit reported it (API_ListAuditFindings, API_AuditFinding).
        wanted = bool(suppressed_filter)
        candidates = [f for f in candidates if f.suppressed_at_audit == wanted]
    ids = [f.finding_id for f in candidates]
    with _cache_lock:
        queries = _cache.setdefault(state, OrderedDict())
        queries[key] = ids
        while len(queries) > CACHED_QUERIES:
            queries.popitem(last=False)
    return ids


class FindingsMixin(DefenderResponse):
    def _finding(self, finding_id: str) -> Finding:
        finding = self.state.findings.get(finding_id)
        if finding is None:
            raise ResourceNotFound(f"Audit finding {finding_id} does not exist.")
        return finding

    def list_audit_findings(self) -> str:
        state = self.state
        with state.lock:
            ids = _query(state, self.args)
            items, token = page(ids, self.args.get("nextToken"), self.args.get("maxResults"), 25)
            findings = [finding_to_dict(state.findings[i]) for i in items if i in state.findings]
        body: dict[str, Any] = {"findings": findings}
        if token:
            body["nextToken"] = token
        # finding_to_dict leaves out absent members itself: skip reply()'s walk over 250 nested findings.
        # orjson: the stdlib's encoder was a fifth of the sandbox's time on a 100,000-finding listing.
        return orjson.dumps(body).decode()

    def describe_audit_finding(self) -> str:
        with self.state.lock:
            finding = self._finding(self.args.get("findingId", ""))
            return self.reply({"finding": finding_to_dict(finding)})

    def list_related_resources_for_audit_finding(self) -> str:
        with self.state.lock:
            related = list(self._finding(self.args.get("findingId", "")).related_resources)
        items, token = page(related, self.args.get("nextToken"), self.args.get("maxResults"), 25)
        return self.reply({"relatedResources": list(items), "nextToken": token})
