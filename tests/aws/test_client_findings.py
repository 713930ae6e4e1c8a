"""DefenderClient: findings streamed page by page, several checks fetched concurrently, finding details."""

from __future__ import annotations

import asyncio
import json

from iot_defender_tui.aws import fastparse
from iot_defender_tui.aws.models import Finding
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.factories import defender_state, seed_cert_findings, seed_finding, seed_task
from tests.support.models import all_findings, lab_task_id
from tests.support.sandbox import request_counts

SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"
AGE = "DEVICE_CERTIFICATE_AGE_CHECK"
EXPIRING = "DEVICE_CERTIFICATE_EXPIRING_CHECK"
REVOKED = "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK"
LIST = "ListAuditFindings"


def seeded_task(counts: dict[str, int]):
    state = defender_state()
    task = seed_task(state, runtime().clock.now() - 600, checks=tuple(counts))
    for check, count in counts.items():
        seed_cert_findings(state, task, count, check_name=check)
    return task


async def test_pages_of_250_and_the_first_arrives_before_the_rest_are_asked_for(dd, sandbox_url):
    task = seeded_task({SHARED: 610})
    before = request_counts(sandbox_url).get(LIST, 0)
    sizes, requests_at_first_page = [], None
    async for page in dd.iter_findings(task_id=task.task_id, check_name=SHARED):
        if requests_at_first_page is None:
            requests_at_first_page = request_counts(sandbox_url)[LIST] - before
        sizes.append(len(page))
    assert sizes == [250, 250, 110]
    # The caller held the first page while only one request had been sent: it is streamed, not collected.
    assert requests_at_first_page == 1

    everything = await dd.list_findings(task_id=task.task_id)
    assert len({f.finding_id for f in everything}) == 610
    assert {f.check_name for f in everything} == {SHARED}
    assert all(
        f.severity == "CRITICAL" and f.resource.resource_type == "DEVICE_CERTIFICATE" for f in everything
    )


async def test_a_smaller_page_size_for_a_quick_first_screen(dd):
    task = seeded_task({SHARED: 230})
    sizes = [len(page) async for page in dd.iter_findings(task_id=task.task_id, page_size=100)]
    assert sizes == [100, 100, 30]


async def test_empty_result_is_one_empty_page(dd):
    task = seeded_task({SHARED: 0})
    pages = [page async for page in dd.iter_findings(task_id=task.task_id)]
    assert pages == [()]


async def test_several_checks_fetched_concurrently_within_the_bound(dd, monkeypatch):
    task = seeded_task({SHARED: 300, AGE: 20, EXPIRING: 5, REVOKED: 0})
    runtime().options.latency_ms = 200  # each request takes 0.2 s at the server: they overlap if allowed
    fetch = dd.iter_findings
    in_flight, most = set(), [0]

    async def counted(**kwargs):
        # Counted around the client's own pager: what fetch_findings has open at once, not a timing.
        in_flight.add(kwargs["check_name"])
        most[0] = max(most[0], len(in_flight))
        try:
            async for page in fetch(**kwargs):
                yield page
        finally:
            in_flight.discard(kwargs["check_name"])

    monkeypatch.setattr(dd, "iter_findings", counted)
    got: dict[str, list[int]] = {}
    async for check, page in dd.fetch_findings(task.task_id, [SHARED, AGE, EXPIRING, REVOKED], concurrency=3):
        got.setdefault(check, []).append(len(page))
    assert got == {SHARED: [250, 50], AGE: [20], EXPIRING: [5], REVOKED: [0]}
    assert most[0] == 3  # four checks, three at a time

    most[0] = 0
    one_at_a_time = [
        c async for c, _ in dd.fetch_findings(task.task_id, [AGE, EXPIRING, REVOKED], concurrency=1)
    ]
    assert one_at_a_time == [AGE, EXPIRING, REVOKED]
    assert most[0] == 1


async def test_stopping_early_stops_the_fetching(dd, sandbox_url):
    task = seeded_task({SHARED: 1000, AGE: 1000})
    runtime().options.latency_ms = 50
    before = request_counts(sandbox_url).get(LIST, 0)
    async for _check, page in dd.fetch_findings(task.task_id, [SHARED, AGE], concurrency=1):
        assert len(page) == 250
        break
    await asyncio.sleep(0.3)
    # 8 pages exist; the consumer took one. Only what the bounded queue had room for was fetched.
    assert request_counts(sandbox_url)[LIST] - before <= 4


async def test_describe_finding_and_its_related_resources(dd):
    state = defender_state()
    task = seed_task(state, runtime().clock.now() - 600)
    related = [
        {
            "resourceType": "CLIENT_ID",
            "resourceIdentifier": {"clientId": f"Sensor[{n}]"},
            "additionalInfo": {"CONNECTION_TIME": "1560086374068"},
        }
        for n in (1, 2)
    ]
    finding = seed_finding(state, task, {"deviceCertificateId": "cd" * 32}, related=related)

    described = await dd.describe_finding(finding.finding_id)
    assert described.finding_id == finding.finding_id
    assert described.reason == "Certificate shared by one or more devices."
    assert described.resource.identifier == {"deviceCertificateId": "cd" * 32}

    resources = await dd.list_related_resources(finding.finding_id)
    assert [r.identifier["clientId"] for r in resources] == ["Sensor[1]", "Sensor[2]"]
    assert all(r.connected_at is not None for r in resources)


async def test_pages_read_without_the_modeled_parser_equal_the_modeled_reading(dd, iot, monkeypatch):
    """ListAuditFindings pages are decoded with json.loads (aws/fastparse.py); every finding must read
    the same as through botocore's modeled parser, related resources and times included."""
    decoded: list[int] = []

    def counting_loads(body):
        decoded.append(len(body))
        return json.loads(body)

    monkeypatch.setattr(fastparse, "_loads", counting_loads)
    seed_fleet("lab")
    task_id = lab_task_id(iot)
    expected = {f.finding_id: f for f in map(Finding.from_api, all_findings(iot, task_id))}
    fast = {f.finding_id: f for f in await dd.list_findings(task_id=task_id)}
    assert len(decoded) == 1  # the one page went through the fast path, not the modeled parser
    assert fast == expected and len(fast) == 3
    shared = next(f for f in fast.values() if f.check_name == SHARED)
    assert shared.finding_time is not None and shared.finding_time.tzinfo is not None


def test_a_page_orjson_refuses_is_still_read_fast():
    """Hostile text can carry an escaped lone surrogate, which orjson refuses and json reads: the page is
    read (by json), not left to the modeled parser or lost."""
    body = b'{"findings": [{"findingId": "f1", "reasonForNonCompliance": "bad \\ud800 text"}]}'
    reply: dict = {}
    wire = {"status_code": 200, "body": body}
    fastparse._decode_page(wire, reply)
    assert reply["findings"][0]["reasonForNonCompliance"] == "bad \ud800 text" and wire["body"] == b"{}"
    assert Finding.from_api(reply["findings"][0]).reason == "bad \\ud800 text"  # shown escaped, never raw
