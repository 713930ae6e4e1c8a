"""Synthetic completed audits written straight into the store: the benchmark's 1,000,000-finding audit,
which no sandbox or account could produce in reasonable time.

Shapes follow the catalogue: every check, its severity and resource type, AWS's identifier members for that
type, and related clients on the shared-certificate and conflicting-client-id checks. Successive audits
share most resources: each check's resources are a window over a numbered pool that slides by
`changed_share` per audit, so that share is resolved and as many are new, and drift is meaningful.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ..aws.catalogue import CHECKS
from ..aws.models_audit import AuditTask, CheckResult, TaskStatistics
from ..aws.models_findings import Finding, ResourceRef
from .store import AuditStore

# Share of an audit's findings per check: device certificates dominate a large fleet's audits.
_WEIGHTS = {
    "DEVICE_CERTIFICATE_EXPIRING_CHECK": 30,
    "DEVICE_CERTIFICATE_AGE_CHECK": 25,
    "DEVICE_CERTIFICATE_SHARED_CHECK": 10,
    "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK": 8,
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK": 6,
    "CONFLICTING_CLIENT_IDS_CHECK": 10,
    "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK": 5,
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK": 3,
    "IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK": 3,
}
# Checks of the few resources an account has: a handful of findings each, whatever the audit's size.
_FEW = {"ACCOUNT_SETTINGS": 1, "CA_CERTIFICATE": 3, "COGNITO_IDENTITY_POOL": 2, "ROLE_ALIAS": 4}


def _identifier(resource_type: str, n: int, account: str, region: str) -> dict[str, Any]:
    cert = f"{n:064x}"
    if resource_type == "DEVICE_CERTIFICATE":
        return {"deviceCertificateId": cert}
    if resource_type == "CA_CERTIFICATE":
        return {"caCertificateId": f"{n + 1 << 200:064x}"}
    if resource_type == "IOT_POLICY":
        return {"policyVersionIdentifier": {"policyName": f"fleet-policy-{n}", "policyVersionId": "1"}}
    if resource_type == "CLIENT_ID":
        return {"clientId": f"device-{n:07d}"}
    if resource_type == "COGNITO_IDENTITY_POOL":
        return {"cognitoIdentityPoolId": f"{region}:{n:08x}-0000-4000-8000-000000000000"}
    if resource_type == "ROLE_ALIAS":
        return {"roleAliasArn": f"arn:aws:iot:{region}:{account}:rolealias/fleet-alias-{n}"}
    if resource_type == "ISSUER_CERTIFICATE":
        return {
            "deviceCertificateArn": f"arn:aws:iot:{region}:{account}:cert/{cert}",
            "issuerCertificateIdentifier": {
                "issuerCertificateSubject": f"CN=Fleet Intermediate CA {n % 7}",
                "issuerId": f"{n % 7:040x}",
                "issuerCertificateSerialNumber": f"{n % 7 + 4096:x}",
            },
        }
    return {"account": account}


def _counts(findings: int) -> dict[str, int]:
    counts = {name: n for name, info in CHECKS.items() if (n := _FEW.get(info.resource_type, 0))}
    rest = max(0, findings - sum(counts.values()))
    total = sum(_WEIGHTS.values())
    for name, weight in _WEIGHTS.items():
        counts[name] = rest * weight // total
    counts["DEVICE_CERTIFICATE_EXPIRING_CHECK"] += findings - sum(counts.values())
    return {name: n for name, n in counts.items() if n > 0}


def _related(n: int, start: datetime) -> tuple[ResourceRef, ...]:
    millis = str(int(start.timestamp() * 1000) - 3_600_000)
    return tuple(
        ResourceRef("CLIENT_ID", {"clientId": f"device-{n:07d}-{k}"}, {"CONNECTION_TIME": millis})
        for k in (1, 2)
    )


def _findings(
    rng: random.Random, task_id: str, name: str, pool: range, start: datetime, where: tuple[str, str]
) -> Iterator[Finding]:
    info = CHECKS[name]
    found_at = start + timedelta(minutes=5)
    with_related = name in ("DEVICE_CERTIFICATE_SHARED_CHECK", "CONFLICTING_CLIENT_IDS_CHECK")
    for n in pool:
        yield Finding(
            f"{rng.getrandbits(128):032x}", task_id, name, start, found_at, info.severity,
            ResourceRef(info.resource_type, _identifier(info.resource_type, n, *where)),
            _related(n, start) if with_related else (), name.removesuffix("_CHECK"), info.title, False,
        )  # fmt: skip


def generate(
    store: AuditStore,
    account: str,
    region: str,
    *,
    findings: int,
    tasks: int = 2,
    seed: int = 0,
    changed_share: float = 0.1,
    now: datetime | None = None,
) -> list[str]:
    """Write `tasks` completed audits of about `findings` findings each, a day apart and ending at `now`;
    returns their task ids, oldest first."""
    rng = random.Random(seed)
    end = now or datetime.now(UTC)
    counts = _counts(findings)
    task_ids = []
    for t in range(tasks):
        task_id = f"{rng.getrandbits(128):032x}"
        start = end - timedelta(days=tasks - 1 - t)
        checks = []
        for name in CHECKS:
            n = counts.get(name, 0)
            status = "COMPLETED_NON_COMPLIANT" if n else "COMPLETED_COMPLIANT"
            checks.append(CheckResult(name, status, not n, n * 5 // 4 + 10, n, 0, None, None))
        stats = TaskStatistics(len(checks), 0, 0, sum(1 for c in checks if c.compliant), len(counts), 0, 0)
        task = AuditTask(task_id, "COMPLETED", "SCHEDULED_AUDIT_TASK", start, "daily-fleet-audit", stats,
                         tuple(checks))  # fmt: skip
        store.save_task(account, region, task)
        for name, n in counts.items():
            first = int(t * n * changed_share)  # the window slides: its first share resolved, as many new

            made = _findings(rng, task_id, name, range(first, first + n), start, (account, region))
            store.save_findings(account, region, task_id, made)
            store.mark_check_complete(account, region, task_id, name)
        task_ids.append(task_id)
    return task_ids
