"""The form that creates or edits a mitigation action, with per-type parameters.

It validates before sending and shows problems inline; a server error is shown in the form too, and
nothing typed is lost, so the user fixes one field and saves again. Dismisses with the action's name
once AWS accepted the change, or None.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ...aws.errors import AwsError
from ...aws.models import MitigationAction
from ...aws.models_params import (
    PARAMS_BY_TYPE,
    ActionParams,
    AddThingsToThingGroupParams,
    EnableIotLoggingParams,
    PublishFindingToSnsParams,
)
from ..contract import defender
from ..create_role import READ_ONLY, open_create_role
from ..form import EditForm
from ..modals import ConfirmModal
from ..pickers import role_picker, thing_group_picker, topic_picker
from ..type_ahead import TypeAhead

# AWS's model and IAM's/SNS's naming rules, matched whole and ASCII only: `\d`, `\w` and `\S` would let
# other scripts' digits, zero-width and bidi characters through to a request AWS refuses (or worse, accepts).
NAME = re.compile(r"[a-zA-Z0-9_-]{1,128}")  # MitigationActionName
GROUP = re.compile(r"[a-zA-Z0-9:_-]{1,128}")  # ThingGroupName
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/(?:[A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}")
ROLE_ARN_LENGTH = (20, 2048)  # RoleArn
TOPIC_ARN = re.compile(
    r"arn:aws[a-z-]*:sns:[a-z]{2}(?:-[a-z]+)+-[0-9]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?"
)
TOPIC_ARN_MAX = 350  # SnsTopicArn
TYPES = list(PARAMS_BY_TYPE)
LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"]
FIXED = {
    "UPDATE_DEVICE_CERTIFICATE": "Action: DEACTIVATE (the only one AWS offers)",
    "UPDATE_CA_CERTIFICATE": "Action: DEACTIVATE (the only one AWS offers)",
    "REPLACE_DEFAULT_POLICY_VERSION": "Template: BLANK_POLICY (the only one AWS offers)",
}


def _role_arn(text: str) -> bool:
    low, high = ROLE_ARN_LENGTH
    return low <= len(text) <= high and ROLE_ARN.fullmatch(text) is not None


class ActionForm(TypeAhead, EditForm):
    DEFAULT_CSS = """
    ActionForm { align: center middle; }
    ActionForm > Vertical { width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1; }
    ActionForm VerticalScroll { height: auto; max-height: 100%; }
    /* Docked: however small the window, the fields scroll and the error and buttons stay in view. */
    ActionForm #form-title { dock: top; }
    ActionForm #form-buttons { dock: bottom; }
    ActionForm #form-error { dock: bottom; margin-bottom: 3; }
    ActionForm Label { margin-top: 1; width: 100%; }
    ActionForm Horizontal { height: auto; }
    ActionForm VerticalScroll > Vertical { height: auto; }
    ActionForm Horizontal Input { width: 1fr; }
    ActionForm Horizontal Button { min-width: 10; margin-left: 1; }
    ActionForm .hint { color: $text-muted; }
    ActionForm #form-error { color: $error; height: auto; }
    ActionForm #form-buttons { align-horizontal: right; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form-save"),
        Binding("f2", "pick", "Pick", id="form-pick"),
        Binding("f3", "create_role", "Create role", id="form-create-role"),
        Binding("escape", "close", "Cancel", id="form-cancel"),
    ]

    def __init__(self, action: MitigationAction | None = None) -> None:
        super().__init__()
        self._action = action

    def compose(self) -> ComposeResult:
        a = self._action
        p = a.params if a is not None else None
        with Vertical():
            title = "Edit mitigation action" if a else "New mitigation action"
            yield Static(Text(title, style="bold"), id="form-title")
            with VerticalScroll():
                yield Label("Name (1-128 of a-z A-Z 0-9 _ -)")
                yield Input(a.name if a else "", id="name", disabled=a is not None, compact=True)
                yield Label("Type")
                yield Select(
                    [(t, t) for t in TYPES],
                    value=(a.action_type if a and a.action_type in TYPES else TYPES[0]),
                    allow_blank=False,
                    compact=True,
                    disabled=a is not None,
                    id="type",
                )
                yield Label("Role AWS IoT assumes to act (F2 to pick, F3 to create one)")
                with Horizontal():
                    yield Input(
                        a.role_arn or "" if a else "",
                        placeholder="arn:aws:iam::…:role/…",
                        id="role",
                        compact=True,
                    )
                    yield Button("Roles…", id="pick-role", compact=True)
                    yield Button("Create role…", id="create-role", compact=True)
                yield Static(id="fixed", classes="hint", markup=False)
                with Vertical(id="p-groups"):
                    yield Label("Thing groups (comma-separated, 1-10)")
                    with Horizontal():
                        names = p.thing_group_names if isinstance(p, AddThingsToThingGroupParams) else ()
                        yield Input(", ".join(names), id="groups", compact=True)
                        yield Button("Groups…", id="pick-groups", compact=True)
                    override = isinstance(p, AddThingsToThingGroupParams) and p.override_dynamic_groups
                    yield Checkbox("Override dynamic groups", override, id="override")
                with Vertical(id="p-logging"):
                    yield Label("Role for logging")
                    with Horizontal():
                        log_role = p.role_arn_for_logging if isinstance(p, EnableIotLoggingParams) else ""
                        yield Input(
                            log_role, placeholder="arn:aws:iam::…:role/…", id="log-role", compact=True
                        )
                        yield Button("Roles…", id="pick-log-role", compact=True)
                    yield Label("Log level")
                    level = p.log_level if isinstance(p, EnableIotLoggingParams) else "ERROR"
                    yield Select(
                        [(v, v) for v in LOG_LEVELS],
                        value=level if level in LOG_LEVELS else "ERROR",
                        allow_blank=False,
                        compact=True,
                        id="level",
                    )
                with Vertical(id="p-sns"):
                    yield Label("SNS topic")
                    with Horizontal():
                        topic = p.topic_arn if isinstance(p, PublishFindingToSnsParams) else ""
                        yield Input(topic, placeholder="arn:aws:sns:…", id="topic", compact=True)
                        yield Button("Topics…", id="pick-topic", compact=True)
            yield Static(id="form-error", markup=False)
            with Horizontal(id="form-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self._show_type()
        self.query_one("#create-role").display = not self.read_only
        self.remember_initial()
        target = "#role" if self._action else "#name"
        self.query_one(target, Input).focus()

    # -- type-dependent fields ------------------------------------------------------------------------
    @property
    def action_type(self) -> str:
        return str(self.query_one("#type", Select).value)

    @on(Select.Changed, "#type")
    def _show_type(self) -> None:
        t = self.action_type
        self.query_one("#p-groups").display = t == "ADD_THINGS_TO_THING_GROUP"
        self.query_one("#p-logging").display = t == "ENABLE_IOT_LOGGING"
        self.query_one("#p-sns").display = t == "PUBLISH_FINDING_TO_SNS"
        fixed = self.query_one("#fixed", Static)
        fixed.display = t in FIXED
        fixed.update(FIXED.get(t, ""))

    # -- pickers ----------------------------------------------------------------------------------------
    def action_pick(self) -> None:
        """F2 opens the picker belonging to the focused field (the role's by default)."""
        focused = self.focused.id if self.focused else None
        self._open_picker(
            {"log-role": "pick-log-role", "groups": "pick-groups", "topic": "pick-topic"}.get(
                focused or "", "pick-role"
            )
        )

    @on(Button.Pressed, "#pick-role, #pick-log-role, #pick-groups, #pick-topic")
    def _pick_pressed(self, event: Button.Pressed) -> None:
        self._open_picker(event.button.id or "")

    def _open_picker(self, button: str) -> None:
        dd = defender(self.app).dd
        field = self.query_one(f"#{button.removeprefix('pick-')}", Input)
        if button == "pick-groups":

            def add_group(name: str | None) -> None:
                if name:
                    names = [g.strip() for g in field.value.split(",") if g.strip()]
                    field.value = ", ".join([*names, name] if name not in names else names)
                field.focus()

            self.app.push_screen(thing_group_picker(dd), add_group)
            return
        picker = topic_picker(dd) if button == "pick-topic" else role_picker(dd)

        def chosen(value: str | None) -> None:
            if value:
                field.value = value
            field.focus()

        self.app.push_screen(picker, chosen)

    # -- creating the role, as the console's "Create role" -------------------------------------------
    @property
    def read_only(self) -> bool:
        return defender(self.app).read_only

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "create_role" and self.read_only)  # hidden from the footer in read-only

    @on(Button.Pressed, "#create-role")
    def action_create_role(self) -> None:
        if self.read_only:
            self._error(READ_ONLY)
            return
        params = self.params()  # as far as filled in: scopes the permissions to the topic / logging role
        params = None if isinstance(params, str) else params
        open_create_role(self, self._value("name"), self.action_type, params, self.query_one("#role", Input))

    # -- validation and saving -----------------------------------------------------------------------
    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    def collect(self) -> tuple[str, str, ActionParams] | str:
        """(name, role ARN, params), or the first problem found, worded for the user."""
        name, role = self._value("name"), self._value("role")
        if not NAME.fullmatch(name):
            return "Name: 1 to 128 characters, only letters, digits, '_' and '-'."
        if not _role_arn(role):
            return "Role: pick a role, or type an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
        params = self.params()
        return params if isinstance(params, str) else (name, role, params)

    def params(self) -> ActionParams | str:
        """The parameters of the selected type, or the first problem with them."""
        t = self.action_type
        if t == "ADD_THINGS_TO_THING_GROUP":
            groups = tuple(g.strip() for g in self._value("groups").split(",") if g.strip())
            if not 1 <= len(groups) <= 10:
                return "Thing groups: give 1 to 10 group names, separated by commas."
            bad = next((g for g in groups if not GROUP.fullmatch(g)), None)
            if bad is not None:
                return (
                    f"Thing groups: {bad!r} is not a valid thing group name "
                    "(1 to 128 of letters, digits, ':', '_' and '-')."
                )
            return AddThingsToThingGroupParams(groups, self.query_one("#override", Checkbox).value)
        if t == "ENABLE_IOT_LOGGING":
            log_role = self._value("log-role")
            if not _role_arn(log_role):
                return "Role for logging: pick a role, or type an IAM role ARN."
            return EnableIotLoggingParams(log_role, str(self.query_one("#level", Select).value))
        if t == "PUBLISH_FINDING_TO_SNS":
            topic = self._value("topic")
            if len(topic) > TOPIC_ARN_MAX or not TOPIC_ARN.fullmatch(topic):
                return (
                    "SNS topic: pick a topic, or type a topic ARN (arn:aws:sns:<region>:<account>:<name>, "
                    f"at most {TOPIC_ARN_MAX} characters)."
                )
            return PublishFindingToSnsParams(topic)
        return PARAMS_BY_TYPE[t]()  # the fixed-parameter types

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self.sending:
            return  # a second save while the first is in flight would send it twice
        collected = self.collect()
        if isinstance(collected, str):
            self._error(collected)
            return
        name, role, params = collected
        if self._action is not None and (role, params) == (self._action.role_arn, self._action.params):
            self._error("Nothing to save: the action is as it was.")
            return  # no question to answer, no request to send
        self._error("")
        verb = "Update" if self._action else "Create"
        body = Text()
        body.append(f"{verb} mitigation action ")
        body.append(name, style="bold")
        body.append(f"\nType: {self.action_type}\nRole: {role}\nParameters: {params.summary}")
        if self._action is not None:
            body.append(f"\n(was: role {self._action.role_arn or '-'}; ")
            old = self._action.params
            body.append(f"{old.summary if hasattr(old, 'summary') else old})")

        def confirmed(ok: bool | None) -> None:
            if ok and not self.sending:
                self.sending = True
                self._send(name, role, params)

        self.app.push_screen(ConfirmModal(f"{verb} mitigation action?", body, verb), confirmed)

    @work(exclusive=True, name="saving the action", group="action-form", exit_on_error=False)
    async def _send(self, name: str, role: str, params: ActionParams) -> None:
        dd = defender(self.app).dd
        self._error("Saving…", about_fields=False)
        try:
            if self._action is None:
                await dd.create_mitigation_action(name, role, params)
            else:
                await dd.update_mitigation_action(name, role_arn=role, params=params)
        except AwsError as err:
            self._error(f"{err.code}: {err.text}")
            self.sending = False
            return
        self.dismiss(name)
