"""Every binding id a `[keymap]` in the config file can name."""

from __future__ import annotations

import importlib
import pkgutil
import sys

from textual.binding import Binding


def binding_ids() -> frozenset[str]:
    """The ids of the bindings of every class of the UI: the app's, its panes', screens' and modals'.

    Every module is imported: a modal imported only when it opens still has keys a keymap may move.
    """
    package = sys.modules[__package__ or "iot_defender_tui.ui"]
    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        importlib.import_module(module.name)
    ids: set[str] = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith(f"{package.__name__}.") or module is None:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == name:
                ids.update(b.id for b in getattr(value, "BINDINGS", ()) if isinstance(b, Binding) and b.id)
    return frozenset(ids)
