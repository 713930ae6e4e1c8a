"""Audit findings as text for other tools: table, JSON, JSON lines, CSV, ASFF, OCSF, JUnit XML (issue 15).

Pure functions and writers over the aws models, for `findings` and the commands after it (`audit run`,
the TUI's export): nothing here talks to AWS or imports the UI. Every writer takes findings page by page
(`write(page)`) and writes as it goes, so 100,000 findings stream in flat memory; only JUnit, whose
test suites are grouped by check, keeps what it reports.

Every AWS string is data: JSON escapes it (ASCII only: a bidi override arrives as \\u202e), CSV quotes it
(and defuses spreadsheet formulas), the table and JUnit carry it through `plain` (no terminal control,
no newline, nothing XML 1.0 forbids).
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from .aws.catalogue import check_info
from .aws.models import AuditTask, Finding, ResourceRef

FORMATS = ("table", "json", "jsonl", "csv", "asff", "ocsf", "junit")
PRODUCT = "iot-defender-tui"
ASFF_SCHEMA = "2018-10-08"
OCSF_VERSION = "1.3.0"
# OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 0 Unknown.
_OCSF_SEVERITY = {"LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}
# ASFF Severity.Label has INFORMATIONAL … CRITICAL; a check this app does not know has no severity.
_ASFF_LABELS = frozenset({"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"})
CSV_FIELDS = (
    "finding_id",
    "task_id",
    "check_name",
    "severity",
    "resource_type",
    "resource_id",
    "reason_code",
    "reason",
    "finding_time",
    "is_suppressed",
    "account",
    "region",
    "context",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def plain(text: str) -> str:
    """One printable line: cli_common.plain's rule, kept here because this layer sits below cli_common
    (so that the UI can export too) and cannot import it."""
    return "".join(c if c.isprintable() else " " for c in " ".join(text.split()))


@dataclass(frozen=True, slots=True)
class Source:
    """Where the findings come from: every format names the account and region (and the context, when
    one was chosen by name), ASFF and OCSF the audit too."""

    account: str
    region: str
    task: AuditTask | None = None
    partition: str = "aws"
    context: str | None = None  # the named context (aws/contexts.py) the findings were read in


_ISO: dict[datetime, str] = {}  # an audit's findings share their task's start and a few finding times


def iso(when: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and a Z, as ASFF's examples write it."""
    if when is None:
        return None
    found = _ISO.get(when)
    if found is None:
        if len(_ISO) > 10_000:
            _ISO.clear()
        found = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
        _ISO[when] = found
    return found


def _resource(ref: ResourceRef) -> dict[str, Any]:
    return {"resource_type": ref.resource_type, "resource_identifier": ref.identifier}


def record(f: Finding, source: Source | None = None) -> dict[str, Any]:
    """A finding as one JSON object: what `--baseline` reads back (check_name, resource_type,
    resource_identifier as AWS sent it; account and region, where `source` says)."""
    row = {
        "finding_id": f.finding_id,
        "task_id": f.task_id,
        "check_name": f.check_name,
        "check_title": check_info(f.check_name).title,
        "severity": f.severity,
        "resource_id": f.resource.full_id,
        **_resource(f.resource),
        "related_resources": [_resource(r) for r in f.related],
        "reason_code": f.reason_code,
        "reason": f.reason,
        "finding_time": iso(f.finding_time),
        "task_start_time": iso(f.task_start_time),
        "is_suppressed": f.is_suppressed,
    }
    if source is not None:
        row["account"] = source.account
        row["region"] = source.region
        if source.context:
            row["context"] = source.context
    return row


def spreadsheet_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula (OWASP "CSV injection") is kept as text.
    return "'" + text if text.startswith(_FORMULA) else text


def csv_row(f: Finding, source: Source | None = None) -> list[str]:
    row = record(f, source)
    return [spreadsheet_cell(row.get(name)) for name in CSV_FIELDS]


