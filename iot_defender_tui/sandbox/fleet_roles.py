"""The IAM roles of the seeded fleets, made in-process: `create_role` (the lab's audit role uses it too),
and the generated fleet's role aliases and Cognito identity pools, one compliant, the rest not, each for a
different documented reason."""

from __future__ import annotations

import json
from typing import Any

from moto.iam.models import iam_backends

from .state import DefenderState

DAY = 86400.0


def trust_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def create_role(account_id: str, name: str, service: str, statements: list[dict[str, object]]) -> str:
    """An IAM role with one inline policy, created in-process; returns its ARN.

    IAM is global: a second fleet of the account (another region) gets `name-2`, and so on."""
    iam = iam_backends[account_id]["global"]
    name = _free_name(iam, name)
    role = iam.create_role(name, trust_policy(service), "/", None, "", [], None)
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    iam.put_role_policy(name, f"{name}Policy", document)
    return role.arn


def _free_name(iam: Any, name: str) -> str:
    taken = {role.name for role in list(iam.roles.values())}
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def seed_role_aliases(state: DefenderState, iot: Any, now: float) -> None:
    account, region = state.account_id, state.region
    base = f"arn:aws:iot:{region}:{account}"
    thing = "${credentials-iot:ThingName}"
    aliases = {
        # Compliant: uploads to its own prefix, and has done so this month.
        "fleet-telemetry-uploader": (
            [
                {
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::fleet-telemetry/{thing}/*",
                }
            ],
            {"s3": now - 3 * DAY},
        ),
        # Administrative access to a service it uses.
        "fleet-ota-updater": (
            [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            {"s3": now - 10 * DAY},
        ),
        # Reaches into IAM, and DynamoDB it has not used for over a year.
        "fleet-diagnostics": (
            [
                {"Effect": "Allow", "Action": "iot:GetThingShadow", "Resource": f"{base}:thing/{thing}"},
                {"Effect": "Allow", "Action": ["iam:GetRole", "dynamodb:PutItem"], "Resource": "*"},
            ],
            {"iot": now - DAY, "dynamodb": now - 500 * DAY},
        ),
        # Broad IoT data plane access.
        "fleet-gateway": (
            [{"Effect": "Allow", "Action": ["iot:Publish", "iot:Subscribe"], "Resource": "*"}],
            {"iot": now - DAY},
        ),
    }
    for index, (alias, (statements, used)) in enumerate(aliases.items()):
        role_arn = create_role(account, f"FleetRoleAlias{index}", "credentials.iot.amazonaws.com", statements)
        iot.create_role_alias(alias, role_arn, 3600)
        with state.lock:
            state.service_last_accessed[role_arn] = dict(used)


def seed_cognito_pools(state: DefenderState, cognito: Any) -> None:
    account, region = state.account_id, state.region
    base = f"arn:aws:iot:{region}:{account}"
    sub = "${cognito-identity.amazonaws.com:sub}"
    scoped = [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{base}:client/{sub}"},
        {"Effect": "Allow", "Action": "iot:Publish", "Resource": f"{base}:topic/app/{sub}/*"},
    ]
    pools: dict[str, dict[str, list[dict[str, Any]]]] = {
        "FleetMobileApp": {"authenticated": scoped, "unauthenticated": scoped[:1]},
        # Authenticated users may create and delete things; guests may do anything in IoT.
        "FleetDashboard": {
            "authenticated": [
                {"Effect": "Allow", "Action": ["iot:CreateThing", "iot:DeleteThing"], "Resource": "*"}
            ],
            "unauthenticated": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}],
        },
        # Reads every thing's metadata; guests listen to every thing's reserved topics.
        "FleetKiosk": {
            "authenticated": [
                {"Effect": "Allow", "Action": "iot:DescribeThing", "Resource": f"{base}:thing/*"}
            ],
            "unauthenticated": [
                {
                    "Effect": "Allow",
                    "Action": "iot:Subscribe",
                    "Resource": f"{base}:topicfilter/$aws/things/#",
                }
            ],
        },
    }
    for pool_name, kinds in pools.items():
        pool = cognito.create_identity_pool(pool_name, True, {}, "", [], [], [], {})
        pool_id = json.loads(pool)["IdentityPoolId"]
        roles = {
            kind: create_role(
                account, f"Cognito_{pool_name}_{kind.capitalize()}", "cognito-identity.amazonaws.com", doc
            )
            for kind, doc in kinds.items()
        }
        with state.lock:
            state.identity_pool_roles[pool_id] = roles
            # The apps behind these pools connect to AWS IoT every day, so every audit looks at them.
            state.identity_pool_iot_use[pool_id] = None
