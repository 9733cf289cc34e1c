"""Sentence alignment of an English text with its Belarusian or Russian counterpart.

Model
    A monotonic alignment is a sequence of *beads*: groups of 0-2 source sentences paired
    with 0-2 target sentences (1:1, 1:0, 0:1, 2:1, 1:2, 2:2). The best sequence minimises
    a sum of bead costs, found by dynamic programming over the grid of (source prefix,
    target prefix) cells, as in Gale & Church (1993).

Bead cost (lower is better), no model needed
    * a prior per bead type (merges and deletions are rare);
    * length: Gale-Church style, ``delta = (lt - c*ls) / sqrt(s2 * (ls + lt/c) / 2)`` in
      characters, cost ``delta**2 / 2``; ``c`` (target/source length ratio) starts from a
      per-language-pair value and is re-estimated on the document;
    * anchors, as rewards for what the two sides share: numbers (digits only, so
      "1,000" = "1 000"), names matched across scripts (``translit.name_key``: Lukashenko /
      Лукашенко / Лукашэнка) and Latin words left in the Cyrillic text, and punctuation that
      survives translation (? ! quotes, brackets, colons). Only matches are rewarded: every
      anchor sits in exactly one bead on any path, so penalising the unmatched ones would
      add the same constant to every path.
    * optional MT bridge (the idea of Bleualign, Sennrich & Volk 2010): when a machine
      translation of each source sentence exists, the cosine of character n-gram count
      vectors between the bridge text of the source side and the target side is rewarded.
      Final bead confidences then use sacrebleu's chrF on the same pair.

Speed
    The DP is restricted to a band of half-width ``w`` around the diagonal from (0, 0) to
    (n, m); every row is computed with numpy (the 0:1 bead, which chains along a row, is a
    prefix minimum). If the best path comes near the band edge, the band is doubled and the
    DP rerun, so a drifting alignment (a missing page) is still found. Work is O(n * w).

Confidence
    Every bead gets a score in [0, 1] from its own cost without the type prior (how well
    lengths, anchors and bridge agree), times a factor for the bead type: insertions and
    deletions (1:0, 0:1) are capped low so that they always become weak spots for review.
"""

from __future__ import annotations

import bisect
import math
import re
import zlib
from dataclasses import dataclass, field

import numpy as np
from sacrebleu.metrics import CHRF

from workflow.align.translit import name_key
from workflow.core.text import CYRILLIC, LATIN
from workflow.corpus.segment import split_sentences

BEAD_TYPES: tuple[tuple[int, int], ...] = ((1, 1), (1, 0), (0, 1), (2, 1), (1, 2), (2, 2))


@dataclass(frozen=True)
class Bead:
    """``src``/``tgt``: 0-based sentence indices (empty for a deletion/insertion);
    ``score``: confidence in [0, 1]."""

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float


@dataclass(frozen=True)
class Params:
    prior: dict[tuple[int, int], float] = field(
        default_factory=lambda: {(1, 1): 0.0, (1, 0): 4.5, (0, 1): 4.5, (2, 1): 3.0, (1, 2): 3.0, (2, 2): 6.0}
    )
    length_weight: float = 1.0
    anchor_weight: float = 1.5  # reward per matched anchor unit
    punct_weight: float = 0.5
    bridge_weight: float = 12.0
    bridge_floor: float = 0.3  # cosine below which a bridge match counts against a bead
    band: int = 40  # initial half-width of the DP band (sentences)
    conf_scale: float = 3.0  # confidence = exp(-max(0, cost_without_prior) / conf_scale)


# Target/source character ratio and variance per unit length, measured on NTREX-128
# (1,997 human 1:1 sentence pairs): en-ru c=1.11 s2=3.9, en-be c=1.03 s2=2.6.
LENGTH_MODEL: dict[tuple[str, str], tuple[float, float]] = {
    ("en", "ru"): (1.11, 4.0),
    ("en", "be"): (1.04, 3.0),
    ("be", "ru"): (1.07, 3.0),
}


