"""Fault injection (--throttle-rate, --error-rate, --error-after-rate, --latency-ms) and the sandbox admin
paths."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from iot_defender_tui.sandbox.runtime import runtime
from tests.support.sandbox import make_client


def _admin(url: str, path: str, method: str = "GET") -> dict:
    with urllib.request.urlopen(urllib.request.Request(f"{url}/_sandbox/{path}", method=method)) as reply:
        return json.loads(reply.read())


def _error_of(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_throttle_rate_one_throttles_every_request(iot):
    runtime().options.throttle_rate = 1.0
    assert _error_of(iot.describe_account_audit_configuration) == ("ThrottlingException", 429)
    assert _error_of(iot.list_things) == ("ThrottlingException", 429)


def test_error_rate_one_fails_every_request_with_a_500(iot):
    runtime().options.error_rate = 1.0
    assert _error_of(iot.describe_account_audit_configuration) == ("InternalFailureException", 500)


def test_error_after_rate_one_executes_the_request_then_answers_500(iot):
    runtime().options.error_after_rate = 1.0
    assert _error_of(lambda: iot.create_thing(thingName="made-anyway")) == ("InternalFailureException", 500)
    runtime().options.error_after_rate = 0.0
    assert [t["thingName"] for t in iot.list_things()["things"]] == ["made-anyway"]


def test_error_before_the_request_does_not_execute_it(iot):
    runtime().options.error_rate = 1.0
    assert _error_of(lambda: iot.create_thing(thingName="never-made"))[1] == 500
    runtime().options.error_rate = 0.0
    assert iot.list_things()["things"] == []


def test_the_three_faults_take_disjoint_shares_of_one_roll(iot):
    runtime().rng.seed(2)
    runtime().options.throttle_rate = 0.2
    runtime().options.error_rate = 0.2
    runtime().options.error_after_rate = 0.2
    codes = []
    for i in range(300):
        try:
            iot.create_thing(thingName=f"t{i}")
            codes.append("ok")
        except ClientError as err:
            codes.append(err.response["Error"]["Code"])
    runtime().options.throttle_rate = runtime().options.error_rate = runtime().options.error_after_rate = 0.0
    ok = codes.count("ok")
    failed_after = len(_all_things(iot)) - ok
    assert 100 <= ok <= 260, ok
    assert 30 <= codes.count("ThrottlingException") <= 100
    # Of the 500s, about half came after the thing was made: error-after has its own share of the roll.
    assert 30 <= failed_after <= 100, failed_after
    assert codes.count("InternalFailureException") - failed_after >= 30


def _all_things(iot) -> list[str]:
    return [t["thingName"] for page in iot.get_paginator("list_things").paginate() for t in page["things"]]


def test_rates_apply_to_a_proportional_share_of_requests(iot):
    runtime().rng.seed(1)
    runtime().options.throttle_rate = 0.5
    outcomes = {"ok": 0, "ThrottlingException": 0}
    for _ in range(200):
        try:
            iot.list_things()
            outcomes["ok"] += 1
        except ClientError as err:
            outcomes[err.response["Error"]["Code"]] += 1
    assert 60 <= outcomes["ThrottlingException"] <= 140, outcomes


def test_throttles_and_errors_split_the_requests(iot):
    runtime().rng.seed(1)
    runtime().options.throttle_rate = 0.25
    runtime().options.error_rate = 0.25
    codes = []
    for _ in range(200):
        try:
            iot.list_things()
            codes.append("ok")
        except ClientError as err:
            codes.append(err.response["Error"]["Code"])
    for code in ("ok", "ThrottlingException", "InternalFailureException"):
        assert 20 <= codes.count(code) <= 140, (code, codes.count(code))


def test_latency_delays_each_request(iot):
    iot.list_things()  # connection set up outside the timed call
    runtime().options.latency_ms = 200
    start = time.perf_counter()
    iot.list_things()
    assert time.perf_counter() - start >= 0.2


def test_standard_retries_get_through_a_throttling_sandbox(sandbox_url):
    client = make_client(sandbox_url, retries={"mode": "standard", "max_attempts": 10})
    attempts = []
    client.meta.events.register("before-send.iot.*", lambda **_: attempts.append(1))
    runtime().rng.seed(3)
    runtime().options.throttle_rate = 0.3
    for i in range(8):
        client.create_thing(thingName=f"dev{i}")
    assert len(client.list_things()["things"]) == 8
    assert len(attempts) > 9, "no request was throttled, so retries were not exercised"


def test_admin_paths_are_never_faulted(iot, sandbox_url):
    runtime().options.throttle_rate = 1.0
    assert "requests" in _admin(sandbox_url, "stats")


def test_stats_count_operations_served(iot, sandbox_url):
    before = _admin(sandbox_url, "stats")["requests"]
    for _ in range(3):
        iot.describe_account_audit_configuration()
    iot.list_things()
    after = _admin(sandbox_url, "stats")["requests"]
    served = {op: after[op] - before.get(op, 0) for op in after}
    assert served["DescribeAccountAuditConfiguration"] == 3
    assert served["ListThings"] == 1


def test_advance_moves_the_sandbox_clock(sandbox_url):
    before = runtime().clock.now()
    moved = _admin(sandbox_url, "advance?seconds=60", method="POST")["now"]
    assert moved - before >= 60
    assert runtime().clock.now() >= moved


def test_unknown_admin_path_is_a_404(sandbox_url):
    with pytest.raises(urllib.error.HTTPError) as err:
        _admin(sandbox_url, "advance")  # GET: moving time needs a POST
    assert err.value.code == 404
