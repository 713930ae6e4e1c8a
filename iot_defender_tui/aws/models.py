"""Device Defender's replies as frozen dataclasses: the one import for every model.

Each model has `from_api(data)`, reading a reply as botocore parsed it (members AWS adds later are
ignored, optional ones may be missing; timestamps become timezone-aware UTC datetimes). The models
live in the modules below, split by subject.
"""

from __future__ import annotations

from .models_audit import (
    AuditConfiguration,
    AuditTask,
    CheckConfiguration,
    CheckResult,
    ScheduledAudit,
    SnsTarget,
    TaskStatistics,
)
from .models_findings import Finding, ResourceRef, Suppression, infer_resource_type
from .models_logging import LoggingOptions, LogLevelTarget
from .models_mitigation import CheckMitigationStats, MitigationAction, MitigationExecution, MitigationTask
from .models_params import (
    PARAMS_BY_TYPE,
    ActionParams,
    AddThingsToThingGroupParams,
    EnableIotLoggingParams,
    PublishFindingToSnsParams,
    ReplaceDefaultPolicyVersionParams,
    UpdateCaCertificateParams,
    UpdateDeviceCertificateParams,
    action_type_of,
    parse_params,
)
from .models_resources import Certificate, Identity, Policy, Role, Topic
from .reply_fields import epoch_millis, timestamp

__all__ = [
    "PARAMS_BY_TYPE",
    "ActionParams",
    "AddThingsToThingGroupParams",
    "AuditConfiguration",
    "AuditTask",
    "Certificate",
    "CheckConfiguration",
    "CheckMitigationStats",
    "CheckResult",
    "EnableIotLoggingParams",
    "Finding",
    "Identity",
    "LogLevelTarget",
    "LoggingOptions",
    "MitigationAction",
    "MitigationExecution",
    "MitigationTask",
    "Policy",
    "PublishFindingToSnsParams",
    "ReplaceDefaultPolicyVersionParams",
    "ResourceRef",
    "Role",
    "ScheduledAudit",
    "SnsTarget",
    "Suppression",
    "TaskStatistics",
    "Topic",
    "UpdateCaCertificateParams",
    "UpdateDeviceCertificateParams",
    "action_type_of",
    "epoch_millis",
    "infer_resource_type",
    "parse_params",
    "timestamp",
]
