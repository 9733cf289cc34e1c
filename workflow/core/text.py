"""Text helpers every stage shares: the one decoder of bytes a user gave us, and the one
definition of words, Latin and Cyrillic letters.

:func:`decode` turns a file's bytes into text or raises :class:`DecodeError` (an
InputError naming the file and line). UTF-8 with or without BOM and UTF-16/32 with BOM
are always accepted. With ``legacy=True`` (corpus documents) UTF-16 without BOM and the
legacy Cyrillic encodings (cp1251, koi8-r) detected with charset-normalizer are accepted
too; anything else is refused, never turned into mojibake.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from charset_normalizer import from_bytes

from workflow.core.errors import InputError
from workflow.core.files import read_limited

# a word: letters, optionally joined by apostrophes/hyphens (Belarusian з'ява, Russian кто-то)
WORD = re.compile(r"[^\W\d_]+(?:['’ʼ\-][^\W\d_]+)*")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")


def words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of every word of ``text``."""
    return [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]


def is_cyrillic(word: str) -> bool:
    return bool(CYRILLIC.search(word)) and not LATIN.search(word)


def is_mixed(word: str) -> bool:
    """A word part (between hyphens/apostrophes) holding both Latin and Cyrillic letters."""
    return any(CYRILLIC.search(p) and LATIN.search(p) for p in re.split(r"['’ʼ\-]", word))


# ---------------------------------------------------------------- decoding

LEGACY_ENCODINGS = ("cp1251", "koi8_r", "koi8-r", "windows-1251", "mac_cyrillic", "cp866", "iso8859_5")
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class DecodeError(InputError):
    """Bytes that are not text we accept; ``line`` and ``reason`` for reports per line."""

    def __init__(self, name: str, line: int, reason: str, hint: str | None = None) -> None:
        super().__init__(f"{name}:{line}: {reason}" if line else f"{name}: {reason}", hint=hint)
        self.line = line
        self.reason = reason


def decode(data: bytes, name: str, *, legacy: bool = False) -> tuple[str, str]:
    """(text, encoding) of ``data``, or :class:`DecodeError` naming ``name`` and the line."""
    if not data.strip():
        return "", "empty"
    for bom, enc in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as e:
                raise DecodeError(name, 0, f"starts with a {enc} byte-order mark but is not valid {enc} ({e.reason})") from None
    if legacy and b"\x00" in data[:4096] and _looks_utf16(data):
        # UTF-16 without BOM: NUL every other byte in ASCII-heavy text
        enc = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            pass
    if not legacy and b"\x00" in data[:4096] and (_looks_utf16(data) or _looks_binary_nul(data)):
        # a stray NUL in a text (a reviewer's cell) is left to the caller, which names its line
        raise DecodeError(name, 0, "looks like a binary or UTF-16 file; save it as UTF-8 text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        error = e
    line = data[: error.start].count(b"\n") + 1
    byte = f"0x{data[error.start]:02x}"
    if not legacy:
        col = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise DecodeError(name, line, f"not valid UTF-8 (byte {byte} at column {col}): save the file as UTF-8",
                          hint="Convert the file to UTF-8.")
    if _looks_binary(data):
        raise DecodeError(name, 0, "looks like a binary file, not text",
                          hint="Only plain-text documents (.txt, .md) belong in corpus/.")
    damaged = data.decode("utf-8", errors="replace")
    valid = sum(1 for c in damaged if ord(c) > 127 and c != "\ufffd")
    if valid >= 2 * damaged.count("\ufffd"):  # mostly real UTF-8 sequences, a few bad bytes
        raise DecodeError(name, line, f"damaged UTF-8 (byte {byte} is not valid UTF-8, other characters are)",
                          hint="Fix or re-save the file as UTF-8.")
    best = from_bytes(data, cp_isolation=["cp1251", "koi8_r", "utf_8"]).best()
    if best is not None and best.encoding in LEGACY_ENCODINGS and _plausible_cyrillic(str(best)):
        return str(best), best.encoding
    raise DecodeError(name, line, f"not valid UTF-8 (byte {byte}) and not a recognised legacy Cyrillic encoding",
                      hint="Re-save the file as UTF-8.")


def _plausible_cyrillic(text: str) -> bool:
    """A legacy decoding is believed only if its non-ASCII characters are mostly Cyrillic
    letters and typographic punctuation: any byte string "decodes" as cp1251."""
    non_ascii = [c for c in text if ord(c) > 127]
    good = sum(1 for c in non_ascii if CYRILLIC.match(c) or c in "«»—–…№“”„’‘ ")
    if not non_ascii or good / len(non_ascii) < 0.9:
        return False
    letters = [c for c in text if c.isalpha()]
    cyrillic = sum(1 for c in letters if CYRILLIC.match(c))
    if cyrillic < 0.2 * len(letters):  # English with a few stray bytes is damage, not cp1251
        return False
    # Latin-1 text read as cp1251 gives words like "cafй": Cyrillic glued to Latin letters
    found = [w for w in re.findall(r"[^\W\d_]+", text) if CYRILLIC.search(w)]
    mixed = sum(1 for w in found if re.search("[A-Za-z]", w))
    return mixed <= 0.2 * len(found)


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4096]
    return sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4


def _looks_binary_nul(data: bytes) -> bool:
    """More than 1 % NUL bytes at the start: not text with a stray NUL in it."""
    sample = data[:4096]
    return sample.count(0) > max(1, len(sample) // 100)


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > len(sample) * 0.05


MAX_LINES_FILE_BYTES = 200 << 20  # a test set of a million sentences is ~150 MB
STDIN = Path("/dev/stdin")  # read as a stream; any other pipe, socket or device is refused


def read_lines(path: str | Path) -> list[str]:
    """Lines of a UTF-8 text file, one segment per line (BOM, CRLF and CR tolerated); an
    empty line is an empty segment. InputError names the file (and line); a file over
    MAX_LINES_FILE_BYTES, a pipe (but standard input) or a device is refused unread."""
    p = Path(path)
    data = read_limited(p, MAX_LINES_FILE_BYTES, "text file", stream=p == STDIN)
    text, _ = decode(data, str(p))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines
