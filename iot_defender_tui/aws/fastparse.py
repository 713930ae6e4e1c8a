"""A faster reading of ListAuditFindings pages, through botocore's own `before-parse` hook.

botocore's modeled parser walks every member of every finding against the service model: about 25 ms for a
page of 250 findings, the largest cost of loading a big audit (the same cost the AWS CLI pays). The reply is
plain JSON whose member names are the model's, and our models read wire values (epoch-second timestamps)
as well as parsed ones, so a successful page is decoded with `json.loads` instead and handed over through
the hook's `customized_response_dict`, which botocore merges into its result. Errors, and any reply that
is not a JSON object, keep the modeled path.

orjson decodes a page of 250 findings in about a third of json's time (1.2 ms against 4.1 ms for a
shared-certificate page): the largest cost left once the modeled parser is skipped. What orjson refuses
and json reads (an escaped lone surrogate, which hostile text in a reply can carry; an integer beyond 64
bits) is read by json.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

OPERATIONS = ("ListAuditFindings",)


def _loads(body: bytes) -> Any:  # looked up at each call, so a test can see that this path is the one taken
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _decode_page(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    if response_dict.get("status_code") != 200:
        return
    try:
        data = _loads(response_dict.get("body") or b"{}")
    except ValueError:
        return
    if not isinstance(data, dict):
        return
    customized_response_dict.update(data)
    response_dict["body"] = b"{}"  # nothing left for the modeled parser to walk


def register(client: Any) -> None:
    for operation in OPERATIONS:
        client.meta.events.register(f"before-parse.iot.{operation}", _decode_page)
