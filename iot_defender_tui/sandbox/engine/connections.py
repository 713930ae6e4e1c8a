"""Checks driven by the connection log: shared device certificates and conflicting client ids.

Both look at the 31 days before the audit, as AWS's on-demand audits do. A connection that ended after
the audit's time was still open when that audit ran.

The sandbox has no MQTT broker, so a takeover (a device connecting with a client id already in use, which
knocks the connected one off) is read from the log: a session of a client id that ends at most
TAKEOVER_GAP seconds before another session of that client id begins, or that is still open when it
begins. A device's own reconnect after a longer pause is not a takeover.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..state import Connection
from .certinfo import active
from .context import AuditContext, CheckOutcome, FindingDraft

DAY = 86400.0
WINDOW = 31 * DAY
# AWS's own examples of shared-certificate findings (aws-cli examples/iot/list-audit-findings.rst) are one
# client id whose session ends 0.2 s, 1.4 s, 2.5 s or 19.5 s before its next one begins.
TAKEOVER_GAP = 30.0
_OPEN = float("inf")

Seen = tuple[Connection, float]  # a connection and its end as the audit saw it (inf: still open)


def _window(ctx: AuditContext) -> tuple[float, float]:
    return ctx.now - WINDOW, ctx.now


def _seen(ctx: AuditContext, window: tuple[float, float]) -> list[Seen]:
    """Connections that were open at some time in the window, each with its end as the audit saw it."""
    since, until = window
    with ctx.state.lock:
        log = list(ctx.state.connections)
    seen = []
    for conn in log:
        if conn.connected > until:
            continue
        end = conn.disconnected if conn.disconnected is not None and conn.disconnected <= until else _OPEN
        if end >= since:
            seen.append((conn, end))
    return seen


def _concurrent(conns: list[Seen]) -> bool:
    """Were two of these connections open at once: overlapping, or one taking over another's client id?
    Clients taking turns (one leaves, another client id arrives) are not. One pass by start time."""
    latest = -_OPEN
    last_end_of: dict[str, float] = {}  # client id -> latest end so far
    for conn, end in sorted(conns, key=lambda c: c[0].connected):
        start, client = conn.connected, conn.client_id
        if latest > start:
            return True
        previous = last_end_of.get(client, -_OPEN)
        if start - previous <= TAKEOVER_GAP:
            return True
        latest = max(latest, end)
        last_end_of[client] = max(previous, end)
    return False


def _times(conn: Connection, end: float) -> dict[str, str]:
    info = {"CONNECTION_TIME": str(int(conn.connected * 1000))}
    if end != _OPEN:
        info["DISCONNECTION_TIME"] = str(int(end * 1000))
    return info


def _newest_first(conns: list[Seen]) -> list[Seen]:
    return sorted(conns, key=lambda c: c[0].connected, reverse=True)


def shared_certificates(ctx: AuditContext) -> CheckOutcome:
    """https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-device-cert-shared.html:
    "Multiple, concurrent connections use the same X.509 certificate to authenticate with AWS IoT."
    Whatever their client ids: AWS's examples of this finding name one client id only."""
    by_cert: dict[str, list[Seen]] = defaultdict(list)
    for conn, end in _seen(ctx, _window(ctx)):
        by_cert[conn.certificate_id].append((conn, end))
    certs = ctx.iot.certificates
    findings = []
    evaluated = 0
    for cert_id, conns in by_cert.items():
        cert: Any = certs.get(cert_id)
        if cert is None or not active(cert):
            continue
        evaluated += 1
        if not _concurrent(conns):
            continue
        findings.append(
            FindingDraft(
                "DEVICE_CERTIFICATE",
                {"deviceCertificateId": cert_id},
                "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES",
                "Certificate shared by one or more devices.",
                related_resources=[
                    {
                        "resourceType": "CLIENT_ID",
                        "resourceIdentifier": {"clientId": conn.client_id},
                        "additionalInfo": _times(conn, end),
                    }
                    for conn, end in _newest_first(conns)
                ],
            )
        )
    return CheckOutcome(evaluated, findings)


def conflicting_client_ids(ctx: AuditContext) -> CheckOutcome:
    """https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-conflicting-client-ids.html:
    "Multiple connections were made using the same client ID, causing an already connected device to be
    disconnected." Whatever their certificates: a cloned device has the same one."""
    by_client: dict[str, list[Seen]] = defaultdict(list)
    for conn, end in _seen(ctx, _window(ctx)):
        by_client[conn.client_id].append((conn, end))
    findings = []
    for client_id, conns in by_client.items():
        if not _concurrent(conns):
            continue
        findings.append(
            FindingDraft(
                "CLIENT_ID",
                {"clientId": client_id},
                "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS",
                "Multiple connections were made using the same client ID.",
                related_resources=[
                    {
                        "resourceType": "DEVICE_CERTIFICATE",
                        "resourceIdentifier": {"deviceCertificateId": conn.certificate_id},
                        "additionalInfo": _times(conn, end),
                    }
                    for conn, end in _newest_first(conns)
                ],
            )
        )
    return CheckOutcome(len(by_client), findings)
