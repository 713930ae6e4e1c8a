"""Create/Describe/Update/Delete/ListMitigationAction(s)."""

from __future__ import annotations

from .base import DefenderResponse


class MitigationActionsMixin(DefenderResponse):
    pass