def asff(f: Finding, source: Source) -> dict[str, Any]:
    """The finding in the AWS Security Finding Format, as Security Hub maps Device Defender audits: every
    required top-level attribute (AwsAccountId, CreatedAt, Description, GeneratorId, Id, ProductArn,
    Resources, SchemaVersion, Severity, Title, Types, UpdatedAt) plus Compliance and RecordState."""
    info = check_info(f.check_name)
    when = iso(f.finding_time or f.task_start_time) or iso(datetime.now(UTC))
    severity = f.severity if f.severity in _ASFF_LABELS else "INFORMATIONAL"
    prefix = f"arn:{source.partition}:iot:{source.region}:{source.account}"
    reason = f" {f.reason}" if f.reason else ""
    return {
        "SchemaVersion": ASFF_SCHEMA,
        "Id": f"{prefix}:audit/findings/{f.finding_id}",
        "ProductArn": f"arn:{source.partition}:securityhub:{source.region}:{source.account}:product/"
        f"{source.account}/default",
        "ProductName": "AWS IoT Device Defender",
        "CompanyName": PRODUCT,
        "GeneratorId": f.check_name,
        "AwsAccountId": source.account,
        "Region": source.region,
        "Types": [f"Software and Configuration Checks/AWS IoT Device Defender/{f.check_name}"],
        "CreatedAt": when,
        "UpdatedAt": when,
        "Severity": {"Label": severity, "Original": f.severity or "UNKNOWN"},
        "Title": info.title,
        "Description": (info.description + reason)[:1024],  # ASFF's limit
        "Resources": [
            {
                "Type": "Other",  # ASFF has no resource type for IoT certificates, policies or accounts
                "Id": f.resource.full_id or f.finding_id,
                "Region": source.region,
                "Details": {"Other": {"resourceType": f.resource.resource_type, "taskId": f.task_id}},
            }
        ],
        "Compliance": {"Status": "FAILED"},
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "SUPPRESSED" if f.is_suppressed else "NEW"},
        "ProductFields": {"aws/iot/taskId": f.task_id, "aws/iot/findingId": f.finding_id},
    }


def ocsf(f: Finding, source: Source) -> dict[str, Any]:
    """An OCSF Compliance Finding (class 2003, category 2 Findings, activity 1 Create) with the required
    attributes: activity_id, category_uid, class_uid, type_uid, time, severity_id, metadata (product,
    version), finding_info (uid), compliance (standards)."""
    info = check_info(f.check_name)
    when = f.finding_time or f.task_start_time
    millis = int(when.timestamp() * 1000) if when else 0
    return {
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "type_uid": 200301,
        "time": millis,
        "severity_id": _OCSF_SEVERITY.get(f.severity, 0),
        "severity": f.severity.capitalize() if f.severity in _OCSF_SEVERITY else "Unknown",
        "status_id": 3 if f.is_suppressed else 1,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "AWS IoT Device Defender",
                "vendor_name": "AWS",
                "feature": {"name": PRODUCT},
            },
        },
        "finding_info": {
            "uid": f.finding_id,
            "title": info.title,
            "desc": f.reason or info.description,
            "types": [f.check_name],
            "created_time": millis,
        },
        "compliance": {
            "standards": ["AWS IoT Device Defender Audit"],
            "control": f.check_name,
            "status_id": 3,
            "status": "Fail",
            "status_code": f.reason_code,
        },
        "resources": [
            {"type": r.resource_type, "uid": r.full_id, "data": r.identifier}
            for r in (f.resource, *f.related)
        ],
        "cloud": {"provider": "AWS", "region": source.region, "account": {"uid": source.account}},
    }


# One encoder for every line: json.dumps with any option builds a new one per call.
_json_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def _dumps(value: Any) -> str:
    """`value` as compact, ASCII-only JSON: what a terminal shows of it is never a control sequence.

    orjson encodes a finding's record in about a fifth of json's time, the largest cost of `findings
    --format jsonl` after reading the pages. Its output is kept only where it is what json would have
    written: ASCII without DEL. orjson writes other characters (bidi, C1) raw, and refuses what json
    takes (a lone surrogate, a non-string key, an integer beyond 64 bits): those go to json.
    """
    try:
        encoded = orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is one
        return _json_dumps(value)
    if encoded.isascii() and b"\x7f" not in encoded:
        return encoded.decode("ascii")
    return _json_dumps(value)


