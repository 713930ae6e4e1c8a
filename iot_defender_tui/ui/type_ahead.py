"""Keys typed while a form opens belong to the form's first field.

A form is pushed in the key's handler, but the keys typed right after (`n` then a name, arriving
together over SSH) were already sent to the widget focused before it, in the pane behind, and reach the
app only after the form is up; and the form's first field takes focus only once the form is mounted, so
keys sent to the form before that reach its screen with nothing focused. Nothing would type them. The
app hands the first kind over to the form (`hand_over`), and a form (mixing in `TypeAhead`) keeps both
until a field has focus and types them there, in order; no binding of the pane sees them on the way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import App
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

from .screen import DefenderScreen

# A mixin, not a screen of its own (every screen of the app is a DefenderScreen): typed as one.
_Base = Screen if TYPE_CHECKING else object


class TypeAhead(_Base):
    """Mix in before the form's base class: `class ActionForm(TypeAhead, EditForm)`."""

    _early: list[events.Key] | None = None
    _replayed: set[int] | None = None  # ids of the keys typed into a field here: never twice

    @property
    def handed(self) -> set[int]:
        """Ids of the keys the app handed over to this form."""
        if not hasattr(self, "_handed"):
            self._handed: set[int] = set()
        return self._handed

    def on_key(self, event: events.Key) -> None:
        if not event.is_printable or id(event) in (self._replayed or ()):
            return
        focused = self.focused
        if focused is None:
            self._early = [*(self._early or []), event]
        elif isinstance(focused, Input):
            # Sent to the screen while nothing had focus, handled after the field took it.
            self._type_into(focused, [event])
        else:
            return
        event.stop()
        event.prevent_default()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        early, self._early = self._early, None
        if early and isinstance(event.widget, Input):
            self._type_into(event.widget, early)

    def _type_into(self, field: Widget, keys: list[events.Key]) -> None:
        self._replayed = set()
        for key in keys:
            again = events.Key(key.key, key.character)
            self._replayed.add(id(again))
            field.post_message(again)


def hand_over(app: App[object], event: events.Key) -> None:
    """A key that reached the app from the screen a newer one now covers goes on to the newer one.

    The app's own `on_key` calls this, before its bindings see the key. A printable key goes to a form
    (mixing in TypeAhead) to be typed into its field; a key a form itself let through (a letter typed in a
    Select) comes back here once at most: it is not handed over twice. Any other key read before the top
    screen opened (enter right after `o` opened the check picker) is read again by the app, now for that
    screen: its priority bindings (the picker's enter) were checked against the screen below."""
    top = app.screen
    if isinstance(top, TypeAhead) and id(event) in top.handed:
        return
    if event.is_printable and isinstance(top, TypeAhead):
        event.stop()
        event.prevent_default()
        again = events.Key(event.key, event.character)
        top.handed.add(id(again))
        top.post_message(again)
    elif isinstance(top, DefenderScreen) and event.time < top.opened_at:
        event.stop()
        event.prevent_default()
        app.post_message(events.Key(event.key, event.character))  # stamped now: read once more at most


class HeldKeys:
    """Keys typed while a pane is being shown belong to that pane.

    `2` then `n` in one burst: the tab switch leaves nothing focused until the pane (composed on first
    show) takes the focus, so `n` reached the screen, where no pane binding sees it, and was lost. The
    app holds what reaches it meanwhile and replays it, in order, once the pane has the focus; a pane
    that never takes it gets them after a second."""

    WAIT = 1.0

    def __init__(self, app: App[object]) -> None:
        self.app = app
        self.keys: list[events.Key] | None = None
        self._timer: Timer | None = None

    def start(self) -> None:
        if self.keys is None:
            self.keys = []
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.app.set_timer(self.WAIT, self.release)

    def hold(self, event: events.Key) -> bool:
        app = self.app
        if self.keys is None or app.screen is not app.screen_stack[0] or app.screen.focused is not None:
            return False
        self.keys.append(events.Key(event.key, event.character))
        event.stop()
        event.prevent_default()
        return True

    def release(self) -> None:
        keys, self.keys = self.keys or [], None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        for key in keys:
            self.app.post_message(key)  # through the app again: to the focused table, then bindings
