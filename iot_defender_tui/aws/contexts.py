"""Contexts: the account-regions the app can work in, by name (k9s's contexts).

A context comes from a `[[contexts]]` table in config.toml or from `--region a,b` (one per region, with
the current profile), or from the AWS Organization of an `[organization]` table (aws/organization.py, which
asks AWS); `--context NAME` picks the active one. With none of these there is no named context
and the app connects as it always has (profile and region from flags, environment and config).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..config import Settings, region_problem


@dataclass(frozen=True, slots=True)
class Context:
    name: str
    profile: str | None
    region: str | None
    role_arn: str | None = None  # assumed with `profile`'s credentials (aws/assume.py)
    # k9s's per-context readOnly: this context refuses changes even without --read-only
    read_only: bool = False
    # For display: an organization's contexts know them; a table may give account_id; otherwise None.
    account_id: str | None = None
    account_name: str | None = None  # AWS data (safe_text'd when it was read)


class ContextError(ValueError):
    """A usage error: an unknown --context, a bad --region list, a generated name that clashes."""


def split_regions(text: str) -> list[str]:
    """`us-east-1,eu-west-1` as a list; ValueError naming the first part that is not a region."""
    regions = [part.strip() for part in text.split(",")]
    for region in regions:
        if problem := region_problem(region):
            raise ValueError(problem)
    return list(dict.fromkeys(regions))  # a region given twice is one context


def build_contexts(
    settings: Settings, *, profile: str | None = None, regions: Sequence[str] = ()
) -> list[Context]:
    """The config's contexts in file order, then one per region of `regions` (with more than one)."""
    contexts = [
        Context(
            name=table["name"],
            profile=table.get("profile"),
            region=table.get("region"),
            role_arn=table.get("role_arn"),
            read_only=bool(table.get("read_only", False)),
            account_id=table.get("account_id"),
        )
        for table in settings.contexts
    ]
    if len(regions) > 1:
        profile = profile or settings.profile
        for region in regions:
            name = f"{profile or 'default'}/{region}"
            if any(c.name == name for c in contexts):
                raise ContextError(f"--region: the context {name!r} is also in the config file")
            contexts.append(Context(name=name, profile=profile, region=region))
    return contexts


def select(contexts: Sequence[Context], name: str | None) -> Context | None:
    """The context called `name`; None without a name (today's implicit context)."""
    if name is None:
        return None
    for context in contexts:
        if context.name == name:
            return context
    known = ", ".join(c.name for c in contexts) or "none (add [[contexts]] to config.toml, or --region a,b)"
    raise ContextError(f"--context: no context named {name!r}; known contexts: {known}")


def active_context(
    settings: Settings, *, name: str | None, profile: str | None, region: str | None
) -> Context | None:
    """The context the flags ask for: `--context NAME`, else the first of a `--region a,b` list, else None.

    `region` is the --region flag as given (one region or a comma list).
    """
    regions = split_regions(region) if region else []
    contexts = build_contexts(settings, profile=profile, regions=regions)
    if name is None and len(regions) > 1:
        return contexts[len(settings.contexts)]
    return select(contexts, name)
