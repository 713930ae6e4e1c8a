"""The TUI talks to AWS through aiobotocore: the sandbox must serve it exactly as it serves boto3."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.sandbox import CREDENTIALS, REGION
from tests.support.shapes import check_response


@pytest.fixture
async def aio_iot(sandbox_url: str) -> AsyncIterator[object]:
    session = get_session()
    config = Config(retries={"total_max_attempts": 1})
    async with session.create_client(
        "iot", endpoint_url=sandbox_url, region_name=REGION, config=config, **CREDENTIALS
    ) as client:
        client.meta.events.register("before-parse.iot.*", check_response)
        yield client


async def test_describe_account_audit_configuration(aio_iot):
    config = await aio_iot.describe_account_audit_configuration()
    assert config["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "DEVICE_CERTIFICATE_SHARED_CHECK" in config["auditCheckConfigurations"]
    assert not config["auditCheckConfigurations"]["DEVICE_CERTIFICATE_SHARED_CHECK"]["enabled"]


async def test_update_then_describe_configuration(aio_iot):
    role = "arn:aws:iam::123456789012:role/AuditRole"
    await aio_iot.update_account_audit_configuration(
        roleArn=role, auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": True}}
    )
    config = await aio_iot.describe_account_audit_configuration()
    assert config["roleArn"] == role
    assert config["auditCheckConfigurations"]["LOGGING_DISABLED_CHECK"]["enabled"] is True


async def test_paginator_walks_every_page(aio_iot):
    names = {f"device-{i:03d}" for i in range(300)}
    for name in sorted(names):
        await aio_iot.create_thing(thingName=name)
    paginator = aio_iot.get_paginator("list_things")
    pages = [page async for page in paginator.paginate(PaginationConfig={"PageSize": 250})]
    assert [len(p["things"]) for p in pages] == [250, 50]
    assert {t["thingName"] for p in pages for t in p["things"]} == names


async def test_unknown_resource_maps_to_its_error_code(aio_iot):
    with pytest.raises(ClientError) as err:
        await aio_iot.describe_audit_task(taskId="0" * 32)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(aio_iot.exceptions.ResourceNotFoundException):
        await aio_iot.describe_thing(thingName="no-such-thing")
