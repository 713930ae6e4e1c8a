"""Device Defender state the sandbox keeps beside moto's IoT backend, one per account and region.

The state lives on moto's `IoTBackend` instance, so moto's reset clears it together with moto's own
state. Everything is guarded by `DefenderState.lock`: moto's threaded server runs handlers
concurrently, and the ticker thread advances audits and mitigations in the background.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from .runtime import runtime


@dataclass(slots=True)
class CheckConfig:
    enabled: bool
    configuration: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class AuditConfig:
    role_arn: str | None = None
    # AuditNotificationTargetConfigurations, keyed by target type ("SNS"): {targetArn, roleArn, enabled}
    notifications: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, CheckConfig] = field(default_factory=dict)


@dataclass(slots=True)
class ScheduledAudit:
    name: str
    arn: str
    frequency: str
    day_of_month: str | None
    day_of_week: str | None
    checks: list[str]
    created: float
    last_run_day: int | None = None  # sandbox day index of the last run, so a day fires once


@dataclass(slots=True)
class Finding:
    finding_id: str
    task_id: str
    check_name: str
    task_start_time: float
    finding_time: float
    severity: str
    resource_type: str
    resource_identifier: dict[str, Any]
    additional_info: dict[str, str]
    related_resources: list[dict[str, Any]]
    reason_code: str
    reason: str
    suppressed_at_audit: bool = False


@dataclass(slots=True)
class CheckRun:
    name: str
    due: float  # sandbox time at which this check finishes
    status: str = "IN_PROGRESS"
    compliant: bool | None = None
    total_resources: int = 0
    non_compliant: int = 0
    suppressed_non_compliant: int = 0
    error_code: str | None = None
    message: str | None = None


@dataclass(slots=True)
class AuditTask:
    task_id: str
    task_type: str  # ON_DEMAND_AUDIT_TASK | SCHEDULED_AUDIT_TASK
    start_time: float
    checks: dict[str, CheckRun]
    status: str = "IN_PROGRESS"  # IN_PROGRESS | COMPLETED | FAILED | CANCELED
    scheduled_audit_name: str | None = None
    finding_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Suppression:
    check_name: str
    resource_identifier: dict[str, Any]
    expiration_date: float | None
    suppress_indefinitely: bool
    description: str | None
    client_request_token: str | None = None  # AWS refuses a second suppression with the same token


@dataclass(slots=True)
class MitigationAction:
    name: str
    action_id: str
    arn: str
    role_arn: str
    action_type: str
    params: dict[str, Any]  # MitigationActionParams as sent (one key)
    created: float
    modified: float


@dataclass(slots=True)
class Execution:
    task_id: str
    finding_id: str
    action_name: str
    action_id: str
    status: str = "PENDING"  # IN_PROGRESS | COMPLETED | FAILED | CANCELED | SKIPPED | PENDING
    start_time: float | None = None
    end_time: float | None = None
    error_code: str | None = None
    message: str | None = None


@dataclass(slots=True)
class MitigationTask:
    task_id: str
    client_request_token: str
    target: dict[str, Any]  # AuditMitigationActionsTaskTarget as sent
    check_to_actions: dict[str, list[str]]  # auditCheckToActionsMapping as sent
    actions: dict[str, MitigationAction]  # snapshot of the actions used, by name
    finding_ids: list[str]  # findings in scope, in processing order
    start_time: float
    status: str = "IN_PROGRESS"  # IN_PROGRESS | COMPLETED | FAILED | CANCELED
    end_time: float | None = None
    executions: list[Execution] = field(default_factory=list)
    next_index: int = 0  # next finding to process
    request_fingerprint: str = ""  # what was asked, to tell a retry from a clash


@dataclass(slots=True)
class Connection:
    """One MQTT connection the sandbox pretends to have seen (drives shared-cert and client-id checks)."""

    client_id: str
    certificate_id: str
    connected: float
    disconnected: float | None  # None: still connected
    thing_name: str | None = None


@dataclass(eq=False)  # identity semantics: states live in a WeakSet
class DefenderState:
    account_id: str
    region: str
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    audit_config: AuditConfig | None = None  # None: never configured (or deleted)
    scheduled: dict[str, ScheduledAudit] = field(default_factory=dict)
    tasks: dict[str, AuditTask] = field(default_factory=dict)
    findings: dict[str, Finding] = field(default_factory=dict)
    suppressions: dict[tuple[str, str], Suppression] = field(default_factory=dict)
    actions: dict[str, MitigationAction] = field(default_factory=dict)
    mitigation_tasks: dict[str, MitigationTask] = field(default_factory=dict)
    logging_v1: dict[str, Any] | None = None  # {"roleArn", "logLevel"}; None: never set
    logging_v2: dict[str, Any] | None = None  # {"roleArn", "defaultLogLevel", "disableAllLogs"}
    log_levels: dict[tuple[str, str], str] = field(default_factory=dict)  # (targetType, name) -> level
    connections: list[Connection] = field(default_factory=list)
    # Revocation lists the sandbox keeps in place of CRL/OCSP lookups.
    revoked_device_certs: set[str] = field(default_factory=set)
    revoked_ca_certs: set[str] = field(default_factory=set)
    # Intermediate CAs revoked by their issuer: issuer id -> {issuerCertificateSubject, issuerId,
    # issuerCertificateSerialNumber}; device certificate id -> issuer id of the CA that signed it.
    revoked_intermediates: dict[str, dict[str, str]] = field(default_factory=dict)
    cert_issuer: dict[str, str] = field(default_factory=dict)
    # Known-weak keys (the role of Debian's openssl-blacklist): certificate id -> CVE id, and public key
    # (CertInfo.key_sha256) -> CVE id, so that every certificate of a listed key is flagged.
    weak_keys: dict[str, str] = field(default_factory=dict)
    weak_public_keys: dict[str, str] = field(default_factory=dict)
    # IAM access-advisor data for role aliases' roles: role ARN -> {service prefix: last access epoch}.
    service_last_accessed: dict[str, dict[str, float]] = field(default_factory=dict)
    # Cognito identity pool roles (moto lacks SetIdentityPoolRoles): pool id -> {"authenticated": arn, ...}
    identity_pool_roles: dict[str, dict[str, str]] = field(default_factory=dict)
    # When an identity of each Cognito identity pool last connected to AWS IoT (no connection happens
    # offline): pool id -> epoch; None: its identities connect every day. The Cognito checks audit only the
    # pools used in the 31 days before the audit; a pool absent here was never used with AWS IoT.
    identity_pool_iot_use: dict[str, float | None] = field(default_factory=dict)
    # The generated fleet's makings (fleet_generated.GeneratedFleet), which drift.py changes day by day;
    # None: no generated fleet here, nothing drifts.
    generated: Any = None


_states: weakref.WeakSet[DefenderState] = weakref.WeakSet()
_create_lock = threading.Lock()


def state_for(iot_backend: Any) -> DefenderState:
    """The Device Defender state attached to one moto IoTBackend (created on first use)."""
    state = iot_backend.__dict__.get("_defender")
    if state is None:
        with _create_lock:
            state = iot_backend.__dict__.get("_defender")
            if state is None:
                state = DefenderState(iot_backend.account_id, iot_backend.region_name)
                iot_backend.__dict__["_defender"] = state
                _states.add(state)
    return state


def all_states() -> list[DefenderState]:
    return list(_states)


def now() -> float:
    return runtime().clock.now()
