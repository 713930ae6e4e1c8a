"""Checks driven by the connection log: shared device certificates and conflicting client ids.

Both look at the 31 days before the audit, as AWS's on-demand audits do. A connection that ended after
the audit's time was still open when that audit ran.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ..state import Connection
from .certinfo import active
from .context import AuditContext, CheckOutcome, FindingDraft

WINDOW = 31 * 86400.0
_OPEN = float("inf")


def _recent(ctx: AuditContext) -> list[tuple[Connection, float]]:
    """Connections seen in the window, each with its end as the audit saw it (inf: still open)."""
    with ctx.state.lock:
        log = list(ctx.state.connections)
    since, now = ctx.now - WINDOW, ctx.now
    recent = []
    for conn in log:
        if conn.connected > now:
            continue
        end = conn.disconnected if conn.disconnected is not None and conn.disconnected <= now else _OPEN
        if end >= since:
            recent.append((conn, end))
    return recent


def _overlap(conns: list[tuple[Connection, float]], who: Callable[[Connection], str], touching: bool) -> bool:
    """Did two connections of different `who` overlap? One pass over the connections by start time,
    keeping the latest end overall and the latest end of anyone other than its owner."""
    if len(conns) < 2 or len({who(c) for c, _ in conns}) < 2:
        return False
    best_end, best_who, other_end = -_OPEN, None, -_OPEN
    for conn, end in sorted(conns, key=lambda c: c[0].connected):
        start, owner = conn.connected, who(conn)
        rival_end = other_end if owner == best_who else best_end
        if rival_end > start or (touching and rival_end == start):
            return True
        if owner == best_who:
            best_end = max(best_end, end)
        elif end > best_end:
            best_end, best_who, other_end = end, owner, best_end
        else:
            other_end = max(other_end, end)
    return False


def _times(conn: Connection, end: float) -> dict[str, str]:
    info = {"CONNECTION_TIME": str(int(conn.connected * 1000))}
    if end != _OPEN:
        info["DISCONNECTION_TIME"] = str(int(end * 1000))
    return info


def _newest_first(conns: list[tuple[Connection, float]]) -> list[tuple[Connection, float]]:
    return sorted(conns, key=lambda c: c[0].connected, reverse=True)


def shared_certificates(ctx: AuditContext) -> CheckOutcome:
    by_cert: dict[str, list[tuple[Connection, float]]] = defaultdict(list)
    for conn, end in _recent(ctx):
        by_cert[conn.certificate_id].append((conn, end))
    certs = ctx.iot.certificates
    findings = []
    evaluated = 0
    for cert_id, conns in by_cert.items():
        cert: Any = certs.get(cert_id)
        if cert is None or not active(cert):
            continue
        evaluated += 1
        if not _overlap(conns, lambda c: c.client_id, touching=False):
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
    by_client: dict[str, list[tuple[Connection, float]]] = defaultdict(list)
    for conn, end in _recent(ctx):
        by_client[conn.client_id].append((conn, end))
    findings = []
    for client_id, conns in by_client.items():
        # A second connection with the same client id knocks the first off at that very instant.
        if not _overlap(conns, lambda c: c.certificate_id, touching=True):
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
