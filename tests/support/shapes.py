"""Checks a raw response body against botocore's output shape: AWS SDKs silently drop what they do
not know, so without this a sandbox reply with a misspelt member or an invalid enum would pass."""

from __future__ import annotations

import json
from typing import Any

from botocore.model import Shape


def problems(shape: Shape, value: Any, path: str = "$") -> list[str]:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        members = {
            m.serialization.get("name", name): m
            for name, m in shape.members.items()
            if m.serialization.get("location") in (None, "")
        }
        found = []
        for key, item in value.items():
            if key not in members:
                found.append(f"{path}.{key}: not a member of {shape.name}")
            else:
                found += problems(members[key], item, f"{path}.{key}")
        return found
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [p for i, item in enumerate(value) for p in problems(shape.member, item, f"{path}[{i}]")]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map"]
        found = []
        for key, item in value.items():
            found += problems(shape.key, key, f"{path}<key {key}>")
            found += problems(shape.value, item, f"{path}.{key}")
        return found
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {value!r}"]
        enum = shape.enum
        if enum and value not in enum:
            return [f"{path}: {value!r} is not one of {shape.name}'s values"]
        return []
    if kind in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer, got {value!r}"]
    if kind in ("double", "float"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number, got {value!r}"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    if kind == "timestamp":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected epoch seconds, got {value!r}"]
    return []


def check_response(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
    """botocore `before-parse` hook: fail the call if a 2xx JSON body does not fit the output shape."""
    if response_dict.get("status_code", 500) >= 300 or operation_model.output_shape is None:
        return
    body = response_dict.get("body") or b"{}"
    try:
        payload = json.loads(body)
    except ValueError as err:
        raise AssertionError(f"{operation_model.name}: body is not JSON: {body[:200]!r}") from err
    found = problems(operation_model.output_shape, payload)
    if found:
        raise AssertionError(f"{operation_model.name} does not conform to botocore's shape: {found[:10]}")
