"""Errors a user can act on. The CLI prints them as one clear message, never a stack trace."""

from __future__ import annotations


class WorkflowError(Exception):
    """Base class: ``message`` says what is wrong, ``hint`` how to fix it."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class ConfigError(WorkflowError):
    """A bad config file: names the file and the key."""

    exit_code = 2


class InputError(WorkflowError):
    """Bad input data: names the file (and line when known)."""

    exit_code = 2


class ModelNotAvailable(WorkflowError):
    """A configured model cannot be loaded (not cached, no network, bad folder)."""

    exit_code = 3


class StoreError(WorkflowError):
    """The embedded store (translation cache, approved fixes) is unusable."""

    exit_code = 4
