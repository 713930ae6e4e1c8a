"""Get/SetLoggingOptions (v1), Get/SetV2LoggingOptions, Set/Delete/ListV2LoggingLevel(s)."""

from __future__ import annotations

from .base import DefenderResponse


class LoggingOptionsMixin(DefenderResponse):
    pass
