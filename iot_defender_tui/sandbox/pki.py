"""Real X.509 certificates for the sandbox: CAs, device certificates and a ROCA-vulnerable RSA key.

Generated fleets issue tens of thousands of certificates, so devices share one EC key pair (a signature
is ~0.1 ms; generating a key per device would dominate seeding). Each certificate still has its own
serial number and subject, hence its own PEM and certificate id.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .engine.certinfo import CertInfo

DAY = 86400.0


def _name(common_name: str, organization: str = "IoT Defender Sandbox") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


@dataclass(frozen=True, slots=True)
class Authority:
    """A CA the sandbox can sign with."""

    name: x509.Name
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    pem: str
    subject: str  # RFC 4514, computed once: every issued certificate names it

    @property
    def serial_hex(self) -> str:
        return format(self.certificate.serial_number, "x")


def make_ca(
    common_name: str,
    not_before: float,
    not_after: float,
    issuer: Authority | None = None,
    serial: int | None = None,
) -> Authority:
    """A CA certificate, self-signed or signed by `issuer` (an intermediate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.name if issuer else name)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(_utc(not_before))
        .not_valid_after(_utc(not_after))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return Authority(name, key, certificate, pem, name.rfc4514_string())


@lru_cache(maxsize=1)
def default_ca() -> Authority:
    """The process's sandbox root CA, valid for ten years from its first use."""
    import time

    now = time.time()
    return make_ca("IoT Defender Sandbox Root CA", now - DAY, now + 3650 * DAY)


@lru_cache(maxsize=1)
def shared_device_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def issue(
    ca: Authority,
    common_name: str,
    not_before: float,
    not_after: float,
    public_key: Any = None,
    serial: int | None = None,
) -> tuple[str, CertInfo]:
    """A device certificate signed by `ca` (PEM) and what the audit needs to know about it."""
    key = public_key if public_key is not None else shared_device_key().public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.name)
        .public_key(key)
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(_utc(not_before))
        .not_valid_after(_utc(not_after))
        .sign(ca.key, hashes.SHA256())
    )
    modulus = key.public_numbers().n if isinstance(key, rsa.RSAPublicKey) else None
    # Second precision: what the certificate itself can hold.
    info = CertInfo(float(int(not_before)), float(int(not_after)), ca.subject, modulus)
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), info


def fixed_certificate(common_name: str, not_before: float, not_after: float, secret: int = 1) -> str:
    """A self-signed device certificate that is the same PEM (hence the same certificate id) every time.

    For reproducible screens only: the key derives from `secret` and ECDSA signs deterministically
    (RFC 6979), so equal inputs give equal bytes.
    """
    key = ec.derive_private_key(0x5EED_0000 + secret, ec.SECP256R1())
    name = _name(common_name)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x5EED_0000 + secret)
        .not_valid_before(_utc(not_before))
        .not_valid_after(_utc(not_after))
        .sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


# --- ROCA (CVE-2017-15361) ------------------------------------------------------------------------
# Infineon's RSA library built primes p = k*M + (65537^a mod M), M the product of the first n primes
# (n = 126 for 2048-bit keys). Reproducing that construction gives a genuinely vulnerable public key.


def _small_primes(count: int) -> list[int]:
    primes: list[int] = []
    candidate = 2
    while len(primes) < count:
        if all(candidate % p for p in primes if p * p <= candidate):
            primes.append(candidate)
        candidate += 1
    return primes


def _probably_prime(n: int, rng: random.Random, rounds: int = 24) -> bool:
    if n < 2 or n % 2 == 0:
        return n == 2
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


@lru_cache(maxsize=4)
def roca_public_key(seed: int = 0, bits: int = 2048) -> rsa.RSAPublicKey:
    rng = random.Random(seed)
    primorial = 1
    for p in _small_primes(126):
        primorial *= p
    half = bits // 2

    def prime() -> int:
        while True:
            k = rng.randrange(2 ** (half - 1) // primorial, 2**half // primorial)
            candidate = k * primorial + pow(65537, rng.randrange(1, 2**62), primorial)
            if candidate.bit_length() == half and _probably_prime(candidate, rng):
                return candidate

    p, q = prime(), prime()
    return rsa.RSAPublicNumbers(65537, p * q).public_key()
