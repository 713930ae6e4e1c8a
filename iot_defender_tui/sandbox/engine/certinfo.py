"""What the audit needs to know about a certificate, read from its PEM once and kept on the moto object.

moto stamps every certificate with a validity of now±1 day whatever its PEM says, so the audit reads
the real dates from the PEM. Certificates the fleet generates carry their `CertInfo` from birth
(`stamp`), so a 100k-device audit never parses a PEM.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ACTIVE_STATES = frozenset({"ACTIVE", "PENDING_TRANSFER"})
_INFO = "_dd_info"
_DATES = "_dd_dates"


@dataclass(frozen=True, slots=True)
class CertInfo:
    not_before: float  # epoch seconds
    not_after: float
    issuer: str  # RFC 4514 issuer name
    rsa_modulus: int | None = None  # RSA keys only: what the ROCA test needs
    # SHA-256 of the DER SubjectPublicKeyInfo: a weak-key list names keys, not certificates. None for the
    # certificates the fleet generates, whose devices share one key pair (a seeding shortcut, pki.py).
    key_sha256: str | None = None


def to_naive_utc(epoch: float) -> dt.datetime:
    """moto keeps naive UTC datetimes: certificates the fleet edits must look the same."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None)


def _epoch(value: dt.datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def stamp(cert: Any, info: CertInfo) -> None:
    """Attach `info` to a moto certificate and make DescribeCertificate show the PEM's real validity."""
    cert.validity_not_before = to_naive_utc(info.not_before)
    cert.validity_not_after = to_naive_utc(info.not_after)
    cert.__dict__[_DATES] = True
    cert.__dict__[_INFO] = info


def parse_pem(pem: str) -> CertInfo:
    parsed = x509.load_pem_x509_certificate(pem.encode())
    key = parsed.public_key()
    modulus = key.public_numbers().n if isinstance(key, rsa.RSAPublicKey) else None
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(spki)
    return CertInfo(
        not_before=parsed.not_valid_before_utc.timestamp(),
        not_after=parsed.not_valid_after_utc.timestamp(),
        issuer=parsed.issuer.rfc4514_string(),
        rsa_modulus=modulus,
        key_sha256=digest.finalize().hex(),
    )


def info_of(cert: Any) -> CertInfo:
    info = cert.__dict__.get(_INFO)
    if info is not None:
        return info
    try:
        info = parse_pem(cert.certificate_pem)
    except ValueError:
        # moto accepts any text as a PEM unless told otherwise: fall back to what moto recorded.
        info = CertInfo(_epoch(cert.validity_not_before), _epoch(cert.validity_not_after), "")
    if cert.__dict__.get(_DATES):
        info = CertInfo(
            _epoch(cert.validity_not_before),
            _epoch(cert.validity_not_after),
            info.issuer,
            info.rsa_modulus,
            info.key_sha256,
        )
    cert.__dict__[_INFO] = info
    return info


def active(cert: Any) -> bool:
    return cert.status in ACTIVE_STATES
