"""The IoT response class that serves Device Defender, and its installation into moto's routing."""

from __future__ import annotations

import moto.iot.urls
from moto.iot.responses import IoTResponse

from .audit_config import AuditConfigMixin
from .cognito import install_cognito
from .findings import FindingsMixin
from .logging_options import LoggingOptionsMixin
from .mitigation_actions import MitigationActionsMixin
from .mitigation_tasks import MitigationTasksMixin
from .scheduled import ScheduledAuditsMixin
from .suppressions import SuppressionsMixin
from .tasks import AuditTasksMixin


class SandboxIoTResponse(
    AuditConfigMixin,
    ScheduledAuditsMixin,
    AuditTasksMixin,
    FindingsMixin,
    SuppressionsMixin,
    MitigationActionsMixin,
    MitigationTasksMixin,
    LoggingOptionsMixin,
):
    """moto's IoT handlers plus every Device Defender operation (one mixin per group)."""


def install() -> None:
    """Route moto's IoT URLs to `SandboxIoTResponse` (before the server's first IoT request)."""
    patched = 0
    for url, handler in list(moto.iot.urls.url_paths.items()):
        owner = getattr(handler, "__self__", None)
        if isinstance(owner, type) and issubclass(owner, IoTResponse):
            moto.iot.urls.url_paths[url] = SandboxIoTResponse.dispatch
            patched += 1
    if not patched:
        raise RuntimeError("moto's IoT routing changed: no IoTResponse handler to replace")
    install_cognito()
