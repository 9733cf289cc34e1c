"""Apertium bel<->rus (Debian ``apertium`` + ``apertium-bel-rus``): batched translation and
morphological analysis through one subprocess pipeline per call.

The pipeline is read from the installed pair's mode file (``<datadir>/modes/<pair>.mode``,
the same shell pipeline the ``apertium`` script runs), split into its stages and chained
with ``subprocess`` (no shell). The ``apertium-tagger`` stage is replaced with
``cg-proc -1 -n <the pair's .rlx.bin>`` (keep the first reading left by the constraint
grammar): the shipped rus->bel tagger aborts on many inputs and then a whole batch comes
back empty; the replacement gives the same output wherever the tagger works. Texts are
one per line (line breaks inside a text become spaces); unknown words are copied
through without the ``*`` mark (``-n`` generation).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

PAIRS = ("bel-rus", "rus-bel")
DATADIR = Path(os.environ.get("APERTIUM_DATADIR", "/usr/share/apertium"))
TIMEOUT = 600  # seconds for one batch (about 1,500 sentences/s on one core)


class ApertiumUnavailable(RuntimeError):
    """Apertium or the bel-rus pair is not installed (the message says what is missing)."""


def mode_file(pair: str) -> Path:
    return DATADIR / "modes" / f"{pair}.mode"


@lru_cache(maxsize=4)
def stages(pair: str) -> tuple[tuple[str, ...], ...]:
    """The pair's pipeline as argument lists, tagger replaced (see the module docstring).

    Raises ApertiumUnavailable naming what is missing."""
    path = mode_file(pair)
    if not path.is_file():
        raise ApertiumUnavailable(f"Apertium pair {pair} not installed ({path} missing; Debian: apertium-bel-rus)")
    tokens = shlex.split(path.read_text(encoding="utf-8").replace("$1", "-n"))
    out: list[tuple[str, ...]] = []
    cmd: list[str] = []
    for tok in tokens + ["|"]:
        if tok != "|":
            cmd.append(tok)
            continue
        if cmd[0] == "apertium-tagger":
            rlx = next((a for stage in out for a in stage if a.endswith(".rlx.bin")), None)
            if rlx is None:
                raise ApertiumUnavailable(f"{path}: a tagger stage without a constraint grammar before it")
            cmd = ["cg-proc", "-1", "-n", rlx]
        out.append(tuple(a for a in cmd if a != "$2"))
        cmd = []
    for tool in {s[0] for s in out} | {"apertium-destxt", "apertium-retxt"}:
        if shutil.which(tool) is None:
            raise ApertiumUnavailable(f"{tool} not found (Debian: apertium, lttoolbox, cg3)")
    return tuple(out)


def available(pair: str = "bel-rus") -> str | None:
    """None when ``pair`` can run, else why not."""
    try:
        stages(pair)
    except ApertiumUnavailable as e:
        return str(e)
    return None


def _run(commands: Sequence[Sequence[str]], text: str) -> str:
    """Chain ``commands`` (stdout to stdin), feed ``text``, return the last stage's output."""
    procs: list[subprocess.Popen] = []
    for cmd in commands:
        stdin = procs[-1].stdout if procs else subprocess.PIPE
        procs.append(subprocess.Popen(list(cmd), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        if len(procs) > 1:
            procs[-2].stdout.close()  # the next stage owns it now

    def write() -> None:  # from a thread, so a full output pipe cannot block the writer
        try:
            procs[0].stdin.write(text.encode("utf-8"))
        except BrokenPipeError:
            pass
        finally:
            procs[0].stdin.close()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        out = procs[-1].stdout.read()
        for p in procs:
            p.wait(timeout=TIMEOUT)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        writer.join(timeout=5)
    bad = [(c[0], p.returncode) for c, p in zip(commands, procs) if p.returncode]
    if bad:
        raise RuntimeError(f"apertium stage {bad[0][0]} failed (exit code {bad[0][1]})")
    return out.decode("utf-8", "replace")


def _lines(texts: Sequence[str]) -> str:
    return "".join(re.sub(r"\s+", " ", t).strip() + "\n" for t in texts)


def translate(texts: Sequence[str], pair: str) -> list[str]:
    """Translate ``texts`` with the Apertium ``pair`` ("bel-rus" or "rus-bel") in one call.

    Raises ApertiumUnavailable when the pair is not installed."""
    if pair not in PAIRS:
        raise ValueError(f"unknown Apertium pair {pair!r}; known: {', '.join(PAIRS)}")
    if not texts:
        return []
    pipeline = [("apertium-destxt", "-n"), *stages(pair), ("apertium-retxt",)]
    out = _run(pipeline, _lines(texts)).split("\n")
    if len(out) < len(texts):
        raise RuntimeError(f"apertium {pair} returned {len(out)} lines for {len(texts)} texts")
    return [o.strip() for o in out[: len(texts)]]


_READING = re.compile(r"\^([^/$]*)((?:/[^/$]*)*)\$")


def analyse(words: Sequence[str], lang: str) -> dict[str, set[str]]:
    """Lemmas of each word by the pair's morphological analyser (``lt-proc`` on the
    ``automorf.bin`` of bel-rus for "be", of rus-bel for "ru"), one call for all words;
    readings as a proper noun (``<np>``) are left out. A word the analyser does not know
    (or knows only as a name) gets an empty set."""
    pair = {"be": "bel-rus", "ru": "rus-bel"}[lang]
    analyser = stages(pair)[0]  # lt-proc -w <pair>.automorf.bin
    uniq = list(dict.fromkeys(w for w in words if w.strip()))
    if not uniq:
        return {}
    out = _run([analyser], "".join(f"{w}\n" for w in uniq)).split("\n")
    result: dict[str, set[str]] = {}
    for word, line in zip(uniq, out):
        lemmas: set[str] = set()
        for m in _READING.finditer(line):
            for reading in m.group(2).split("/")[1:]:
                if reading and not reading.startswith("*") and "<np>" not in reading:
                    lemmas.add(reading.split("<", 1)[0].lower())
        result[word] = lemmas
    return result
