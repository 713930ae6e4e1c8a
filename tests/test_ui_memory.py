"""The app's GC policy (ui/memory.py): a load's findings are frozen out of the collector's reach every
FREEZE_EVERY and when it ends, not after every page (a freeze also pins the requests then in flight)."""

from __future__ import annotations

import gc

from iot_defender_tui.ui.memory import MemoryPolicy, collector_held_off


def test_a_load_is_frozen_every_few_thousand_findings_and_at_its_end() -> None:
    policy = MemoryPolicy(freeze_every=1000)
    gc.unfreeze()
    try:
        kept = [[object()] for _ in range(10)]  # stand-ins for findings: containers the collector tracks
        policy.kept(999)
        assert gc.get_freeze_count() == 0
        policy.kept(1)
        frozen = gc.get_freeze_count()
        assert frozen > 0
        kept.append([object()])
        policy.kept(500)
        assert gc.get_freeze_count() == frozen
        policy.settled()
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()


def test_the_collector_is_on_again_after_the_app_however_it_ended() -> None:
    try:
        with collector_held_off():
            assert not gc.isenabled()
            raise RuntimeError("start-up failed")
    except RuntimeError:
        pass
    assert gc.isenabled()
