"""Settings: every audit check (enable/disable, thresholds), the audit role, SNS target and logging status.

Edits are pending until `ctrl+s` saves them after a confirmation; polling never overwrites them and a
failed save keeps them, so an edit is never dropped silently.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Static
from textual.widgets.data_table import ColumnKey

from ...aws import catalogue
from ...aws.errors import AwsError
from ...aws.models import AuditConfiguration, CheckConfiguration
from ..contract import defender
from ..format import plural
from ..modals import ConfirmModal
from ..pane import Pane
from ..readonly import allowed, refuse_key, refused
from ..screen import DefenderModal
from ..type_ahead import TypeAhead

MUTATING = {"toggle", "threshold", "save"}
# int() would also take "+400", "4_00" and other scripts' digits; AWS takes a plain decimal string.
WHOLE_DAYS = re.compile(r"[0-9]{1,5}")
COLUMNS = (("On", "on"), ("Sev", "sev"), ("Check", "title"), ("Param", "param"), ("API name", "api"))
CELL_PADDING = 2  # DataTable's one column of padding on each side of a cell


LOADING = "Loading the audit configuration…"


class ThresholdModal(TypeAhead, DefenderModal[int | None]):
    """Edits one check parameter; a bad value shows why and keeps what was typed."""

    DEFAULT_CSS = """
    ThresholdModal { align: center middle; }
    ThresholdModal > Vertical { width: 64; max-width: 95%; height: auto; border: thick $accent;
        background: $surface; padding: 1 2; }
    ThresholdModal #threshold-error { color: $error; height: auto; }
    ThresholdModal Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="threshold-cancel")]

    def __init__(self, check_title: str, parameter: catalogue.CheckParameter, value: int) -> None:
        super().__init__()
        self._title = check_title
        self._parameter = parameter
        self._value = value

    def compose(self) -> ComposeResult:
        p = self._parameter
        with Vertical():
            yield Static(Text(self._title, style="bold"))
            yield Static(Text(f"{p.label} ({p.minimum} to {p.maximum} days, default {p.default})"))
            yield Input(str(self._value), id="threshold-input")
            yield Static("", id="threshold-error", markup=False)
            with Horizontal():
                yield Button("OK (enter)", variant="primary", id="ok")
                yield Button("Cancel (esc)", id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        text = self.query_one(Input).value
        p = self._parameter
        try:
            if not text.strip():
                raise ValueError(f"Enter a number of days, {p.minimum} to {p.maximum}.")
            if not WHOLE_DAYS.fullmatch(text.strip()):
                raise ValueError(f"{p.label} must be a whole number of days in digits 0-9, not {text!r}.")
            value = p.validate(text)
        except ValueError as err:
            self.query_one("#threshold-error", Static).update(Text(str(err)))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SettingsPane(Pane):
    title = "Settings"
    DEFAULT_CSS = """
    SettingsPane { layout: vertical; }
    SettingsPane #settings-account { height: auto; max-height: 4; }  /* 4: the role ARN wraps at 60 columns */
    SettingsPane DataTable { height: 1fr; }
    SettingsPane #settings-description { height: 3; color: $text-muted; }
    SettingsPane #settings-message { height: auto; max-height: 3; }
    """
    BINDINGS = [
        Binding("space", "toggle", "Toggle check", id="settings-toggle"),
        Binding("t", "threshold", "Edit threshold", id="settings-threshold"),
        Binding("ctrl+s", "save", "Save", id="settings-save"),
    ]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("id", "settings")
        super().__init__(**kwargs)
        self.config: AuditConfiguration | None = None
        self.pending_enabled: dict[str, bool] = {}
        self.pending_params: dict[str, dict[str, str]] = {}
        # "CRITICAL" in full when the whole table fits the window with it, "CRIT" when it would not.
        self.full_severity = False

    def compose(self) -> ComposeResult:
        yield Static(Text(LOADING), id="settings-account")
        table: DataTable = DataTable(id="settings-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="settings-description", markup=False)
        yield Static("", id="settings-message", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key in COLUMNS:
            table.add_column(label, key=key)

    # -- state ---------------------------------------------------------------------------------------
    @property
    def has_unsaved_edits(self) -> bool:
        return bool(self.pending_enabled or self.pending_params)

    def _server(self, name: str) -> CheckConfiguration:
        found = self.config.check(name) if self.config else None
        return found or CheckConfiguration(name, False, {})

    def effective_enabled(self, name: str) -> bool:
        return self.pending_enabled.get(name, self._server(name).enabled)

    def effective_params(self, name: str) -> dict[str, str]:
        return {**self._server(name).configuration, **self.pending_params.get(name, {})}

    def _check_names(self) -> list[str]:
        names = list(catalogue.CHECKS)
        if self.config:
            known = set(names)
            extra = [c.name for c in self.config.checks]
            names += [n for n in extra if catalogue.ALIASES.get(n, n) not in known]
        return names

    # -- polling -------------------------------------------------------------------------------------
    def show_retries(self) -> None:
        if not self.listed:
            text = f"Loading the audit configuration… ({self.waiting()})" if self.retries else LOADING
            self.query_one("#settings-account", Static).update(Text(text))

    async def poll(self) -> None:
        config = await self.dd.describe_audit_configuration()
        try:
            logging = (await self.dd.get_logging_options()).summary
        except AwsError as err:
            logging = f"unknown ({err.message})"
        self.busy = False
        self.config = config
        self._show_account(config, logging)
        self._fill_table()
        self._fit_severity()  # the account's own checks may widen the table

    def _show_account(self, config: AuditConfiguration, logging: str) -> None:
        text = Text()
        text.append("Audit role: ", style="bold")
        text.append(config.role_arn or "(none)")
        text.append("\nSNS target: ", style="bold")
        sns = config.sns_target
        if sns and sns.target_arn:
            text.append(f"{sns.target_arn} ({'enabled' if sns.enabled else 'disabled'})")
        else:
            text.append("(none)")
        text.append("\nIoT logging: ", style="bold")
        text.append(logging)
        self.query_one("#settings-account", Static).update(text)

    def _row(self, name: str) -> list[Text]:
        info = catalogue.check_info(name)
        enabled = self.effective_enabled(name)
        edited = name in self.pending_enabled or name in self.pending_params
        mark = Text(("✓" if enabled else "✗") + ("*" if edited else " "), style="green" if enabled else "red")
        params = self.effective_params(name)
        param = ", ".join(params.get(p.name, str(p.default)) + "d" for p in info.parameters)
        severity = info.severity if self.full_severity else info.severity[:4]
        return [mark, Text(severity), Text(info.title), Text(param), Text(name)]

    def _fits_full_severity(self, width: int) -> bool:
        names = self._check_names()
        self.full_severity, short = True, self.full_severity
        try:
            rows = [self._row(name) for name in names]
        finally:
            self.full_severity = short
        needed = sum(
            max([len(label), *(cell.cell_len for cell in column)]) + CELL_PADDING
            for (label, _), column in zip(COLUMNS, zip(*rows, strict=True), strict=True)
        )
        return needed <= width

    def on_resize(self) -> None:
        self._fit_severity()

    def _fit_severity(self) -> None:
        table = self.query_one(DataTable)
        # The pane's width, the table's too: the table's own size may not follow a resize yet.
        full = self._fits_full_severity(self.size.width)
        if full == self.full_severity:
            return
        self.full_severity = full
        # The width set before the cells change: DataTable measures updated cells only when idle, after
        # it drew them in the old width ("CRITICAL" cut to "CRIT" until the next redraw).
        cells = {name: self._row(name)[1] for name in (str(key.value) for key in table.rows)}
        column = table.columns[ColumnKey("sev")]
        column.content_width = max([len("Sev"), *(cell.cell_len for cell in cells.values())])
        for name, cell in cells.items():
            table.update_cell(name, "sev", cell, update_width=True)

    def _fill_table(self) -> None:
        table = self.query_one(DataTable)
        names = self._check_names()
        existing = [str(key.value) for key in table.rows]
        if existing != names:
            table.clear()
            for name in names:
                table.add_row(*self._row(name), key=name)
            return
        columns = [str(c.value) for c in table.columns]
        for name in names:
            for column, cell in zip(columns, self._row(name), strict=True):
                table.update_cell(name, column, cell)

    def _cursor_check(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        name = str(event.row_key.value)
        info = catalogue.check_info(name)
        # The API name and severity repeated here: at 80 columns the table cannot show them in full.
        text = Text.assemble((name, "bold"), f"  {info.severity}\n", info.description)
        self.query_one("#settings-description", Static).update(text)

    def message(self, text: str, style: str = "") -> None:
        self.query_one("#settings-message", Static).update(Text(text, style=style))

    # -- edits ---------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, action, MUTATING)

    def on_key(self, event: events.Key) -> None:
        refuse_key(self, event, MUTATING)

    def action_toggle(self) -> None:
        name = self._cursor_check()
        if refused(self) or name is None or self.config is None:
            return
        new = not self.effective_enabled(name)
        if new == self._server(name).enabled:
            self.pending_enabled.pop(name, None)
        else:
            self.pending_enabled[name] = new
        self._fill_table()

    def action_threshold(self) -> None:
        name = self._cursor_check()
        if refused(self) or name is None or self.config is None:
            return
        info = catalogue.check_info(name)
        if not info.parameters:
            self.message(f"{info.title} has no parameters to edit.", "yellow")
            return
        parameter = info.parameters[0]
        current = self.effective_params(name).get(parameter.name, str(parameter.default))
        try:
            value = int(current)
        except ValueError:
            value = parameter.default

        def apply(result: int | None) -> None:
            if result is None:
                return
            if str(result) == self._server(name).configuration.get(parameter.name):
                self.pending_params.pop(name, None)
            else:
                self.pending_params[name] = {parameter.name: str(result)}
            self._fill_table()

        self.app.push_screen(ThresholdModal(info.title, parameter, value), apply)

    def changes_text(self) -> Text:
        text = Text()
        for name, enabled in sorted(self.pending_enabled.items()):
            text.append(f"{'Enable' if enabled else 'Disable'}: ", style="bold")
            text.append(f"{catalogue.check_info(name).title} ({name})\n")
        for name, params in sorted(self.pending_params.items()):
            for key, value in params.items():
                old = self._server(name).configuration.get(key, "default")
                text.append("Threshold: ", style="bold")
                text.append(f"{name} {key}: {old} → {value}\n")
        return text

    def action_save(self) -> None:
        if refused(self):
            return
        if not self.has_unsaved_edits:
            self.message("Nothing to save.", "yellow")
            return

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.run_worker(self._save(), group="settings-save", exclusive=True, exit_on_error=False)

        modal = ConfirmModal("Save the audit configuration?", self.changes_text(), "Save")
        self.app.push_screen(modal, confirmed)

    async def _save(self) -> None:
        sent_enabled = dict(self.pending_enabled)
        sent_params = {k: dict(v) for k, v in self.pending_params.items()}
        checks = [
            CheckConfiguration(name, self.effective_enabled(name), self.effective_params(name))
            for name in sorted(set(sent_enabled) | set(sent_params))
        ]
        self.message("Saving…")
        try:
            await self.dd.update_audit_configuration(checks=checks)
        except AwsError as err:
            # Shown where the user is looking; the edits stay pending for another try.
            self.message(f"Not saved: {err.text}", "bold red")
            defender(self.app).show_error(f"Settings not saved: {err.text}")
            return
        # Drop only what was sent: an edit made while saving stays pending.
        for name, value in sent_enabled.items():
            if self.pending_enabled.get(name) == value:
                del self.pending_enabled[name]
        for name, params in sent_params.items():
            if self.pending_params.get(name) == params:
                del self.pending_params[name]
        self.message(f"Saved {plural(len(checks), 'check')}.", "green")
        self.refresh_now()
