"""Demo fleets seeded into moto and the Device Defender state.

`lab` reproduces the workshop "Module 2: Audit your IoT Fleet": every check enabled with an audit role,
SensorDevice01 and SensorDevice02 sharing one certificate, an overly permissive policy on it, IoT logging
never enabled, and an on-demand audit that already ran the day before. A new audit of it finds exactly
DEVICE_CERTIFICATE_SHARED_CHECK, IOT_POLICY_OVERLY_PERMISSIVE_CHECK and LOGGING_DISABLED_CHECK
non-compliant. `empty` is a fresh account. `devices=N` adds a generated fleet (fleet_generated.py).
"""

from __future__ import annotations

import gc
import json

from moto.iot.models import iot_backends

from . import audits, pki
from .checks import CHECKS
from .engine.audit_role import MANAGED_POLICY_ACTIONS
from .engine.certinfo import parse_pem, stamp, to_naive_utc
from .fleet_generated import generate
from .fleet_roles import create_role
from .runtime import runtime
from .state import AuditConfig, AuditTask, CheckConfig, Connection, DefenderState, state_for

DEFAULT_ACCOUNT = "123456789012"
AUDIT_ROLE = "AWSIoTDeviceDefenderAuditRole"
LAB_POLICY = "SensorDevicePolicy"
LAB_THINGS = ("SensorDevice01", "SensorDevice02")
LARGE_FLEET = 10_000
HOUR = 3600.0
DAY = 86400.0

# The lab's audit role allows what the AWS-managed AWSIoTDeviceDefenderAudit policy does (inline: moto's IAM
# does not load AWS managed policies unless MOTO_IAM_LOAD_MANAGED_POLICIES is set), so every check can run.
AUDIT_PERMISSIONS = list(MANAGED_POLICY_ACTIONS)


def seed_fleet(
    kind: str,
    devices: int = 0,
    seed: int = 0,
    region: str = "us-east-1",
    account_id: str = DEFAULT_ACCOUNT,
) -> None:
    """Seed `kind` ("lab" or "empty") plus `devices` generated devices."""
    if kind not in ("lab", "empty"):
        raise ValueError(f"unknown fleet {kind!r}")
    if devices < 0:
        raise ValueError("devices must not be negative")

    collecting = gc.isenabled()
    gc.disable()  # seeding allocates millions of objects and frees none: nothing to collect
    try:
        _seed(kind, devices, seed, region, account_id)
    finally:
        if collecting:
            gc.enable()
    if devices >= LARGE_FLEET:
        # Keep the cycle collector from rescanning the fleet on every later collection (an audit of
        # 100k devices spent half its time there). Frozen objects are still freed by reference count.
        gc.freeze()


def _seed(kind: str, devices: int, seed: int, region: str, account_id: str) -> None:
    now = runtime().clock.now()
    state = state_for(iot_backends[account_id][region])
    if kind == "lab":
        _seed_lab(state, now)
    if devices:
        generate(state, devices, seed, now)
    if kind == "lab":
        past_audit(state, sorted(CHECKS), now - DAY)  # the audit the workshop ran in advance


def audit_role(account_id: str) -> str:
    """A new audit role of the account (AWSIoTDeviceDefenderAuditRole) allowing every check; its ARN."""
    return create_role(
        account_id,
        AUDIT_ROLE,
        "iot.amazonaws.com",
        [{"Effect": "Allow", "Action": AUDIT_PERMISSIONS, "Resource": "*"}],
    )


def configure_audit(state: DefenderState, role_arn: str, checks: list[str]) -> None:
    with state.lock:
        state.audit_config = AuditConfig(
            role_arn=role_arn, checks={name: CheckConfig(enabled=True) for name in checks}
        )


def past_audit(state: DefenderState, checks: list[str], at: float) -> AuditTask:
    """An on-demand audit started and finished at `at`, so results exist at first launch.

    Started and finished under one hold of the (reentrant) lock: between the two, the ticker thread would
    find its checks overdue and finish them itself at today's time (findings "found" now, evaluated against
    today's connections), which made the frozen snapshot world differ now and then under load.
    """
    with state.lock:
        task = audits.start_audit(state, checks, at)
        audits.run_to_completion(state, task)
    return task


def _seed_lab(state: DefenderState, now: float) -> None:
    account, region = state.account_id, state.region
    iot = iot_backends[account][region]
    configure_audit(state, audit_role(account), sorted(CHECKS))

    if runtime().options.deterministic:
        pem = pki.fixed_certificate("AWS IoT Certificate", now - DAY, now + 365 * DAY)
        cert = iot.register_certificate_without_ca(pem, "ACTIVE")
        cert.creation_date = cert.last_modified_date = to_naive_utc(now)
    else:
        cert, _keys = iot.create_keys_and_certificate(set_as_active=True)
    stamp(cert, parse_pem(cert.certificate_pem))
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}],
    }
    iot.create_policy(LAB_POLICY, json.dumps(policy))
    iot.attach_policy(LAB_POLICY, cert.arn)
    for name in LAB_THINGS:
        iot.create_thing(name, "", None)
        iot.attach_thing_principal(name, cert.arn)

    # Both devices authenticate with the same certificate, at overlapping times, before yesterday's
    # audit and again since (early enough for an audit now to see it: AWS reads the log up to 2 hours
    # before the check).
    first, second = LAB_THINGS
    log = [
        Connection(first, cert.certificate_id, now - 3 * DAY, None, first),
        Connection(second, cert.certificate_id, now - 2 * DAY, now - 2 * DAY + 8 * HOUR, second),
        Connection(second, cert.certificate_id, now - 3 * HOUR, None, second),
    ]
    with state.lock:
        state.connections.extend(log)
