"""The tiny models are byte-reproducible: each fixture's recipe, built again into a fresh
folder, gives every file of the fixture's copy in the disk cache byte for byte (that copy
was built by another call, in this session or an earlier one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import RECIPES
from workflow.testing.cache import VALID_MARKER


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != VALID_MARKER}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "trained_marian" else n for n in RECIPES])
def test_each_model_is_byte_reproducible(tmp_path, request, name):
    cached = files(request.getfixturevalue(name))
    again = files(RECIPES[name].build(tmp_path / name))
    assert len(again) >= 5 and sorted(again) == sorted(cached)
    assert [f for f in again if again[f] != cached[f]] == []