def _length_model(src_lang: str, tgt_lang: str) -> tuple[float, float]:
    if (src_lang, tgt_lang) in LENGTH_MODEL:
        return LENGTH_MODEL[(src_lang, tgt_lang)]
    if (tgt_lang, src_lang) in LENGTH_MODEL:
        c, s2 = LENGTH_MODEL[(tgt_lang, src_lang)]
        return 1.0 / c, s2 / c
    return 1.0, 3.5


# ------------------------------------------------------------------ sentence features

_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d+)*")
_WORD = re.compile(r"[^\W\d_][\w'’ʼ-]*")
_PUNCT_CLASSES = ("?", "!", "\"“”«»„", "([", ":")


def _anchors(text: str) -> dict[str, float]:
    """Anchor key -> count: numbers (#), names (N, skeleton key), Latin words (L)."""
    out: dict[str, float] = {}
    for m in _NUMBER.finditer(text):
        key = "#" + re.sub(r"\D", "", m.group())
        out[key] = out.get(key, 0.0) + 1.0
    cyrillic = bool(CYRILLIC.search(text))
    for n, m in enumerate(_WORD.finditer(text)):
        w = m.group()
        if LATIN.match(w) and len(w) > 1:
            # Latin words: in Cyrillic text they were left untranslated (BBC, twp), so the
            # same word on the English side is strong evidence. English words are keyed
            # too; unmatched keys cost nothing, only shared ones are rewarded.
            key = "L" + w.lower()
            out[key] = out.get(key, 0.0) + 1.0
        left_in_latin = cyrillic and LATIN.match(w)  # also a name key, wherever it stands
        if not left_in_latin:
            if n == 0 and not (w.isupper() and len(w) > 1):
                continue  # a sentence-initial capital says nothing, unless an acronym
            if not w[0].isupper():
                continue
        key = name_key(w)
        if key is not None:
            out["N" + key] = out.get("N" + key, 0.0) + 1.0
    return out


