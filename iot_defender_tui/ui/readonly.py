"""Read-only mode, the same in every pane: mutating keys are hidden, and refused with a visible message.

`check_action` returning False hides a key from the footer, the help and the palette, but then Textual
also drops the key press without a word; `refuse_key` (from a pane's `on_key`) turns that press into the
same message a direct call of the action gets from `refused`.
"""

from __future__ import annotations

from collections.abc import Collection

from textual import events
from textual.dom import DOMNode

from .contract import defender

MESSAGE = "Read-only: {what} refused; nothing was changed ({why})."


def is_read_only(node: DOMNode) -> bool:
    return defender(node.app).read_only


def allowed(node: DOMNode, action: str, mutating: Collection[str]) -> bool:
    """For check_action: False hides a mutating action in read-only mode."""
    return not (action in mutating and is_read_only(node))


def refused(node: DOMNode, what: str = "changes are") -> bool:
    """True, with the message shown, when the app is read-only: the action must stop here."""
    if not is_read_only(node):
        return False
    app = defender(node.app)
    app.show_error(MESSAGE.format(what=what, why=app.read_only_reason))
    return True


def refuse_key(node: DOMNode, event: events.Key, mutating: Collection[str]) -> None:
    """A key press that reached `node` unhandled because read-only hid its mutating binding."""
    if not is_read_only(node):
        return
    # The node's bindings after the user's keymap: Textual has no public view of them.
    for binding in node._bindings.key_to_bindings.get(event.key, ()):
        if binding.action in mutating:
            event.stop()
            event.prevent_default()
            refused(node, f"{binding.description or binding.action} is")
            return
