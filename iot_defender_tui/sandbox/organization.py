"""`sandbox --accounts N`: an AWS Organization whose member accounts each keep their own Device Defender
posture, to try a multi-account overview offline.

The lab account (moto's default, 123456789012) creates the organization and stays its management account,
with the lab fleet. Each member is made with CreateAccount, so moto gives it the OrganizationAccountAccessRole
trusting the management account (handlers/sts.py enforces that trust); `broken` members' roles trust only
themselves, so AssumeRole into them is denied. A member has a generated fleet in 1 to 3 of the regions, its
problems and enabled checks after one of POSTURES, and one or two past audits (drift in between); its other
regions have no audit configuration. Account ids, names, regions and fleets all derive from the seed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from moto.iam.models import iam_backends
from moto.iot.models import iot_backends
from moto.organizations import utils as organizations_utils
from moto.organizations.models import organizations_backends

from . import audits, drift
from .checks import CHECKS
from .fleet import DEFAULT_ACCOUNT, audit_role, configure_audit, past_audit
from .fleet_generated import RATES, UNSCALED, generate
from .runtime import runtime
from .state import state_for

ROLE_NAME = "OrganizationAccountAccessRole"
DEFAULT_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
MAX_ACCOUNTS = 100
NAMES = ("prod", "staging", "product", "dev", "qa", "analytics", "edge", "shared-services")
DAY = 86400.0
RUNNING_AUDIT_SECONDS = 1800.0  # the member's audit in progress at start finishes half an hour later

DEVICE_CHECKS = (
    "CONFLICTING_CLIENT_IDS_CHECK",
    "DEVICE_CERTIFICATE_AGE_CHECK",
    "DEVICE_CERTIFICATE_EXPIRING_CHECK",
    "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
    "DEVICE_CERTIFICATE_SHARED_CHECK",
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
)
CA_CHECKS = tuple(name for name in CHECKS if "_CA_" in name)
POLICY_CHECKS = tuple(name for name in CHECKS if "POLICY" in name or "ROLE" in name)
LOGGING = "LOGGING_DISABLED_CHECK"


@dataclass(frozen=True, slots=True)
class Posture:
    name: str
    scale: float  # every device problem's share times this (RATES); 0: no device has a problem
    checks: tuple[str, ...]  # enabled in the audit configuration
    logging: bool  # IoT logging on, so LOGGING_DISABLED_CHECK passes


# A generated fleet always has CA, policy, role alias and Cognito problems: what an account audits decides
# which of them it sees. "clean" audits only what its fleet gets right.
POSTURES = (
    Posture("typical", 1.0, tuple(CHECKS), False),
    Posture("clean", 0.0, (*DEVICE_CHECKS, LOGGING), True),
    Posture("neglected", 6.0, tuple(CHECKS), False),
    Posture("certificates", 2.0, (*DEVICE_CHECKS, *CA_CHECKS, LOGGING), True),
    Posture("policies", 0.0, (*DEVICE_CHECKS, *POLICY_CHECKS, LOGGING), False),
)


@dataclass(frozen=True, slots=True)
class Member:
    position: int  # 1-based, as --broken-role-accounts counts
    account_id: str
    name: str
    posture: Posture
    fleets: dict[str, int]  # region -> devices, in --regions order
    audits: int  # past audits in each fleet region
    running_audit: bool  # an audit in progress in its first fleet region
    broken_role: bool

    @property
    def email(self) -> str:
        return f"{self.name}@example.com"

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{ROLE_NAME}"


def plan(
    accounts: int, seed: int, regions: Sequence[str] = DEFAULT_REGIONS, broken: Sequence[int] = ()
) -> list[Member]:
    """The members `seed_organization` makes (nothing of moto touched)."""
    if not 0 <= accounts <= MAX_ACCOUNTS:
        raise ValueError(f"accounts must be from 0 to {MAX_ACCOUNTS}")
    if not regions:
        raise ValueError("at least one region is needed")
    for k in broken:
        if not 1 <= k <= accounts:
            raise ValueError(f"member {k} does not exist (--accounts {accounts})")
    rng = random.Random(f"organization:{seed}")
    taken = {DEFAULT_ACCOUNT}
    members = []
    for position in range(1, accounts + 1):
        account = DEFAULT_ACCOUNT
        while account in taken:
            account = str(rng.randrange(10**11, 10**12))
        taken.add(account)
        chosen = set(rng.sample(list(regions), rng.randint(1, min(3, len(regions)))))
        posture = POSTURES[(position - 1) % len(POSTURES)]
        members.append(
            Member(
                position=position,
                account_id=account,
                name=f"{NAMES[(position - 1 + seed) % len(NAMES)]}-{position}",
                posture=posture,
                fleets={region: rng.randint(30, 300) for region in regions if region in chosen},
                audits=2 if position % 2 and posture.scale > 0 else 1,
                running_audit=position == 1,
                broken_role=position in broken,
            )
        )
    return members


def seed_organization(members: Sequence[Member], seed: int, management: str = DEFAULT_ACCOUNT) -> None:
    """Create the organization from `management` and seed every member (see the module's docstring)."""
    if not members:
        return
    backend = organizations_backends[management]["aws"]
    if backend.org is None:
        backend.create_organization(region="us-east-1", FeatureSet="ALL")
    now = runtime().clock.now()
    for member in members:
        with _account_id(member.account_id):
            backend.create_account(AccountName=member.name, Email=member.email)
        _access_role(member, management)
        role_arn = audit_role(member.account_id)
        for region, devices in member.fleets.items():
            _seed_fleet(member, region, devices, role_arn, seed, now)


@contextmanager
def _account_id(account_id: str) -> Iterator[None]:
    """moto draws a member's id at random: this one instead, so ids stay the same from run to run."""
    draw = organizations_utils.make_random_account_id
    organizations_utils.make_random_account_id = lambda: account_id
    try:
        yield
    finally:
        organizations_utils.make_random_account_id = draw


def _access_role(member: Member, management: str) -> None:
    iam = iam_backends[member.account_id]["global"]
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_role_policy(ROLE_NAME, "AdministratorAccess", json.dumps(admin))
    if member.broken_role:
        set_trust(member.account_id, management, trusted=False)


def set_trust(account_id: str, management: str, trusted: bool) -> str:
    """Let the management account assume the member's role, or (as after a trust policy edited by mistake)
    let only the member's own account; returns the role's ARN. KeyError: the member has no such role."""
    principal = management if trusted else account_id
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{principal}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = iam_backends[account_id]["global"]
    role = next((r for r in list(iam.roles.values()) if r.name == ROLE_NAME), None)
    if role is None:
        raise KeyError(account_id)
    iam.update_assume_role_policy(ROLE_NAME, json.dumps(trust))
    return role.arn


def management_of(account_id: str) -> str | None:
    """The management account of the organization `account_id` is a member of, or None."""
    # moto's reset keeps its member -> management map: the organization must still list the account.
    owner = organizations_backends.master_accounts.get(account_id)
    if owner is None:
        return None
    backend = organizations_backends[owner[0]][owner[1]]
    if backend.org is None or not any(a.id == account_id for a in list(backend.accounts)):
        return None
    return owner[0]


def _seed_fleet(member: Member, region: str, devices: int, role_arn: str, seed: int, now: float) -> None:
    state = state_for(iot_backends[member.account_id][region])
    rng = random.Random(f"fleet:{seed}:{member.position}:{region}")
    jitter = rng.uniform(0.6, 1.6)
    rates = {
        kind: rate if kind in UNSCALED else rate * member.posture.scale * jitter
        for kind, rate in RATES.items()
    }
    rates["roca"] = 0.0  # a ROCA key takes 0.4 to 2 s to make (weak keys still fail the key checks)
    generate(state, devices, rng.getrandbits(32), now, rates)
    if member.posture.logging:
        with state.lock:
            state.logging_v2 = {"roleArn": role_arn, "defaultLogLevel": "ERROR", "disableAllLogs": False}
    checks = sorted(member.posture.checks)
    configure_audit(state, role_arn, checks)
    if member.audits > 1:
        past_audit(state, checks, now - 8 * DAY)
        drift.drift(state, 3, 0.3, 0.3, now - 4 * DAY)  # so the next audit differs from this one
    past_audit(state, checks, now - DAY)
    if member.running_audit and region == next(iter(member.fleets)):
        with state.lock:
            audits.start_audit(state, checks, now - 60.0, duration=RUNNING_AUDIT_SECONDS)


def summary(members: Sequence[Member], management: str = DEFAULT_ACCOUNT) -> list[str]:
    """The lines `sandbox` prints after its URL line."""
    if not members:
        return []
    lines = [
        f"Organization: management account {management} (lab fleet), {len(members)} member accounts; "
        f"assume arn:aws:iam::<account>:role/{ROLE_NAME} from the management account's credentials"
    ]
    for m in members:
        fleets = ", ".join(f"{region} ({devices} devices)" for region, devices in m.fleets.items())
        broken = "  [role not assumable]" if m.broken_role else ""
        lines.append(f"  {m.account_id}  {m.name:<20} {m.posture.name:<12} {fleets}{broken}")
    return lines
