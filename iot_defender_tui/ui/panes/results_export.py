"""Export and copy from the Results pane's findings list: `e` writes the list as shown (filter and sort
applied) to a CSV or JSON file, `y` copies the highlighted finding's ids (or the marked findings' ids) to the
clipboard with OSC 52, which reaches the user's own terminal over SSH.

A list may be a stored audit of 1,000,000 findings read from the history on demand: the export reads and
writes it BATCH findings at a time on a thread, from the keys the list showed when asked, so the screen
never waits and no more than a batch of findings is held. Nothing here changes AWS (allowed in read-only).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...aws.models import Finding, ResourceRef
from ...export import spreadsheet_cell
from ...history.store import HistoryError
from ..contract import defender
from ..format import plural
from ..modals import ConfirmModal
from ..screen import DefenderModal

BATCH = 5000  # findings read and written at a time
COPY_MAX = 1000  # marked findings whose ids `y` copies at most (terminals cap an OSC 52 write)
SAID = 60  # characters of what was copied the status line repeats
FORMATS = ("csv", "json")
COLUMNS = (
    "finding_id",
    "check",
    "severity",
    "resource_type",
    "resource_id",
    "reason_code",
    "reason",
    "found_time",
    "suppressed",
    "task_id",
)

Reader = Callable[[Sequence[Hashable]], list[Finding]]


def row(finding: Finding) -> tuple[str | bool, ...]:
    """One finding's values, in COLUMNS' order. The texts are the models' (control characters already
    shown as escapes); the time is ISO 8601, in UTC as AWS gives it."""
    return (
        finding.finding_id,
        finding.check_name,
        finding.severity,
        finding.resource.resource_type,
        finding.resource.full_id,
        finding.reason_code or "",
        finding.reason or "",
        _iso(finding.finding_time),
        finding.is_suppressed,
        finding.task_id,
    )


@lru_cache(maxsize=1024)  # an audit's findings share a few times: each formatted once
def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def default_path(task_id: str, check: str | None, fmt: str = "csv") -> Path:
    """findings-<task id prefix>-<check or all>.<fmt>, in the current directory."""
    return Path.cwd() / f"findings-{task_id[:8] or 'audit'}-{check or 'all'}.{fmt}"


def with_format(text: str, fmt: str) -> str:
    """The typed path with the other format's extension swapped for `fmt`'s (anything else kept)."""
    for other in FORMATS:
        if other != fmt and text.lower().endswith(f".{other}"):
            return f"{text[: -len(other)]}{fmt}"
    return text


def path_problem(text: str) -> tuple[Path | None, str | None]:
    """The path to write, or why it cannot be written."""
    if not text.strip():
        return None, "Path: type the file to write."
    path = Path(text.strip()).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    if path.is_dir():
        return None, f"{path} is a directory: add a file name."
    parent = path.parent
    if not parent.exists():
        return None, f"No directory {parent}: create it first, or pick another."
    if not parent.is_dir():
        return None, f"{parent} is not a directory."
    if not os.access(parent, os.W_OK | os.X_OK):
        return None, f"Cannot write in {parent} (permission denied)."
    if path.exists() and not os.access(path, os.W_OK):
        return None, f"Cannot overwrite {path} (permission denied)."
    return path, None


@dataclass(frozen=True, slots=True)
class ExportChoice:
    fmt: str  # one of FORMATS
    path: Path


class ExportModal(DefenderModal[ExportChoice | None]):
    """Pick a format (enter), then the path (enter); an existing file is overwritten only once confirmed;
    escape cancels. A refused path stays as typed, with why it was refused."""

    DEFAULT_CSS = """
    ExportModal { align: center middle; }
    ExportModal > Vertical { width: 70; max-width: 95%; height: auto; border: thick $primary;
        background: $surface; padding: 1 2; }
    ExportModal OptionList { height: auto; max-height: 4; }
    ExportModal #path-problem { color: $error; }
    """
    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel", id="export-cancel")]

    def __init__(self, title: str, path: Path) -> None:
        super().__init__()
        self._title = title
        self._path = path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title, style="bold"))
            yield OptionList(*(Option(fmt.upper(), id=fmt) for fmt in FORMATS))
            yield Input(str(self._path), placeholder="file to write, enter to export", id="path")
            yield Static("", id="path-problem", markup=False)

    @property
    def fmt(self) -> str:
        return FORMATS[self.query_one(OptionList).highlighted or 0]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        path = self.query_one("#path", Input)
        swapped = with_format(path.value, self.fmt)
        if swapped != path.value:
            path.value = swapped

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#path", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._say("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path, problem = path_problem(event.value)
        if path is None:
            self._say(problem or "")
            return
        choice = ExportChoice(self.fmt, path)
        if not path.exists():
            self.dismiss(choice)
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.dismiss(choice)
            else:
                self._say(f"{path.name} exists: not overwritten.")

        body = Text(f"{path} exists. Replace it with the export?")
        self.app.push_screen(ConfirmModal("Overwrite file?", body, "Overwrite", "Keep it"), confirmed)

    def _say(self, problem: str) -> None:
        self.query_one("#path-problem", Static).update(Text(problem))

    def action_cancel(self) -> None:
        self.dismiss(None)


class _Writer:
    """One export file, written under a temporary name and renamed when whole: a failed or abandoned
    export leaves the file that was there (or none), never half a list."""

    def __init__(self, choice: ExportChoice) -> None:
        self.choice = choice
        self._part = choice.path.with_name(f".{choice.path.name}.part")
        self._file: IO[str] | None = None
        self._csv: Any = None  # a csv.writer
        self._first = True

    def open(self) -> None:
        self._file = open(self._part, "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed in close/abort)
        if self.choice.fmt == "csv":
            self._csv = csv.writer(self._file)
            self._csv.writerow(COLUMNS)
        else:
            self._file.write("[")

    def write(self, findings: list[Finding]) -> None:
        assert self._file is not None
        if self._csv is not None:
            # A tuple a row, not a DictWriter's dict: a third of a 1,000,000-row export's time went there.
            # Text from AWS (a client id a device chose) is never run as a spreadsheet formula.
            cell = spreadsheet_cell
            self._csv.writerows(
                (*map(cell, r[:8]), "true" if r[8] else "false", cell(r[9])) for r in map(row, findings)
            )
            return
        out = []
        for finding in findings:
            out.append("\n" if self._first else ",\n")
            out.append(json.dumps(dict(zip(COLUMNS, row(finding), strict=True)), ensure_ascii=False))
            self._first = False
        self._file.write("".join(out))

    def close(self) -> None:
        assert self._file is not None
        if self._csv is None:
            self._file.write("\n]\n")
        self._file.close()
        os.replace(self._part, self.choice.path)

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
        with contextlib.suppress(OSError):
            self._part.unlink()


def copied_text(findings: list[Finding], marked: bool) -> str:
    """Marked findings: their finding ids. One finding: its id, then its resource's ids (certificate id,
    policy name, client id… as `full_id` gives them, made safe: a paste must not carry escapes)."""
    if marked:
        return "\n".join(f.finding_id for f in findings)
    lines: list[str] = []
    for finding in findings:
        lines += [finding.finding_id, *resource_ids(finding.resource)]
    return "\n".join(dict.fromkeys(line for line in lines if line))


def resource_ids(resource: ResourceRef) -> list[str]:
    ids = [resource.full_id]
    if resource.resource_type == "ISSUER_CERTIFICATE":  # the device certificate it issued, too
        device = resource.device_certificate_id
        if device:
            ids.append(ResourceRef.from_identifier({"deviceCertificateId": device}).full_id)
    return ids


class Exports:
    """The pane's exports and copies; `status` is what its status line says of them."""

    def __init__(self, owner: Widget, changed: Callable[[], None]) -> None:
        self._owner = owner
        self._changed = changed
        self._progress = ""
        self.note = ""  # the last export's or copy's outcome, until the list is left

    @property
    def status(self) -> str:
        return self._progress or self.note

    def export(self, keys: Sequence[Hashable], read: Reader, path: Path, *, loading: bool) -> None:
        """`keys` (the list's, in its order) to a file, after the dialog; `read` gives their findings."""
        app = self._owner.app
        if self._progress:
            defender(app).show_error("An export is still running.")
            return
        if not len(keys):
            defender(app).show_error("No findings to export.")
            return
        title = f"Export {plural(len(keys), 'finding')}" + (" (those loaded so far)" if loading else "")

        def chosen(choice: ExportChoice | None) -> None:
            if choice is not None:
                self._say(f"Exporting 0/{len(keys):,}…")  # at once: a second `e` meanwhile is refused
                work = self._write(keys, read, choice)
                self._owner.run_worker(work, name="export", group="results-export", exit_on_error=False)

        app.push_screen(ExportModal(title, path), chosen)

    async def _write(self, keys: Sequence[Hashable], read: Reader, choice: ExportChoice) -> None:
        writer = _Writer(choice)
        total, written = len(keys), 0
        try:
            await asyncio.to_thread(writer.open)
            for start in range(0, total, BATCH):
                self._say(f"Exporting {written:,}/{total:,}…")
                batch = keys[start : start + BATCH]
                written += await asyncio.to_thread(self._batch, writer, read, batch)
            await asyncio.to_thread(writer.close)
        except (OSError, HistoryError) as error:
            await asyncio.to_thread(writer.abort)
            reason = error.reason if isinstance(error, HistoryError) else error.strerror or str(error)
            defender(self._owner.app).show_error(f"Export to {choice.path} failed: {reason}")
            return
        except BaseException:  # cancelled (the pane went): no half file left behind
            writer.abort()
            raise
        finally:
            self._progress = ""
            self._changed()
        if written < total:  # the list was replaced meanwhile (another list opened): say what is missing
            defender(self._owner.app).show_error(
                f"Exported {written:,} of {total:,} findings to {choice.path}: the list changed meanwhile."
            )
        self._note(f"Exported {plural(written, 'finding')} to {choice.path}")

    @staticmethod
    def _batch(writer: _Writer, read: Reader, batch: Sequence[Hashable]) -> int:
        # numpy positions (a stored list's) as ints: its reader takes any iterable of them
        keys = batch.tolist() if hasattr(batch, "tolist") else batch
        findings = read(keys)
        writer.write(findings)
        return len(findings)

    def copy(self, marked: int, findings: Callable[[], list[Finding]]) -> None:
        """`findings`: the marked ones (`marked` of them), else the cursor's; read only once allowed."""
        app = self._owner.app
        if marked > COPY_MAX:
            defender(app).show_error(
                f"{marked:,} findings are marked: y copies at most {COPY_MAX:,} ids (e exports them)."
            )
            return
        chosen = findings()
        if not chosen:
            return
        text = copied_text(chosen, bool(marked))
        app.copy_to_clipboard(text)
        said = text.replace("\n", " ")
        said = said if len(said) <= SAID else said[: SAID - 1] + "…"
        self._note(f"Copied {plural(len(chosen), 'finding id')}: {said}" if marked else f"Copied {said}")

    def _say(self, progress: str) -> None:
        self._progress = progress
        self._changed()

    def _note(self, note: str) -> None:
        self.note = note
        self._changed()
