"""Results' `d`: the highlighted audit against the previous audit of the same checks (ui/drift.py).

Both audits are made whole in the audit history first (what is missing is read from AWS, resumably), then
compared there; a list opened from the drift screen is shown in Results' findings table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from ...aws.errors import AwsError
from ...aws.models import AuditTask
from ...history.store import HistoryError
from ..contract import defender
from ..drift import DriftList, DriftScreen, Found
from ..pane import Pane

NO_HISTORY = "Drift needs the audit history, which is unavailable (see E for why)."
NO_EARLIER = (
    "No earlier completed audit of the same checks is known: open an earlier audit once, or run "
    "`iot-defender-tui history sync`."
)


async def show_drift(
    pane: Pane,
    task: AuditTask,
    opened: Callable[[DriftList], None],
    said: Callable[[str], None],
    listed: Callable[[], Iterable[AuditTask]],
) -> None:
    """`listed`: the audits the pane knows from AWS, offered with the stored ones to compare with."""
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

    async def compare(earlier_id: str) -> Found | None:
        """Against an audit the user picked: made whole in the history first, like the other two."""
        try:
            said("drift: storing the audit picked…")
            earlier = history.task(earlier_id) or await dd.describe_audit_task(earlier_id)
            await history.ensure(dd, earlier)
            return await history.drift(task.task_id, earlier_id)
        except (AwsError, HistoryError) as error:
            app.show_error(f"Drift: {getattr(error, 'text', None) or getattr(error, 'reason', error)}")
            return None
        finally:
            said("")

    async def candidates() -> list[AuditTask]:
        """Every completed audit known: those AWS lists (90 days) and those only the history keeps."""
        stored = await asyncio.to_thread(history.store.tasks, history.account, history.region)
        known = {t.task_id: t for t in stored}
        known.update((t.task_id, t) for t in listed())
        done = [t for t in known.values() if t.status == "COMPLETED" and t.start_time is not None]
        return sorted(done, key=lambda t: t.start_time or 0)

    screen = DriftScreen(*found, compare=compare, candidates=candidates)
    pane.app.push_screen(screen, chosen)
