"""``run.json``: what the run did (documents, segments, skipped, translated and cached
counts per target, models loaded) and every problem it reported."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from workflow.core.records import Row


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> Iterator[tuple[str, str]]:
    yield "run.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n"
