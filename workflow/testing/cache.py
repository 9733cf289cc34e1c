"""Disk cache of the tiny test models: each is built once per recipe, then reused by later sessions.

A :class:`Recipe` is a builder from :mod:`workflow.testing.tinymodels` with its arguments.
Its key is the sha256 of everything that decides the model's bytes: the builder's name,
every argument (training texts included), the source text of the builder's module, the
versions of the libraries that write the files and the machine type. The model lives in
``<root>/<builder>-<key>``; the root is ``$WORKFLOW_TEST_MODELS``, else
``.workflow/test-models/`` in the repository (git-ignored).

Building is crash-safe, like the CTranslate2 conversions: the model is built into a
temporary sibling folder, marked valid, then renamed into place. A folder without the
marker is never used (it is removed and rebuilt); nor are the temporary folders of
builders no longer running (removed). A file lock serialises two processes building the
same model (the second waits, then uses the first one's folder); should the lock not
hold, the loser of the final rename uses the winner's folder. The marker is trusted: a
cached model edited by hand stays wrong until its folder is deleted
(tests/unit/core/test_tinymodels.py compares each with a fresh build).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import inspect
import json
import os
import platform
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[2]
VALID_MARKER = ".workflow-valid"  # a dot file: not part of the model's fingerprint (hub.fingerprint)
LIBRARIES = ("torch", "transformers", "tokenizers", "sentencepiece", "safetensors", "protobuf")


def cache_root() -> Path:
    return Path(os.environ.get("WORKFLOW_TEST_MODELS") or REPOSITORY / ".workflow" / "test-models")


@dataclass(frozen=True)
class Recipe:
    """``builder(folder, *args, **kwargs)`` builds the model into ``folder``."""

    builder: Callable[..., Any]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def build(self, folder: Path) -> Path:
        self.builder(folder, *self.args, **self.kwargs)
        return folder

    def key(self) -> str:
        module = sys.modules[self.builder.__module__]
        text = json.dumps({
            "builder": f"{self.builder.__module__}.{self.builder.__qualname__}",
            "args": self.args,
            "kwargs": self.kwargs,
            "source": inspect.getsource(module),
            "versions": {name: metadata.version(name) for name in LIBRARIES},
            "machine": platform.machine(),
        }, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_valid(folder: Path) -> bool:
    return (folder / VALID_MARKER).is_file()


def _builder_alive(tmp: Path) -> bool:
    """Whether the process named in ``<name>.tmp-<pid>-<random>`` is still running."""
    try:
        os.kill(int(tmp.name.rsplit(".tmp-", 1)[1].split("-")[0]), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # running, as another user
        pass
    return True


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def cached_model(recipe: Recipe) -> Path:
    """The folder of ``recipe``'s model, built on first use (crash-safe, see module doc)."""
    root = cache_root()
    key = recipe.key()
    final = root / f"{recipe.builder.__name__}-{key}"
    if is_valid(final):
        return final
    root.mkdir(parents=True, exist_ok=True)
    with _file_lock(root / f"{final.name}.lock"):
        if is_valid(final):  # another process built it while we waited
            return final
        for stale in root.glob(final.name + ".tmp-*"):
            if not _builder_alive(stale):  # leftovers of a crashed build
                shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)  # no marker: never used
        tmp = root / f"{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            recipe.build(tmp)
            (tmp / VALID_MARKER).write_text(json.dumps({
                "builder": recipe.builder.__qualname__, "key": key,
                "versions": {name: metadata.version(name) for name in LIBRARIES},
            }), encoding="utf-8")
            try:
                os.replace(tmp, final)
            except OSError:
                if not is_valid(final):  # not someone else's finished build
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # only left if the build failed or lost the rename
    return final
