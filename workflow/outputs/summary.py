"""``run.json``: what the run did (documents, segments, skipped, translated and cached
counts per target, models loaded) and every problem it reported."""

from __future__ import annotations

import json
from collections.abc import Sequence

from workflow.core.records import Row
from workflow.outputs import sink
from workflow.outputs.sink import Sink

NAME = "run.json"


def run_json(summary: dict) -> str:
    return json.dumps(summary, ensure_ascii=False, indent=2) + "\n"


class Writer:
    """No file per document; ``run.json`` at the end."""

    def __init__(self, targets: Sequence[str], sink: Sink) -> None:
        self.sink = sink

    def add(self, rows: list[Row]) -> None:
        return None

    def finish(self, summary: dict) -> None:
        self.sink.file(NAME, run_json(summary))


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> list[tuple[str, bytes | str]]:
    return sink.files(Writer, rows, targets, summary)
