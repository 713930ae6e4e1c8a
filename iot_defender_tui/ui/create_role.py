"""The console's "Create role" for a mitigation action: an IAM role AWS IoT may assume, with exactly the
permissions the action's type needs (aws/roles.py), made from the action form with F3.

Shows, as plain text, what will be created before anything is sent; asks to confirm; sends in a worker;
shows AWS's refusal inline and keeps the typed name. Dismisses with the new role's ARN, or None.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from ..aws import roles
from ..aws.client_resources import RoleWithoutPermissionsError
from ..aws.errors import AccessDeniedError, AwsError, ConflictError
from ..aws.guard import JournalUnavailableError, ReadOnlyError
from ..aws.models_params import ActionParams
from ..aws.reply_fields import arn_resource_name
from .contract import defender
from .modals import ConfirmModal
from .screen import DefenderModal, error_text
from .type_ahead import TypeAhead

READ_ONLY = "Read-only mode: creating a role is refused."


class CreateRoleModal(TypeAhead, DefenderModal[str | None]):
    DEFAULT_CSS = """
    CreateRoleModal { align: center middle; }
    CreateRoleModal > Vertical { width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1; }
    CreateRoleModal #role-preview { height: auto; margin-top: 1; }
    CreateRoleModal #role-error { color: $error; height: auto; }
    CreateRoleModal Horizontal { height: auto; align-horizontal: right; }
    /* Docked: however small the window, the rest scrolls and the error and buttons stay in view. */
    CreateRoleModal VerticalScroll { height: auto; max-height: 100%; }
    CreateRoleModal #role-title { dock: top; }
    CreateRoleModal Horizontal { dock: bottom; }
    CreateRoleModal #role-error { dock: bottom; margin-bottom: 3; }
    CreateRoleModal Label { width: 100%; }
    CreateRoleModal Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("ctrl+s", "create", "Create", id="role-create"),
        Binding("escape", "cancel", "Cancel", id="role-cancel"),
    ]

    def __init__(self, action_type: str, params: ActionParams | None, default_name: str) -> None:
        super().__init__()
        self._type = action_type
        self._params = params
        self._default = default_name
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Create a role for this mitigation action", style="bold"), id="role-title")
            with VerticalScroll():
                yield Label("Role name (1-64 of letters, digits and + = , . @ _ -)")
                yield Input(self._default, id="role-name", compact=True)
                yield Static(id="role-preview", markup=False)
            yield Static(id="role-error", markup=False)
            with Horizontal():
                yield Button("Create (ctrl+s)", variant="primary", id="role-create")
                yield Button("Cancel (esc)", id="role-cancel")

    def on_mount(self) -> None:
        self._show_preview()
        self.query_one("#role-name", Input).focus()

    @property
    def role_name(self) -> str:
        return self.query_one("#role-name", Input).value.strip()

    @on(Input.Changed, "#role-name")
    def _show_preview(self) -> None:
        shown = self.role_name or "(no name yet)"
        self.query_one("#role-preview", Static).update(Text(roles.preview(shown, self._type, self._params)))

    def _error(self, message: str) -> None:
        self.query_one("#role-error", Static).update(Text(message))

    @on(Input.Submitted, "#role-name")
    @on(Button.Pressed, "#role-create")
    def action_create(self) -> None:
        if self._busy:
            return  # a second key while the first request is in flight must not send again
        if defender(self.app).read_only:
            self._error(READ_ONLY)
            return
        name = self.role_name
        problem = roles.role_name_problem(name)
        if problem is not None:
            self._error(problem)
            return
        self._error("")

        def confirmed(ok: bool | None) -> None:
            if ok and not self._busy:
                self._set_busy(True)
                self._send(name)

        body = Text(roles.preview(name, self._type, self._params))
        self.app.push_screen(ConfirmModal("Create IAM role?", body, "Create"), confirmed)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.query_one("#role-name", Input).disabled = busy
        self.query_one("#role-create", Button).disabled = busy

    @work(exclusive=True, name="creating the role", group="create-role", exit_on_error=False)
    async def _send(self, name: str) -> None:
        dd = defender(self.app).dd
        self._error("Creating…")
        try:
            role = await dd.create_mitigation_role(name, self._type, self._params)
        except (AwsError, ReadOnlyError) as err:
            self._error(explain(name, err))
            self._set_busy(False)
            self.query_one("#role-name", Input).focus()
            return
        self.dismiss(role.arn)

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if worker.group == "create-role":
            self._error(error_text(worker))
            self._set_busy(False)
            self.query_one("#role-name", Input).focus()

    @on(Button.Pressed, "#role-cancel")
    def action_cancel(self) -> None:
        if not self._busy:  # the answer is on its way: leaving now would hide whether the role exists
            self.dismiss(None)


def open_create_role(
    screen: Screen[object], action_name: str, action_type: str, params: ActionParams | None, field: Input
) -> None:
    """From an action form: create the role, then put its ARN in `field` and say so."""
    modal = CreateRoleModal(action_type, params, roles.default_role_name(action_name, action_type))

    def created(arn: str | None) -> None:
        if arn:
            field.value = arn
            screen.notify(f"Role {arn_resource_name(arn)} created", markup=False)
        field.focus()

    screen.app.push_screen(modal, created)


def explain(name: str, err: AwsError | ReadOnlyError) -> str:
    """AWS's refusal worded for the user, with what to do next."""
    if isinstance(err, JournalUnavailableError):  # read-only too, but for its own reason
        return str(err)
    if isinstance(err, ReadOnlyError):
        return READ_ONLY
    if isinstance(err, RoleWithoutPermissionsError):
        return f"{err.code}: {err.text}"
    if isinstance(err, ConflictError) or err.code == "EntityAlreadyExists":
        return (
            f"A role named {name} already exists. Choose another name, or press escape and pick "
            "the existing role with F2."
        )
    if isinstance(err, AccessDeniedError):
        return f"{err.message} Ask an administrator for iam:CreateRole and iam:PutRolePolicy, or pick a role."
    return f"{err.code}: {err.text}"
