"""Timings of the audit store (issue 14), printed with their targets; the tests hold no timed assertions.

    PYTHONPATH=$PWD python scripts/history_bench.py [--big 1000000] [--keep DIR]

Runs in a temporary directory (or DIR): store and read 100,000 findings, drift between two 100,000-finding
audits, generate a --big audit straight into the store, and read a page deep into it.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from iot_defender_tui.aws.catalogue import CHECKS
from iot_defender_tui.history.drift import drift
from iot_defender_tui.history.generate import _counts, _findings, generate
from iot_defender_tui.history.store import AuditStore

ACCOUNT, REGION = "123456789012", "eu-west-1"
T = TypeVar("T")


def timed(label: str, target: str, work: Callable[[], T]) -> T:
    gc.collect()
    start = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {elapsed:7.3f} s   (target {target})", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=1_000_000, help="findings of the generated audit")
    parser.add_argument("--keep", type=Path, help="write the store here and keep it")
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="history-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "audit-history.sqlite3"
    path.unlink(missing_ok=True)
    store = AuditStore.open(path)

    # 100,000 findings as the app has them (Finding models), saved as one audit.
    rng, now = random.Random(1), datetime.now(UTC)
    made = [f for name, n in _counts(100_000).items() for f in _findings(rng, "a" * 32, name, range(n), now,
                                                                         (ACCOUNT, REGION))]  # fmt: skip
    task_id = "a" * 32
    save = lambda: store.save_findings(ACCOUNT, REGION, task_id, made)  # noqa: E731
    saved = timed("store 100,000 findings", "well under 2 s", save)
    assert saved == 100_000
    made.clear()
    read = timed(
        "read 100,000 findings (batches of 5,000)", "well under 1 s",
        lambda: sum(len(b) for b in store.findings(ACCOUNT, REGION, "a" * 32)),
    )  # fmt: skip
    assert read == 100_000

    earlier, later = timed(
        "generate 2 audits x 100,000 (synthesis + store)", "-",
        lambda: generate(store, ACCOUNT, REGION, findings=100_000, tasks=2, seed=2),
    )  # fmt: skip
    result = timed(
        "drift 100,000 vs 100,000", "<= 1 s", lambda: drift(store, ACCOUNT, REGION, earlier, later)
    )
    counts = [sum(len(getattr(c, kind)) for c in result.checks) for kind in ("new", "resolved", "persisting")]
    print(f"{'':<44} new {counts[0]:,}, resolved {counts[1]:,}, persisting {counts[2]:,}")

    synth = timed(
        f"synthesise {args.big:,} findings (no store)", "-",
        lambda: sum(1 for name, n in _counts(args.big).items()
                    for _ in _findings(rng, "b" * 32, name, range(n), now, (ACCOUNT, REGION))),
    )  # fmt: skip
    assert synth == args.big
    (big,) = timed(
        f"generate {args.big:,} findings (synthesis + store)", "store alone well under 20 s",
        lambda: generate(store, ACCOUNT, "eu-north-1", findings=args.big, tasks=1, seed=3),
    )  # fmt: skip
    deep = args.big * 9 // 10
    page = timed(
        f"read a page of 100 at offset {deep:,}", "-",
        lambda: store.findings_page(ACCOUNT, "eu-north-1", big, None, deep, 100),
    )  # fmt: skip
    assert len(page) == 100
    name = next(iter(CHECKS))
    timed(f"count one check of {args.big:,}", "-", lambda: store.count(ACCOUNT, "eu-north-1", big, name))
    store.close()
    size = sum(p.stat().st_size for p in directory.glob("audit-history.sqlite3*"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"store file {size / 1e6:,.0f} MB in {directory}; peak RSS of this process {peak:,.0f} MB")


if __name__ == "__main__":
    main()
