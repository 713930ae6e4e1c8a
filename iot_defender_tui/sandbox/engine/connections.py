"""Checks driven by the connection log: shared device certificates and conflicting client ids.

Each check reads the window of the log AWS documents for it (`shared_window`, `conflict_window`). A
connection that ended after its window closed was still open as far as that audit can tell.

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
WINDOW = 31 * DAY  # how far back an on-demand audit (or a schedule's first run) looks
SHARED_LAG = 2 * 3600.0
# AWS's own examples of shared-certificate findings (aws-cli examples/iot/list-audit-findings.rst) are one
# client id whose session ends 0.2 s, 1.4 s, 2.5 s or 19.5 s before its next one begins.
TAKEOVER_GAP = 30.0
_OPEN = float("inf")

Seen = tuple[Connection, float]  # a connection and its end as the audit saw it (inf: still open)


def shared_window(ctx: AuditContext) -> tuple[float, float]:
    """https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-device-cert-shared.html:
    "When performed as part of an on-demand audit, this check looks at the certificates and client IDs
    that were used by devices to connect during the 31 days before the start of the audit up to 2 hours
    before the check is run. For scheduled audits, this check looks at data from 2 hours before the last
    time the audit was run to 2 hours before the time this instance of the audit started."
    """
    since = ctx.started - WINDOW if ctx.last_run is None else ctx.last_run - SHARED_LAG
    return since, (ctx.started if ctx.scheduled else ctx.now) - SHARED_LAG


def conflict_window(ctx: AuditContext) -> tuple[float, float]:
    """https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-conflicting-client-ids.html:
    "When performed as part of an on-demand audit, this check looks at how client IDs were used to connect
    during the 31 days prior to the start of the audit. For scheduled audits, this check looks at data
    from the last time the audit was run to the time this instance of the audit started." (No lag.)
    """
    since = ctx.started - WINDOW if ctx.last_run is None else ctx.last_run
    return since, ctx.started


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
    """AWS: "Multiple, concurrent connections use the same X.509 certificate to authenticate with AWS IoT"
    (the page of `shared_window`), whatever their client ids: AWS's example findings name one only."""
    by_cert: dict[str, list[Seen]] = defaultdict(list)
    for conn, end in _seen(ctx, shared_window(ctx)):
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
    """AWS: "Multiple connections were made using the same client ID, causing an already connected device
    to be disconnected" (the page of `conflict_window`), whatever their certificates: a clone has the same."""
    by_client: dict[str, list[Seen]] = defaultdict(list)
    for conn, end in _seen(ctx, conflict_window(ctx)):
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