class Writer:
    """Writes a format page by page: `write(page)` for each page, then `close()`."""

    def __init__(self, out: TextIO, source: Source):
        self.out = out
        self.source = source
        self.count = 0

    def write(self, page: Iterable[Finding], source: Source | None = None) -> None:
        """`page`'s findings, from `source` (the writer's own by default: several contexts share one
        writer, each writing its pages with its source)."""
        source = source or self.source
        for f in page:
            self.count += 1
            self.one(f, source)
        self.out.flush()  # a page is out as soon as it arrived: a reader sees the first line at once

    def one(self, f: Finding, source: Source) -> None:
        raise NotImplementedError

    def expect(self, source: Source, checks: Iterable[str]) -> None:
        """The checks an audit of `source` ran, reported even with no finding (JUnit's passing cases)."""

    def failed(self, where: str, message: str) -> None:
        """A context whose findings could not be read (JUnit reports it as an error)."""

    def close(self) -> None:
        self.out.flush()


class JsonLines(Writer):
    def write(self, page: Iterable[Finding], source: Source | None = None) -> None:
        source = source or self.source
        lines = [_dumps(record(f, source)) + "\n" for f in page]  # one write per page: issue 15's hot path
        self.count += len(lines)
        self.out.write("".join(lines))
        self.out.flush()


class JsonArray(Writer):
    """One JSON array, still written element by element."""

    def __init__(self, out: TextIO, source: Source, shape: Any = None):
        super().__init__(out, source)
        self.shape = shape

    def one(self, f: Finding, source: Source) -> None:
        value = record(f, source) if self.shape is None else self.shape(f, source)
        self.out.write(("[\n" if self.count == 1 else ",\n") + _dumps(value))

    def close(self) -> None:
        self.out.write("[]\n" if self.count == 0 else "\n]\n")
        super().close()


class Csv(Writer):
    def __init__(self, out: TextIO, source: Source):
        super().__init__(out, source)
        self.csv = csv.writer(out, lineterminator="\n")
        self.csv.writerow(CSV_FIELDS)

    def one(self, f: Finding, source: Source) -> None:
        self.csv.writerow(csv_row(f, source))


class Table(Writer):
    """Fixed columns (no width to measure first: a table of 100,000 findings streams too)."""

    HEAD = ("SEVERITY", "CHECK", "RESOURCE", "ACCOUNT/REGION", "REASON")
    WIDTHS = (8, 48, 40, 27)  # 27: 123456789012/ap-southeast-2

    def __init__(self, out: TextIO, source: Source):
        super().__init__(out, source)
        self._line(self.HEAD)

    def _line(self, cells: tuple[str, ...]) -> None:
        fixed = [c if len(c) <= w else c[: w - 1] + "…" for c, w in zip(cells, self.WIDTHS, strict=False)]
        self.out.write("  ".join(c.ljust(w) for c, w in zip(fixed, self.WIDTHS, strict=True)))
        self.out.write("  " + cells[-1] + "\n")

    def one(self, f: Finding, source: Source) -> None:
        reason = f.reason or f.reason_code or ""
        where = f"{source.account}/{source.region}"
        self._line(tuple(plain(c) for c in (f.severity, f.check_name, f.resource.full_id, where, reason)))

    def close(self) -> None:
        noun = "finding" if self.count == 1 else "findings"
        self.out.write(f"{self.count:,} {noun}\n")
        super().close()


class JUnit(Writer):
    """One testsuite per check (per check and context, when findings come from named contexts); a failing
    testcase per finding, a passing one for each check the audit found compliant (`expect`, from the
    audit's DescribeAuditTask); an erring testsuite for a context that could not be read."""

    def __init__(self, out: TextIO, source: Source, checks: Iterable[str] = ()):
        super().__init__(out, source)
        self.groups: dict[tuple[str | None, str, str], tuple[Source, dict[str, list[Finding]]]] = {}
        self.errors: list[tuple[str, str]] = []
        self.expect(source, checks)

    def _suites(self, source: Source) -> dict[str, list[Finding]]:
        key = (source.context, source.account, source.region)
        return self.groups.setdefault(key, (source, {}))[1]

    def expect(self, source: Source, checks: Iterable[str]) -> None:
        suites = self._suites(source)
        for name in checks:
            suites.setdefault(name, [])

    def one(self, f: Finding, source: Source) -> None:
        self._suites(source).setdefault(f.check_name, []).append(f)

    def failed(self, where: str, message: str) -> None:
        self.errors.append((where, message))

    def close(self) -> None:
        groups = [self.groups[key] for key in sorted(self.groups, key=lambda k: (k[0] or "", k[1], k[2]))]
        self.out.write(junit_xml(groups, sorted(self.errors)))
        super().close()


