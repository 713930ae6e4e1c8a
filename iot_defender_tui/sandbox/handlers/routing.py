"""Putting the sandbox's response classes in place of moto's, in a service's URL table."""

from __future__ import annotations

from typing import Any


def reroute(url_paths: dict[str, Any], moto_class: type, replacement: type, service: str) -> None:
    """Send every URL `moto_class` answers to `replacement` (before the server's first request of it)."""
    patched = 0
    for url, handler in list(url_paths.items()):
        owner = getattr(handler, "__self__", None)
        if isinstance(owner, type) and issubclass(owner, moto_class):
            url_paths[url] = replacement.dispatch
            patched += 1
    if not patched:
        raise RuntimeError(f"moto's {service} routing changed: no {moto_class.__name__} handler to replace")
