"""Create/Describe/Update/Delete/ListAuditSuppression(s).

A suppression silences one check for one resource until it expires (or indefinitely): findings about
that resource report `isSuppressed` and audits no longer count them as non-compliant.
"""

from __future__ import annotations

from typing import Any

from ..audits import resource_key
from ..checks import CHECKS
from ..errors import InvalidRequest, ResourceAlreadyExists, ResourceNotFound
from ..state import Suppression, now
from ..wire import as_epoch, epoch
from .base import DefenderResponse, page

MAX_DESCRIPTION = 1000


def require_check_name(value: Any) -> str:
    if value not in CHECKS:
        raise InvalidRequest(f"Unknown audit check: {value}")
    return value


def require_identifier(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not any(v not in (None, "", {}) for v in value.values()):
        raise InvalidRequest("resourceIdentifier must name the resource (e.g. deviceCertificateId).")
    return value


def require_description(value: Any) -> str | None:
    if value is not None and len(value) > MAX_DESCRIPTION:
        raise InvalidRequest(f"description is at most {MAX_DESCRIPTION} characters.")
    return value


def future_expiration(value: Any) -> float | None:
    expiration = as_epoch(value, "expirationDate")
    if expiration is not None and expiration <= now():
        raise InvalidRequest("expirationDate must be in the future.")
    return expiration


def suppression_to_dict(s: Suppression) -> dict[str, Any]:
    return {
        "checkName": s.check_name,
        "resourceIdentifier": s.resource_identifier,
        "expirationDate": epoch(s.expiration_date),
        "suppressIndefinitely": s.suppress_indefinitely,
        "description": s.description,
    }


class SuppressionsMixin(DefenderResponse):
    def _key(self) -> tuple[str, str]:
        check = require_check_name(self.args.get("checkName"))
        return check, resource_key(require_identifier(self.args.get("resourceIdentifier")))

    def _suppression(self, key: tuple[str, str]) -> Suppression:
        suppression = self.state.suppressions.get(key)
        if suppression is None:
            raise ResourceNotFound(f"There is no suppression of {key[0]} for resource {key[1]}.")
        return suppression

    def create_audit_suppression(self) -> str:
        args = self.args
        key = self._key()
        expiration = future_expiration(args.get("expirationDate"))
        indefinitely = bool(args.get("suppressIndefinitely"))
        if indefinitely and expiration is not None:
            raise InvalidRequest("Set either expirationDate or suppressIndefinitely, not both.")
        if not indefinitely and expiration is None:
            raise InvalidRequest("Set expirationDate, or suppressIndefinitely to true.")
        description = require_description(args.get("description"))
        token = args.get("clientRequestToken")
        state = self.state
        with state.lock:
            if key in state.suppressions:
                raise ResourceAlreadyExists(
                    f"A suppression of {key[0]} for resource {key[1]} already exists."
                )
            if token and any(s.client_request_token == token for s in state.suppressions.values()):
                raise ResourceAlreadyExists(f"A suppression with clientRequestToken {token} already exists.")
            state.suppressions[key] = Suppression(
                check_name=key[0],
                resource_identifier=args["resourceIdentifier"],
                expiration_date=expiration,
                suppress_indefinitely=indefinitely,
                description=description,
                client_request_token=token,
            )
        return self.reply({})

    def describe_audit_suppression(self) -> str:
        key = self._key()
        with self.state.lock:
            return self.reply(suppression_to_dict(self._suppression(key)))

    def update_audit_suppression(self) -> str:
        args = self.args
        key = self._key()
        expiration = future_expiration(args.get("expirationDate"))
        indefinitely = args.get("suppressIndefinitely")
        if indefinitely and expiration is not None:
            raise InvalidRequest("Set either expirationDate or suppressIndefinitely, not both.")
        description = require_description(args.get("description"))
        with self.state.lock:
            suppression = self._suppression(key)
            if indefinitely is False and expiration is None and suppression.expiration_date is None:
                raise InvalidRequest("A suppression that is not indefinite needs an expirationDate.")
            # The two ways of ending a suppression exclude each other: setting one clears the other.
            if expiration is not None:
                suppression.expiration_date = expiration
                suppression.suppress_indefinitely = False
            elif indefinitely:
                suppression.suppress_indefinitely = True
                suppression.expiration_date = None
            elif indefinitely is False:
                suppression.suppress_indefinitely = False
            if description is not None:
                suppression.description = description
        return self.reply({})

    def delete_audit_suppression(self) -> str:
        key = self._key()
        with self.state.lock:
            self._suppression(key)
            del self.state.suppressions[key]
        return self.reply({})

    def list_audit_suppressions(self) -> str:
        args = self.args
        check = args.get("checkName")
        if check is not None:
            require_check_name(check)
        identifier = args.get("resourceIdentifier") or None
        wanted = resource_key(identifier) if identifier else None
        ascending = args.get("ascendingOrder", True)
        with self.state.lock:
            rows = [
                (s.expiration_date, s.check_name, k, s)
                for (c, k), s in self.state.suppressions.items()
                if (check is None or c == check) and (wanted is None or k == wanted)
            ]
        # Ordered by expiration date; indefinite suppressions never expire, so they come last ascending.
        rows.sort(key=lambda r: (r[0] is None, r[0] or 0.0, r[1], r[2]), reverse=not ascending)
        items, token = page(rows, args.get("nextToken"), args.get("maxResults"), 25)
        return self.reply({"suppressions": [suppression_to_dict(r[3]) for r in items], "nextToken": token})