def _shared(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(min(v, b[k]) for k, v in a.items() if k in b)


def _merge(dicts: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0.0) + v
    return out


def _punct(text: str) -> list[float]:
    counts = [float(sum(text.count(ch) for ch in cls)) for cls in _PUNCT_CLASSES]
    counts[2] = min(counts[2], 2.0)  # a quoted passage counts once whatever the quote style
    return counts


def _length(text: str) -> int:
    return len(" ".join(text.split()))


_NGRAM_DIM = 1024


def _ngram_vectors(texts: list[str]) -> np.ndarray:
    """Hashed character 3-gram counts (one row per text), for the MT bridge. The hash is
    CRC-32, not Python's ``hash`` (salted per process: bucket collisions, and so alignments,
    differed from one run to the next)."""
    rows, cols = [], []
    for r, t in enumerate(texts):
        s = " " + " ".join(t.lower().split()) + " "
        grams = [zlib.crc32(s[k : k + n].encode()) & (_NGRAM_DIM - 1) for n in (3,) for k in range(len(s) - n + 1)]
        cols.extend(grams)
        rows.extend([r] * len(grams))
    flat = np.bincount(np.asarray(rows, dtype=np.int64) * _NGRAM_DIM + np.asarray(cols, dtype=np.int64), minlength=len(texts) * _NGRAM_DIM)
    return np.sqrt(flat.reshape(len(texts), _NGRAM_DIM).astype(np.float32))


# ------------------------------------------------------------------ the band


class _Band:
    """Cells (i, j) with lo[i] <= j < lo[i] + W; arrays of shape (n+1, W)."""

    def __init__(self, n: int, m: int, w: int, centre: np.ndarray | None = None) -> None:
        self.n, self.m, self.w = n, m, w
        self.W = 2 * w + 1
        if centre is None:  # the diagonal
            centre = np.rint(np.arange(n + 1) * (m / max(n, 1))).astype(np.int64)
        self.lo = centre - w
        self.J = self.lo[:, None] + np.arange(self.W)[None, :]
        self.I = np.arange(n + 1)[:, None]

    @property
    def full(self) -> bool:
        return self.w >= max(self.n, self.m)

    def take(self, A: np.ndarray, da: int, db: int, fill: float) -> np.ndarray:
        """A at row i-da, column j-db, for every cell (i, j) of the band."""
        rows = self.I - da
        k = self.J - db - self.lo[np.clip(rows, 0, self.n)]
        ok = (rows >= 0) & (k >= 0) & (k < self.W)
        out = A[np.clip(rows, 0, self.n), np.clip(k, 0, self.W - 1)]
        return np.where(ok, out, fill)


def _pair_matrix(band: _Band, src_anchors: list[dict], tgt_anchors: list[dict]) -> np.ndarray:
    """P[i, k] = anchor weight shared by source i-1 and target lo[i]+k-1."""
    P = np.zeros((band.n + 1, band.W))
    index: dict[str, tuple[list[int], list[float]]] = {}
    for t, anchors in enumerate(tgt_anchors):
        for key, cnt in anchors.items():
            pos, cnts = index.setdefault(key, ([], []))
            pos.append(t)
            cnts.append(cnt)
    for s, anchors in enumerate(src_anchors):
        i = s + 1
        first, last = band.lo[i] - 1, band.lo[i] + band.W - 2  # target sentence range
        for key, cnt in anchors.items():
            hit = index.get(key)
            if not hit:
                continue
            pos, cnts = hit
            for q in range(bisect.bisect_left(pos, first), bisect.bisect_right(pos, last)):
                P[i, pos[q] + 1 - band.lo[i]] += min(cnt, cnts[q])
    return P


def _band_dots(band: _Band, A: np.ndarray, B: np.ndarray, chunk: int = 128) -> np.ndarray:
    """P[i, k] = A[i-1] . B[lo[i]+k-1] (0 outside the matrix)."""
    n, W = band.n, band.W
    P = np.zeros((n + 1, W), dtype=np.float32)
    Bpad = np.vstack([B, np.zeros((1, B.shape[1]), dtype=B.dtype)])  # row -1 -> zeros
    for start in range(1, n + 1, chunk):
        stop = min(n + 1, start + chunk)
        t = band.J[start:stop] - 1
        t = np.where((t >= 0) & (t < len(B)), t, len(B))
        P[start:stop] = np.einsum("rkd,rd->rk", Bpad[t], A[start - 1 : stop - 1])
    return P


# ------------------------------------------------------------------ bead costs


class _Scorer:
    def __init__(self, src, tgt, src_lang, tgt_lang, bridge, params: Params):
        self.p = params
        self.n, self.m = len(src), len(tgt)
        ls = np.array([_length(s) for s in src], float)
        lt = np.array([_length(t) for t in tgt], float)
        c0, self.s2 = _length_model(src_lang, tgt_lang)
        total = len(src) + len(tgt)
        c_doc = lt.sum() / max(ls.sum(), 1.0)
        c_doc = min(max(c_doc, 0.6 * c0), 1.6 * c0)
        self.c = (c_doc * total + c0 * 20) / (total + 20)
        self.cls = np.concatenate([[0.0], np.cumsum(ls)])
        self.clt = np.concatenate([[0.0], np.cumsum(lt)])
        self.src_anchors = [_anchors(s) for s in src]
        self.tgt_anchors = [_anchors(t) for t in tgt]
        # keep only keys that occur on both sides somewhere: the others can never match
        src_keys = set().union(*self.src_anchors)
        tgt_keys = set().union(*self.tgt_anchors)
        self.src_anchors = [{k: v for k, v in a.items() if k in tgt_keys} for a in self.src_anchors]
        self.tgt_anchors = [{k: v for k, v in a.items() if k in src_keys} for a in self.tgt_anchors]
        # rep_s[i]: sentences i-2 and i-1 share an anchor (only then can summed pairwise
        # matches of a 2-sentence span over-count)
        self.rep_s = np.array([False, False] + [bool(_shared(x, y)) for x, y in zip(self.src_anchors, self.src_anchors[1:])])
        self.rep_t = np.array([False, False] + [bool(_shared(x, y)) for x, y in zip(self.tgt_anchors, self.tgt_anchors[1:])])
        self.cps = np.vstack([np.zeros(len(_PUNCT_CLASSES)), np.cumsum([_punct(s) for s in src], axis=0)])
        self.cpt = np.vstack([np.zeros(len(_PUNCT_CLASSES)), np.cumsum([_punct(t) for t in tgt], axis=0)])
        self.bridge = None
        if bridge is not None:
            if len(bridge) != len(src):
                raise ValueError(f"bridge has {len(bridge)} sentences, source has {len(src)}")
            self.vb = _ngram_vectors(list(bridge))
            self.vt = _ngram_vectors(list(tgt))
            self.bridge = True

    def _exact_matches(self, pairs: np.ndarray, band: _Band, a: int, b: int) -> np.ndarray:
        """Summed pairwise matches over-count a name repeated in two sentences of a span;
        recount exactly (multiset intersection) where there is any match at all."""
        out = pairs.copy()
        risky = pairs > 0  # only where a key repeats inside a 2-sentence span
        if a == 2 and b == 2:
            risky &= self.rep_s[band.I] | self.rep_t[np.clip(band.J, 0, self.m)]
        elif a == 2:
            risky &= self.rep_s[band.I]
        else:
            risky &= self.rep_t[np.clip(band.J, 0, self.m)]
        src_span: dict[int, dict] = {}
        tgt_span: dict[int, dict] = {}
        for r, k in zip(*np.nonzero(risky)):
            j = int(band.J[r, k])
            if r not in src_span:
                src_span[r] = _merge(self.src_anchors[r - a : r])
            if j not in tgt_span:
                tgt_span[j] = _merge(self.tgt_anchors[j - b : j])
            out[r, k] = _shared(src_span[r], tgt_span[j])
        return out

    def costs(self, band: _Band) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per bead type: total cost and cost without the type prior, shape (n+1, W)."""
        I, J, n, m = band.I, band.J, self.n, self.m
        Ic = lambda a: np.clip(I - a, 0, n)  # noqa: E731
        Jc = lambda b: np.clip(J - b, 0, m)  # noqa: E731
        Jm = np.clip(J, 0, m)
        PA = _pair_matrix(band, self.src_anchors, self.tgt_anchors)
        if self.bridge:
            PB = _band_dots(band, self.vb, self.vt)
            qb = np.concatenate([[0.0], (self.vb * self.vb).sum(1)])
            qt = np.concatenate([[0.0], (self.vt * self.vt).sum(1)])
            adj_b = np.concatenate([[0.0, 0.0], (self.vb[1:] * self.vb[:-1]).sum(1)])
            adj_t = np.concatenate([[0.0, 0.0], (self.vt[1:] * self.vt[:-1]).sum(1)])
        totals, evidence = [], []
        for a, b in BEAD_TYPES:
            valid = (I >= a) & (J >= b) & (J <= m)
            ls = self.cls[I.clip(0, n)] - self.cls[Ic(a)]
            lt = self.clt[Jm] - self.clt[Jc(b)]
            cost = np.zeros(J.shape)
            if a and b:
                c = self.c
                delta = (lt - c * ls) / np.sqrt(self.s2 * (ls + lt / c) / 2 + 1e-9)
                cost += self.p.length_weight * delta**2 / 2
                pairs = sum(band.take(PA, da, db, 0.0) for da in range(a) for db in range(b))
                if a == 2 or b == 2:
                    pairs = self._exact_matches(pairs, band, a, b)
                cost -= self.p.anchor_weight * pairs
                ps = self.cps[I.clip(0, n)] - self.cps[Ic(a)]
                pt = self.cpt[Jm] - self.cpt[Jc(b)]
                cost -= self.p.punct_weight * np.minimum(ps, pt).sum(-1)
                if self.bridge:
                    dots = {(da, db): band.take(PB, da, db, 0.0) for da in range(a) for db in range(b)}
                    dot = sum(dots.values())
                    na = qb[I] + (qb[Ic(1)] + 2 * adj_b[I] if a == 2 else 0)
                    nb = qt[Jm] + (qt[Jc(1)] + 2 * adj_t[Jm] if b == 2 else 0)
                    norm = np.sqrt(na * nb)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        cos = dot / norm
                        # In a merge every member must be explained by the other side: a
                        # member's share of the match, scaled to be comparable with cos.
                        # Without this a 2:1 bead can swallow a deleted sentence.
                        if a == 2:
                            for da, q in ((0, qb[I]), (1, qb[Ic(1)])):
                                part = sum(dots[(da, db)] for db in range(b))
                                cos = np.where(q > 0, np.minimum(cos, part * np.sqrt(na) / (q * np.sqrt(nb))), cos)
                        if b == 2:
                            for db, q in ((0, qt[Jm]), (1, qt[Jc(1)])):
                                part = sum(dots[(da, db)] for da in range(a))
                                cos = np.where(q > 0, np.minimum(cos, part * np.sqrt(nb) / (q * np.sqrt(na))), cos)
                    cos = np.where(norm > 0, np.nan_to_num(cos, nan=0.0, posinf=0.0), self.p.bridge_floor)
                    cost -= self.p.bridge_weight * (cos - self.p.bridge_floor)
            evidence.append(np.where(valid, cost, np.inf))
            totals.append(np.where(valid, cost + self.p.prior[(a, b)], np.inf))
        return totals, evidence


# ------------------------------------------------------------------ dynamic programming


def _dp(band: _Band, totals: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    n, W = band.n, band.W
    D = np.full((n + 1, W), np.inf)
    back = np.full((n + 1, W), -1, dtype=np.int8)
    ins = BEAD_TYPES.index((0, 1))
    cols = np.arange(W)
    for i in range(n + 1):
        E = np.full(W, np.inf)
        choice = np.full(W, -1, dtype=np.int8)
        if i == 0:
            E[band.J[0] == 0] = 0.0
        for t, (a, b) in enumerate(BEAD_TYPES):
            if a == 0 or i < a:
                continue
            k = cols + (band.lo[i] - band.lo[i - a]) - b
            ok = (k >= 0) & (k < W)
            cand = np.where(ok, D[i - a][np.clip(k, 0, W - 1)], np.inf) + totals[t][i]
            better = cand < E
            E[better] = cand[better]
            choice[better] = t
        step = np.where(np.isfinite(totals[ins][i]), totals[ins][i], 0.0)
        S = np.cumsum(step)
        with np.errstate(invalid="ignore"):
            Di = S + np.minimum.accumulate(E - S)
        Di[~np.isfinite(totals[ins][i]) & ~np.isfinite(E)] = np.inf
        Di[band.J[i] > band.m] = np.inf
        chained = Di < E - 1e-9
        back[i] = np.where(chained, ins, choice)
        D[i] = Di
    return D, back


def _backtrace(band: _Band, back: np.ndarray) -> list[tuple[int, int, int]]:
    """(bead type, i, j) of the best path, in order."""
    i, j = band.n, band.m
    path = []
    while i > 0 or j > 0:
        t = int(back[i, j - band.lo[i]])
        if t < 0:
            raise RuntimeError("alignment backtrace fell off the band")
        path.append((t, i, j))
        a, b = BEAD_TYPES[t]
        i, j = i - a, j - b
    return path[::-1]


def _path_centre(path: list[tuple[int, int, int]], n: int) -> np.ndarray:
    rows = np.array([0] + [i for _, i, _ in path], dtype=float)
    cols = np.array([0] + [j for _, _, j in path], dtype=float)
    return np.rint(np.interp(np.arange(n + 1), rows, cols)).astype(np.int64)


def _near_edge(band: _Band, path: list[tuple[int, int, int]]) -> bool:
    for _, i, j in path:
        k = j - band.lo[i]
        if (k <= 1 and band.lo[i] > 0) or (k >= band.W - 2 and band.lo[i] + band.W - 1 < band.m):
            return True
    return False


# ------------------------------------------------------------------ public API


def align(
    src_sents: list[str],
    tgt_sents: list[str],
    src_lang: str = "en",
    tgt_lang: str = "be",
    bridge: list[str] | None = None,
    params: Params | None = None,
) -> list[Bead]:
    """Monotonic N:M alignment of two sentence lists.

    ``bridge``: optional machine translation (into ``tgt_lang``) of each source sentence,
    same length as ``src_sents`` ("" where missing). Returns beads covering every sentence
    of both sides exactly once, in order.
    """
    params = params or Params()
    n, m = len(src_sents), len(tgt_sents)
    if n == 0 or m == 0:
        return [Bead((i,), (), 0.0) for i in range(n)] + [Bead((), (j,), 0.0) for j in range(m)]
    scorer = _Scorer(src_sents, tgt_sents, src_lang, tgt_lang, bridge, params)
    w = params.band
    centre = None
    while True:
        band = _Band(n, m, min(w, max(n, m)), centre)
        totals, evidence = scorer.costs(band)
        _, back = _dp(band, totals)
        path = _backtrace(band, back)
        if band.full or not _near_edge(band, path):
            break
        # The path hit the band edge: follow it (recentre the band on it) and, if it
        # already was following one, also widen the band.
        if centre is not None:
            w *= 2
        centre = _path_centre(path, n)
    beads = []
    for t, i, j in path:
        a, b = BEAD_TYPES[t]
        ev = float(evidence[t][i, j - band.lo[i]])
        beads.append(Bead(tuple(range(i - a, i)), tuple(range(j - b, j)), _confidence(ev, (a, b), params)))
    if bridge is not None:
        beads = _bridge_confidence(beads, bridge, tgt_sents)
    return beads


_TYPE_FACTOR = {(1, 1): 1.0, (2, 1): 0.9, (1, 2): 0.9, (2, 2): 0.8, (1, 0): 0.3, (0, 1): 0.3}


def _confidence(evidence: float, kind: tuple[int, int], params: Params) -> float:
    return round(_TYPE_FACTOR[kind] * math.exp(-max(0.0, evidence) / params.conf_scale), 4)


def _bridge_confidence(beads: list[Bead], bridge: list[str], tgt: list[str]) -> list[Bead]:
    """Blend the confidence with sacrebleu chrF between the bridge MT and the target."""
    chrf = CHRF()
    out = []
    for bead in beads:
        mt = " ".join(bridge[i] for i in bead.src if bridge[i])
        if bead.src and bead.tgt and mt:
            ref = " ".join(tgt[j] for j in bead.tgt)
            score = chrf.sentence_score(mt, [ref]).score / 100
            conf = 0.5 * bead.score + 0.5 * min(1.0, score / 0.5)
            out.append(Bead(bead.src, bead.tgt, round(conf, 4)))
        else:
            out.append(bead)
    return out


# ------------------------------------------------------------------ paragraph mode


def align_paragraph(
    en_sents: list[str], target_paragraph: str, tgt_lang: str, src_lang: str = "en"
) -> tuple[list[str], list[Bead]]:
    """Split a translated paragraph into sentences and align them to ``en_sents``.
    Returns (target sentences, beads)."""
    tgt_sents = split_sentences(target_paragraph, tgt_lang)
    return tgt_sents, align(en_sents, tgt_sents, src_lang, tgt_lang)


def spread_targets(beads: list[Bead], tgt_sents: list[str], n_src: int) -> list[str]:
    """Target text per source sentence, from beads that cover ``n_src`` source sentences.

    * 1:1 and 1:2: the target sentence(s), joined by a space;
    * 2:1 and 2:2: all the bead's target text on its first source sentence, "" on the
      second (the row of the second sentence then reads as "merged into the one above");
    * 1:0: "";
    * 0:1: the unmatched target sentence is appended to the previous source sentence's text
      (prepended to the first one when nothing precedes it), so no translated text is lost.
    """
    out = [""] * n_src
    pending: list[str] = []  # 0:1 text seen before any source sentence
    last = None
    for bead in beads:
        text = " ".join(tgt_sents[j] for j in bead.tgt)
        if not bead.src:
            if last is None:
                pending.append(text)
            else:
                out[last] = (out[last] + " " + text).strip()
            continue
        first = bead.src[0]
        out[first] = text
        last = first
    if pending:
        target = 0 if n_src else None
        if target is not None:
            out[target] = " ".join(pending + ([out[target]] if out[target] else []))
    return out


def align_paragraph_translation(en_sents: list[str], target_paragraph: str, tgt_lang: str) -> list[str]:
    """Paragraph mode: per English sentence, the part of the translated paragraph that
    renders it (see ``spread_targets`` for merges and insertions)."""
    tgt_sents, beads = align_paragraph(en_sents, target_paragraph, tgt_lang)
    return spread_targets(beads, tgt_sents, len(en_sents))
