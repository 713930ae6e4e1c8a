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
from .routing import reroute
from .scheduled import ScheduledAuditsMixin
from .sts import install_sts
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
    """Route moto's IoT, cognito-identity and STS URLs to the sandbox's classes (before the first request)."""
    reroute(moto.iot.urls.url_paths, IoTResponse, SandboxIoTResponse, "IoT")
    install_cognito()
    install_sts()