def junit_xml(
    groups: Iterable[tuple[Source, Mapping[str, list[Finding]]]], errors: Iterable[tuple[str, str]] = ()
) -> str:
    groups = [(source, suites) for source, suites in groups if suites]
    tasks = {source.task.task_id for source, _ in groups if source.task}
    title = f"audit {next(iter(tasks))}" if len(tasks) == 1 else "audits" if tasks else "audit"
    root = ET.Element("testsuites", name=plain(f"{PRODUCT} {title}"))
    total = failed = erred = 0
    for source, suites in groups:
        for check in sorted(suites):
            findings = suites[check]
            info = check_info(check)
            name = plain(f"{source.context}/{check}" if source.context else check)
            suite = ET.SubElement(root, "testsuite", name=name, tests=str(max(len(findings), 1)))
            suite.set("failures", str(len(findings)))
            suite.set("errors", "0")
            _properties(suite, source)
            if not findings:
                ET.SubElement(suite, "testcase", classname=name, name="compliant")
            for f in findings:
                case = ET.SubElement(suite, "testcase", classname=name, name=plain(f.resource.full_id))
                message, kind = plain(f.reason or info.title), plain(f.severity or "UNKNOWN")
                failure = ET.SubElement(case, "failure", message=message, type=kind)
                failure.text = plain(f"{info.title}: {f.resource.readable} (finding {f.finding_id})")
            total += max(len(findings), 1)
            failed += len(findings)
    for where, message in errors:
        suite = ET.SubElement(root, "testsuite", name=plain(where), tests="1", failures="0", errors="1")
        case = ET.SubElement(suite, "testcase", classname=plain(where), name="findings")
        ET.SubElement(case, "error", message=plain(message), type="error")
        total += 1
        erred += 1
    root.set("tests", str(total))
    root.set("failures", str(failed))
    root.set("errors", str(erred))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _properties(suite: ET.Element, source: Source) -> None:
    properties = ET.SubElement(suite, "properties")
    named = [("account", source.account), ("region", source.region), ("context", source.context)]
    if source.task:
        named.append(("task_id", source.task.task_id))
    for name, value in named:
        if value:
            ET.SubElement(properties, "property", name=name, value=plain(value))


def writer(fmt: str, out: TextIO, source: Source, checks: Iterable[str] = ()) -> Writer:
    """The writer of `fmt` (one of FORMATS); `checks`: the checks JUnit reports even with no finding."""
    if fmt == "jsonl":
        return JsonLines(out, source)
    if fmt == "json":
        return JsonArray(out, source)
    if fmt == "asff":
        return JsonArray(out, source, asff)
    if fmt == "ocsf":
        return JsonArray(out, source, ocsf)
    if fmt == "csv":
        return Csv(out, source)
    if fmt == "junit":
        return JUnit(out, source, checks)
    if fmt == "table":
        return Table(out, source)
    raise ValueError(f"unknown format {fmt!r}")


def baseline_keys(text: str) -> Iterator[tuple[str, ResourceRef]]:
    """(check, resource) of each finding of a file written by `--format json` or `--format jsonl`;
    ValueError saying where it is not one."""
    for check, resource, _ in baseline_entries(text):
        yield check, resource


def baseline_entries(text: str) -> Iterator[tuple[str, ResourceRef, tuple[str, str] | None]]:
    """(check, resource, (account, region)) of each finding of a `--format json` or jsonl file; the
    account and region None in a file written before findings carried them (or by hand)."""
    try:
        if text.lstrip().startswith("["):
            items = json.loads(text)
        else:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as err:
        raise ValueError(f"not JSON from `findings --format json` or jsonl: {err}") from None
    for n, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            raise ValueError(f"finding {n} is not a JSON object")
        check, kind = item.get("check_name"), item.get("resource_type")
        ident = item.get("resource_identifier")
        if not isinstance(check, str) or not isinstance(kind, str) or not isinstance(ident, Mapping):
            raise ValueError(f"finding {n} lacks check_name, resource_type or resource_identifier")
        account, region = item.get("account"), item.get("region")
        known = isinstance(account, str) and isinstance(region, str) and account and region
        where = (account, region) if known else None
        yield check, ResourceRef(kind, ident), where
