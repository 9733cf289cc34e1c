"""Progress reporting: rich bars on a terminal, nothing at all for library callers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class Bar(Protocol):
    def advance(self, n: int = 1) -> None: ...


class Reporter:
    """Silent base: the library reports through this, the CLI passes a RichReporter."""

    def info(self, message: str) -> None:
        pass

    @contextmanager
    def bar(self, description: str, total: int | None) -> Iterator[Bar]:
        yield _NullBar()

    @contextmanager
    def spinner(self, description: str) -> Iterator[None]:
        yield


class _NullBar:
    def advance(self, n: int = 1) -> None:
        pass


class RichReporter(Reporter):
    def __init__(self, console=None) -> None:
        self.console = console or Console(stderr=True, soft_wrap=True)

    def info(self, message: str) -> None:
        self.console.print(message)

    @contextmanager
    def bar(self, description: str, total: int | None) -> Iterator[Bar]:
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=self.console, transient=False,
        ) as progress:
            task = progress.add_task(description, total=total)

            class _Bar:
                def advance(self, n: int = 1) -> None:
                    progress.advance(task, n)

            yield _Bar()

    @contextmanager
    def spinner(self, description: str) -> Iterator[None]:
        with self.console.status(description):
            yield
        self.console.print(f"{description} done")
