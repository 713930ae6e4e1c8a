"""Results' `d`: the highlighted audit against the previous audit of the same checks (ui/drift.py).

Both audits are made whole in the audit history first (what is missing is read from AWS, resumably), then
compared there; a list opened from the drift screen is shown in Results' findings table.
"""

from __future__ import annotations

from collections.abc import Callable

from ...aws.errors import AwsError
from ...aws.models import AuditTask
from ...history.store import HistoryError
from ..contract import defender
from ..drift import DriftList, DriftScreen
from ..pane import Pane

NO_HISTORY = "Drift needs the audit history, which is unavailable (see E for why)."
NO_EARLIER = (
    "No earlier completed audit of the same checks is known: open an earlier audit once, or run "
    "`iot-defender-tui history sync`."
)


async def show_drift(
    pane: Pane, task: AuditTask, opened: Callable[[DriftList], None], said: Callable[[str], None]
) -> None:
    app = defender(pane.app)
    history, dd = app.history, app.dd
    if history is None or dd is None:
        app.show_error(NO_HISTORY)
        return
    if task.status != "COMPLETED":
        app.show_error(f"Audit {task.task_id[:8]}… is {task.status}: drift compares completed audits.")
        return
    try:
        said("drift: storing the audit…")
        await history.ensure(dd, task)
        found = await history.drift(task.task_id)
        if found is None:
            app.show_error(NO_EARLIER)
            return
        _, earlier, _ = found
        said("drift: storing the earlier audit…")
        await history.ensure(dd, earlier)
        found = await history.drift(task.task_id, earlier.task_id)
    except (AwsError, HistoryError) as error:
        app.show_error(f"Drift: {getattr(error, 'text', None) or getattr(error, 'reason', error)}")
        return
    finally:
        said("")
    if found is None:
        app.show_error(NO_EARLIER)
        return

    def chosen(listed: DriftList | None) -> None:
        if listed is not None:
            opened(listed)

    pane.app.push_screen(DriftScreen(*found), chosen)
