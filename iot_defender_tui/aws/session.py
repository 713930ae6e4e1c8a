"""Where to connect and as whom: profile, region and endpoint, resolved like the AWS CLI does.

Credentials are botocore's business: `AioSession(profile=...)` walks the standard chain (env keys, shared
files, SSO, process, IMDS). We only resolve what the app shows or needs before the first request: the
profile name (for hints), the region (botocore ignores AWS_REGION) and the endpoint override.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiobotocore.session import AioSession
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from botocore.loaders import JSONFileLoader, Loader

if TYPE_CHECKING:
    from ..config import Settings

from .assume import use_assumed_role
from .contexts import Context, active_context
from .errors import THROTTLING_CODES, UnknownRegionError, map_error, refused
from .ratelimit import Backoff, report_retry

SERVICES = frozenset({"iot", "sts", "iam", "sns", "organizations"})
REGION_SHAPE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    read_only: bool = False
    # Which clients `endpoint_url` applies to: an explicit --endpoint-url (or AWS_ENDPOINT_URL) means a
    # whole fake AWS such as the sandbox; AWS_ENDPOINT_URL_IOT moves IoT alone.
    endpoint_services: frozenset[str] = field(default=SERVICES)
    context: str | None = None  # the named context's name (aws/contexts.py), shown in the header
    # Assumed with the profile's credentials (aws/assume.py); every request of the session uses the role.
    role_arn: str | None = None

    @classmethod
    def resolve(
        cls,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        read_only: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> ConnectionSettings:
        """Explicit values first, then the environment variables the AWS CLI reads."""
        env = os.environ if environ is None else environ
        profile = profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or None
        region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
        services = SERVICES
        if not endpoint_url and env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() not in _TRUE:
            if env.get("AWS_ENDPOINT_URL_IOT"):
                endpoint_url, services = env["AWS_ENDPOINT_URL_IOT"], frozenset({"iot"})
            elif env.get("AWS_ENDPOINT_URL"):
                endpoint_url = env["AWS_ENDPOINT_URL"]
        return cls(profile, region, endpoint_url or None, read_only, services)

    def for_context(self, context: Context) -> ConnectionSettings:
        """This connection in `context`: its profile, region and role, read-only if either is; the
        endpoint (a sandbox's, a VPC endpoint) stays."""
        return dataclasses.replace(
            self,
            profile=context.profile or self.profile,
            region=context.region or self.region,
            role_arn=context.role_arn,
            read_only=self.read_only or context.read_only,
            context=context.name,
        )

    def endpoint_for(self, service: str) -> str | None:
        # None lets botocore's own chain decide (AWS_ENDPOINT_URL_<SERVICE>, endpoint_url in the profile).
        return self.endpoint_url if service in self.endpoint_services else None


@dataclass(frozen=True, slots=True)
class Tuning:
    """Retry, timeout and pacing knobs; tests shrink them to keep failure paths fast."""

    # Not "adaptive": aiobotocore's adaptive token bucket deadlocks once a request waiting for a send token
    # is cancelled (a pane hidden while AWS throttles), and every later request hangs without an error
    # (tests/aws/test_retry_stall.py). Pacing and throttling back-off are the app's own (ratelimit.py).
    retry_mode: str = "standard"
    max_attempts: int = 8  # botocore retries after the first attempt (its "max_attempts")
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    backoff: Backoff = field(default_factory=Backoff)
    rate_scale: float | None = 1.0  # None or 0: no client-side pacing (a sandbox has no quotas)

    def botocore_config(self, *, retries: bool = True) -> Config:
        """`retries=False` for the clients that send writes: botocore would resend any of them after a
        500 or a timeout, which AWS may have acted on (aws/mutations.py decides what is safe instead)."""
        return Config(
            retries={"mode": self.retry_mode, "max_attempts": self.max_attempts}
            if retries
            else {"mode": self.retry_mode, "total_max_attempts": 1},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_pool_connections=20,
        )


def _on_needs_retry(caught_exception: BaseException | None = None, response: Any = None, **_: object) -> None:
    # A refused connection is answered at once and will not be accepted 100 ms later: botocore's retries of
    # it (up to 8, with back-off) kept "Connecting…" on screen for 20-40 s. Raising here ends the request
    # with that error; the app's own reconnect loop retries on its slower clock, and says so.
    if refused(caught_exception):
        assert caught_exception is not None
        raise caught_exception
    if response is not None and _throttled(response[1]):
        report_retry()  # botocore is about to retry it: whoever waits for the data may say so


def _throttled(parsed: Any) -> bool:
    if not isinstance(parsed, dict):
        return False
    status = parsed.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return parsed.get("Error", {}).get("Code") in THROTTLING_CODES or status == 429


def fail_fast_on_refused(client: Any) -> None:
    """Make `client` report a refused connection at once rather than retry it, and report throttling."""
    client.meta.events.register_first("needs-retry", _on_needs_retry, unique_id="refused-is-final")


def create_session(settings: ConnectionSettings) -> AioSession:
    """The profile's session; with `role_arn`, one that signs with the role assumed by the profile."""
    try:
        session = _profile_session(settings.profile)
        if settings.role_arn:
            source = _profile_session(settings.profile)
            # Its STS client (AssumeRole) is botocore's, made at the first request: fail fast as ours do.
            source.get_component("event_emitter").register_first(
                "needs-retry", _on_needs_retry, unique_id="refused-is-final"
            )
            use_assumed_role(
                session,
                source,
                settings.role_arn,
                profile=settings.profile,
                region=settings.region,
                endpoint=settings.endpoint_for("sts"),
                config=Tuning().botocore_config(),
            )
    except BotoCoreError as exc:
        raise map_error(exc, None, settings.profile) from exc
    return session


def _profile_session(profile: str | None) -> AioSession:
    session = AioSession(profile=profile)
    paths = session.get_config_variable("data_path")  # AWS_DATA_PATH, read as botocore's create_loader
    extra = [os.path.expanduser(os.path.expandvars(p)) for p in paths.split(os.pathsep)] if paths else None
    session.register_component(
        "data_loader", _ModelLoader(extra_search_paths=extra, file_loader=_FastModelFiles())
    )
    return session


class _ModelLoader(Loader):
    """botocore's Loader, but a service's model is found without listing every service first.

    To load one model botocore checks the name against the list of all ~420 services, made by listing
    each one's directory: ~40 ms per kind of file (model, paginators, endpoint rules) before the first
    request of every command. Here the name is checked in its own directory; the full list is still made
    for whoever iterates it (an unknown service's error names them all).
    """

    def list_available_services(self, type_name: str) -> Any:
        return _ServiceNames(self, type_name)


class _ServiceNames:
    def __init__(self, loader: _ModelLoader, type_name: str):
        self._loader, self._type_name = loader, type_name

    def __contains__(self, service_name: object) -> bool:
        if not isinstance(service_name, str) or not service_name or os.sep in service_name:
            return False
        for directory in self._loader._potential_locations(service_name, must_exist=True, is_dir=True):
            for version in os.listdir(directory):
                if self._loader.file_loader.exists(os.path.join(directory, version, self._type_name)):
                    return True
        return False

    def _all(self) -> list[str]:
        return Loader.list_available_services(self._loader, self._type_name)

    def __iter__(self) -> Any:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class _FastModelFiles(JSONFileLoader):
    """botocore's model files (the same files, found the same way) read with orjson instead of json with
    an OrderedDict hook: endpoints.json alone is 1.2 MB, and reading it and IoT's model was ~60 ms of
    the ~120 ms before a client's first request, paid by every start of the app and every command."""

    def load_file(self, file_path: str) -> Any:
        for ext, opener in ((".json", open), (".json.gz", gzip.open)):
            if os.path.isfile(file_path + ext):
                with opener(file_path + ext, "rb") as fp:
                    return orjson.loads(fp.read())
        return None


async def effective_region(settings: ConnectionSettings, session: AioSession) -> str:
    """The region to use, or UnknownRegionError when none is set or AWS has no IoT there."""
    try:
        region = settings.region or session.get_config_variable("region")
    except BotoCoreError as exc:  # e.g. the profile does not exist
        raise map_error(exc, None, settings.profile) from exc
    hint = "Pass --region or set AWS_REGION (e.g. us-east-1)."
    if not region:
        raise UnknownRegionError("NoRegion", "No AWS region is configured.", None, hint)
    if not REGION_SHAPE.match(region):
        raise UnknownRegionError("UnknownRegion", f"'{region}' is not an AWS region name.", None, hint)
    if settings.endpoint_for("iot"):
        return region  # a custom endpoint (the sandbox, a VPC endpoint) serves whatever it serves
    known: set[str] = set()
    for partition in session.get_available_partitions():
        known.update(await session.get_available_regions("iot", partition))
    if region not in known:
        raise UnknownRegionError(
            "UnknownRegion",
            f"AWS IoT is not available in region '{region}' (or the region does not exist).",
            None,
            hint,
        )
    return region


# The commands' and the TUI's connection from their flags: here, not in ui/launch.py, so that a command
# (`findings`, `audit run`…) does not import Textual and the whole app before its first request (~0.3 s).
def connection_for(args: argparse.Namespace, settings: Settings) -> ConnectionSettings:
    """Flags first, then the environment (as the AWS CLI reads it), then the config file.

    A named context (`--context`, or `--region a,b`) gives the profile and region, and may make the
    connection read-only; ContextError when the flags name no known context.
    """
    profile, region = getattr(args, "profile", None), getattr(args, "region", None)
    context = active_context(settings, name=getattr(args, "context", None), profile=profile, region=region)
    resolved = ConnectionSettings.resolve(
        profile=profile,
        region=region if region and "," not in region else None,  # a region list is the contexts themselves
        endpoint_url=getattr(args, "endpoint_url", None),
        read_only=bool(getattr(args, "read_only", False)) or settings.read_only,
    )
    base = dataclasses.replace(
        resolved,
        profile=resolved.profile or settings.profile,
        region=resolved.region or settings.region,
        endpoint_url=resolved.endpoint_url or settings.endpoint_url,
    )
    # A table without a region keeps a single --region (for_context keeps the base's).
    return base.for_context(context) if context is not None else base


def tuning_for(args: argparse.Namespace, settings: Settings) -> Tuning:
    """No client-side pacing with --no-rate-limit, `rate_limit = false`, or --sandbox (no quotas)."""
    paced = settings.rate_limit and not getattr(args, "no_rate_limit", False)
    return Tuning(rate_scale=None if getattr(args, "sandbox", False) or not paced else 1.0)
