"""Demo fleets seeded into moto and the Device Defender state."""

from __future__ import annotations

DEFAULT_ACCOUNT = "123456789012"


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
