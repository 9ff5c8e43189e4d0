"""bench/handover.py at a small size on SQLite: it runs, and its own checks of the database
after every hand-over (every task moved, one event per task, one CASELOAD_RECEIVED) pass."""

from __future__ import annotations

import json
from pathlib import Path

from bench import handover


async def test_the_hand_over_bench_runs_and_checks_its_work(tmp_path: Path) -> None:
    path = await handover.main(
        ["--databases", "sqlite", "--tasks", "150", "--runs", "1", "--results", str(tmp_path)]
    )
    found = json.loads(path.read_text())["databases"]["sqlite"]
    assert found["moved_per_hand_over"] == 150 + 20  # and the series' first occurrences
    assert len(found["hand_over_ms"]) == 2
