"""The write path: no change without a journal, the journal off the event loop, no blind retry of a
mutation, and what the app says after AWS answered an error it may have acted on (--error-after-rate)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from aws_fixtures import request_counts, sandbox_settings
from factories import configure_audit
from test_aws_client_safety import WRITES

from conftest import make_client
from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.guard import JournalUnavailableError, ReadOnlyError
from iot_defender_tui.aws.journal import Journal

pytest_plugins = ["aws_fixtures"]
SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"


def _sent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}


async def test_without_a_journal_every_write_is_refused_before_it_is_sent(sandbox_url, aws_env):
    before = request_counts(sandbox_url)
    async with DefenderClient(sandbox_settings(sandbox_url), journal_problem="disk full") as dd:
        for name, write in WRITES.items():
            with pytest.raises(JournalUnavailableError) as err:
                await write(dd)
            assert isinstance(err.value, ReadOnlyError), name  # the UI treats it like read-only
            assert "journal is unavailable (disk full)" in str(err.value), name
            assert "refused until it is fixed" in str(err.value)
        assert (await dd.describe_audit_configuration()).checks  # reading still works
    assert _sent(before, request_counts(sandbox_url)) == {"DescribeAccountAuditConfiguration": 1}


async def test_a_client_made_without_a_journal_refuses_writes_too(sandbox_url, aws_env):
    before = request_counts(sandbox_url)
    async with DefenderClient(sandbox_settings(sandbox_url)) as dd:
        with pytest.raises(JournalUnavailableError, match="journal is unavailable"):
            await dd.start_audit([SHARED])
    assert _sent(before, request_counts(sandbox_url)) == {}


async def test_journal_writes_run_off_the_event_loop_and_the_intent_is_committed_before_sending(
    sandbox_url, aws_env, tmp_path: Path, monkeypatch
):
    configure_audit(make_client(sandbox_url), SHARED)
    journal = Journal.open(tmp_path / "journal.sqlite")
    loop_thread = threading.get_ident()
    threads: dict[str, int] = {}
    for method in ("record_intent", "record_outcome"):
        original = getattr(Journal, method)

        def spy(self, *args, _original=original, _name=method, **kwargs):
            threads[_name] = threading.get_ident()
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Journal, method, spy)
    intents_at_send: list[list[str]] = []
    async with DefenderClient(sandbox_settings(sandbox_url), journal) as dd:

        def note_intents(**_):
            intents_at_send.append([e.operation for e in journal.unknown_outcomes()])

        # On the open client and the session (any client made later), whichever sends the write.
        dd._clients["iot"].meta.events.register("before-send.iot.StartOnDemandAuditTask", note_intents)
        dd._session.register("before-send.iot.StartOnDemandAuditTask", note_intents)
        await dd.start_audit([SHARED])
    assert set(threads) == {"record_intent", "record_outcome"}
    assert loop_thread not in threads.values()
    assert intents_at_send == [["StartOnDemandAuditTask"]]
    (entry,) = journal.entries()
    assert entry.state == "ok"
