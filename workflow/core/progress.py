"""Progress reporting: rich bars on standard error, nothing at all for library callers.

A bar counts finished units (source sentences, not the pieces a long one is split into)
and advances as each batch of them is done; the spinner shows it is working meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)


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
    """Messages and descriptions are shown as written: a file name with brackets is not markup."""

    def __init__(self, console=None) -> None:
        self.console = console or Console(stderr=True, soft_wrap=True)

    def info(self, message: str) -> None:
        self.console.print(message, markup=False, highlight=False)

    @contextmanager
    def bar(self, description: str, total: int | None) -> Iterator[Bar]:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=self.console, transient=False,
        ) as progress:
            task = progress.add_task(escape(description), total=total)

            class _Bar:
                def advance(self, n: int = 1) -> None:
                    progress.advance(task, n)

            yield _Bar()

    @contextmanager
    def spinner(self, description: str) -> Iterator[None]:
        with self.console.status(escape(description)):
            yield
        self.console.print(f"{description} done", markup=False, highlight=False)
