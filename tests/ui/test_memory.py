"""The app's GC policy (ui/memory.py): a load's findings are frozen out of the collector's reach every
FREEZE_EVERY and when it ends, not after every page (a freeze also pins the requests then in flight)."""

from __future__ import annotations

import gc

import pytest

from iot_defender_tui.ui import memory
from iot_defender_tui.ui.memory import MemoryPolicy, collector_held_off


def test_a_load_is_frozen_every_few_thousand_findings_and_at_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    # Counted, not read from gc.get_freeze_count(): the sandbox's threads free frozen objects meanwhile.
    freezes: list[int] = []
    monkeypatch.setattr(memory.gc, "freeze", lambda: freezes.append(1))
    policy = MemoryPolicy(freeze_every=1000)
    policy.kept(999)
    assert freezes == []
    policy.kept(1)
    assert len(freezes) == 1
    policy.kept(500)
    assert len(freezes) == 1
    policy.settled()
    assert len(freezes) == 2
    policy.kept(999)  # counted afresh after a freeze
    assert len(freezes) == 2


def test_the_collector_is_on_again_after_the_app_however_it_ended() -> None:
    with pytest.raises(RuntimeError), collector_held_off():
        assert not gc.isenabled()
        raise RuntimeError("start-up failed")
    assert gc.isenabled()
