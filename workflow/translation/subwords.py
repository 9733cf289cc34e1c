"""Subword tokenizers without transformers (and therefore without torch).

``import transformers`` pulls in torch: 2-4 s and ~200 MB before the first sentence, while
the CTranslate2 engine itself needs neither. This module rebuilds, from a model folder's
files, the exact token sequences and decoded text that transformers 5.23's tokenizers
produce for the model families of :mod:`workflow.translation.families`:

* **Marian** (``MarianTokenizer``, a Python tokenizer over two sentencepiece models and
  ``vocab.json``). Encoding: the text is split on the added/special tokens (``</s>``,
  ``<unk>``, ``<pad>`` ...; kept whole), each remaining chunk loses a leading language code
  (``>>bel<<``, ``remove_language_code``) that is kept as one token, the rest goes through
  the *source* sentencepiece model; pieces map to ids through ``vocab.json`` (``<unk>``
  for unknown pieces) and ``</s>`` is appended. Decoding: special ids are dropped, ids map
  back through ``vocab.json`` and the pieces are joined by the *source* sentencepiece model
  (``_decode`` uses it whenever the vocabularies are shared), ``▁`` -> space, stripped.
* **NLLB** (``NllbTokenizer``, a ``tokenizers`` backend). transformers does not use
  ``tokenizer.json`` as is: it rebuilds a BPE model from its vocabulary and merges with a
  Metaspace pre-tokenizer/decoder, the Precompiled normaliser (if any) followed by
  ``" {2,}" -> " "``, adds the special tokens and sets the post-processor to
  ``<src_lang> … </s>`` (``legacy_behaviour``: ``… </s> <src_lang>``). Done the same here.
* **M2M-100**: transformers 5.23's ``M2M100Tokenizer`` is a Python sentencepiece tokenizer
  that this module does not replicate (no tiny model to prove it against): the engine falls
  back to transformers.

Anything outside what was checked against transformers (separate Marian vocabularies,
added tokens with strip flags, lower-casing, special tokens missing from the vocabulary,
an unknown normaliser...) raises :class:`Unsupported`, and the caller falls back to
transformers. Equality with transformers is asserted by tests/unit/translation/test_subwords.py.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from pathlib import Path

import sentencepiece
from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE

VERY_LARGE_INTEGER = int(1e30)  # transformers' model_max_length when none is configured
SPECIAL_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


class Unsupported(Exception):
    """This folder's tokenizer is not one this module reproduces exactly."""


class Subwords:
    """What the CTranslate2 engine needs from a tokenizer."""

    eos_token: str = "</s>"
    model_max_length: int = VERY_LARGE_INTEGER
    backend: str = "?"

    def encode(self, texts: Sequence[str]) -> list[list[int]]:  # pragma: no cover - interface
        """Token ids of each text, special tokens added (``tokenizer(texts)["input_ids"]``)."""
        raise NotImplementedError

    def ids_to_tokens(self, ids: Sequence[int]) -> list[str]:  # pragma: no cover
        raise NotImplementedError

    def tokens_to_ids(self, tokens: Sequence[str]) -> list[int]:  # pragma: no cover
        raise NotImplementedError

    def decode(self, ids: Sequence[int]) -> str:  # pragma: no cover
        """``tokenizer.decode(ids, skip_special_tokens=True)``."""
        raise NotImplementedError


# ---------------------------------------------------------------- helpers


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise Unsupported(f"{path.name}: {e}") from None


def _content(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    raise Unsupported(f"special token {value!r}")


def _flags(value) -> dict:
    return value if isinstance(value, dict) else {}


def _tokenizer_config(folder: Path) -> dict:
    cfg = _json(folder / "tokenizer_config.json") if (folder / "tokenizer_config.json").exists() else {}
    if cfg.get("split_special_tokens") or cfg.get("do_lower_case") or cfg.get("auto_map"):
        raise Unsupported("split_special_tokens / do_lower_case / remote code")
    return cfg


def _special_map(folder: Path, cfg: dict) -> dict:
    """Named special tokens: tokenizer_config.json over special_tokens_map.json."""
    smap = _json(folder / "special_tokens_map.json") if (folder / "special_tokens_map.json").exists() else {}
    out = {}
    for key in SPECIAL_KEYS:
        value = cfg.get(key, smap.get(key))
        if value is not None:
            out[key] = value
    extra = cfg.get("extra_special_tokens", cfg.get("additional_special_tokens", smap.get("additional_special_tokens")))
    if isinstance(extra, dict):  # v5 named extra tokens
        raise Unsupported("named extra_special_tokens")
    out["_extra"] = list(extra or [])
    return out


def _max_length(cfg: dict, default: int = VERY_LARGE_INTEGER) -> int:
    value = cfg.get("model_max_length", default)
    return int(value) if isinstance(value, (int, float)) else default


# ---------------------------------------------------------------- Marian


class MarianSubwords(Subwords):
    backend = "sentencepiece"

    def __init__(self, folder: Path) -> None:
        cfg = _tokenizer_config(folder)
        if cfg.get("tokenizer_class") not in (None, "MarianTokenizer"):
            raise Unsupported(f"tokenizer_class {cfg.get('tokenizer_class')}")
        if cfg.get("separate_vocabs") or cfg.get("sp_model_kwargs") or (folder / "added_tokens.json").exists():
            raise Unsupported("separate vocabularies / sentencepiece options / added_tokens.json")
        for name in ("source.spm", "target.spm", "vocab.json"):
            if not (folder / name).is_file():
                raise Unsupported(f"no {name}")
        self.encoder: dict[str, int] = _json(folder / "vocab.json")
        self.decoder = {v: k for k, v in self.encoder.items()}
        specials = _special_map(folder, cfg)
        specials.setdefault("unk_token", "<unk>")
        specials.setdefault("eos_token", "</s>")
        specials.setdefault("pad_token", "<pad>")
        self.unk_token = _content(specials["unk_token"])
        self.eos_token = _content(specials["eos_token"])
        if self.unk_token not in self.encoder or self.eos_token not in self.encoder:
            raise Unsupported("<unk> or </s> not in vocab.json")
        special_tokens = [_content(v) for k, v in specials.items() if k != "_extra"] + [_content(v) for v in specials["_extra"]]
        added: dict[str, int] = {}
        for index, tok in (cfg.get("added_tokens_decoder") or {}).items():
            if any(tok.get(f) for f in ("lstrip", "rstrip", "single_word")):
                raise Unsupported(f"added token {tok.get('content')!r} with strip flags")
            added[tok["content"]] = int(index)
            if tok.get("special"):
                special_tokens.append(tok["content"])
        named = [v for k, v in specials.items() if k != "_extra"] + specials["_extra"]
        if any(_flags(v).get(f) for v in named for f in ("lstrip", "rstrip", "single_word")):
            raise Unsupported("special token with strip flags")
        for t in special_tokens:
            added.setdefault(t, self.encoder.get(t, -1))
        for t, i in added.items():
            if self.encoder.get(t) != i:  # an added id outside vocab.json: not reproduced here
                raise Unsupported(f"added token {t!r} id {i} is not its vocab.json id")
        if any(a != b and a in b for a in added for b in added):
            raise Unsupported("overlapping added tokens")
        self.special_tokens = set(special_tokens)
        self.special_ids = {self.encoder[t] for t in self.special_tokens}
        self._split = re.compile("(" + "|".join(re.escape(t) for t in sorted(added, key=len, reverse=True)) + ")") if added else None
        self._added = set(added)
        self.clean_up = bool(cfg.get("clean_up_tokenization_spaces", False))
        self.model_max_length = _max_length(cfg, 512)
        self.spm = sentencepiece.SentencePieceProcessor()
        self.spm.Load(str(folder / "source.spm"))  # encoding, and decoding (shared vocabularies)

    def _tokenize(self, text: str) -> list[str]:
        out: list[str] = []
        for chunk in (self._split.split(text) if self._split else [text]):
            if not chunk:
                continue
            if chunk in self._added:
                out.append(chunk)
                continue
            if chunk.startswith(">>") and (end := chunk.find("<<")) != -1:  # remove_language_code
                out.append(chunk[: end + 2])
                chunk = chunk[end + 2:]
            out.extend(self.spm.encode(chunk, out_type=str))
        return out

    def encode(self, texts):
        return [self.tokens_to_ids(self._tokenize(t)) + [self.encoder[self.eos_token]] for t in texts]

    def tokens_to_ids(self, tokens):
        unk = self.encoder[self.unk_token]
        return [self.encoder.get(t, unk) for t in tokens]

    def _id_to_token(self, i: int) -> str:
        if i in self.decoder:
            return self.decoder[i]
        return self.spm.IdToPiece(i) or self.unk_token

    def ids_to_tokens(self, ids):
        return [self._id_to_token(int(i)) for i in ids]

    def decode(self, ids):
        tokens = [self._id_to_token(int(i)) for i in ids if int(i) not in self.special_ids]
        out, current = "", []
        for token in tokens:  # MarianTokenizer.convert_tokens_to_string
            if token in self.special_tokens:
                out += self.spm.decode_pieces(current) + token + " "
                current = []
            else:
                current.append(token)
        out += self.spm.decode_pieces(current)
        text = out.replace("▁", " ").strip()
        if self.clean_up:
            text = clean_up_tokenization(text)
        return text


def clean_up_tokenization(text: str) -> str:
    """transformers' ``clean_up_tokenization``."""
    for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                 (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        text = text.replace(a, b)
    return text


# ---------------------------------------------------------------- NLLB


class NllbSubwords(Subwords):
    backend = "tokenizers"

    def __init__(self, folder: Path, src_lang: str | None = None) -> None:
        cfg = _tokenizer_config(folder)
        if cfg.get("tokenizer_class") not in ("NllbTokenizer", "NllbTokenizerFast"):
            raise Unsupported(f"tokenizer_class {cfg.get('tokenizer_class')}")
        if not (folder / "tokenizer.json").is_file():
            raise Unsupported("no tokenizer.json")
        if cfg.get("clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output"):
            raise Unsupported("clean-up on BPE")
        tj = _json(folder / "tokenizer.json")
        model = tj.get("model") or {}
        if model.get("type") != "BPE" or not isinstance(model.get("vocab"), dict) or tj.get("truncation") or tj.get("padding"):
            raise Unsupported("tokenizer.json is not a plain BPE model")
        specials = _special_map(folder, cfg)
        defaults = dict(bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                        pad_token="<pad>", mask_token="<mask>")
        for k, v in defaults.items():
            specials.setdefault(k, v)
        if not specials["_extra"]:
            raise Unsupported("no language codes in tokenizer_config.json (transformers' built-in list)")
        unk = _content(specials["unk_token"])
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model.get("merges", [])]
        tok = Tokenizer(BPE(vocab=model["vocab"], merges=merges, dropout=None, unk_token=unk, fuse_unk=True, byte_fallback=False))
        charsmap = None
        norm = tj.get("normalizer")
        if norm:
            for n in (norm["normalizers"] if norm.get("type") == "Sequence" else norm if isinstance(norm, list) else [norm]):
                if n.get("type") == "Precompiled" and "precompiled_charsmap" in n:
                    charsmap = base64.b64decode(n["precompiled_charsmap"])
                    break
        if charsmap is not None:
            tok.normalizer = normalizers.Sequence([normalizers.Precompiled(charsmap), normalizers.Replace(Regex(r" {2,}"), " ")])
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)

        # added tokens, as transformers adds them: tokenizer_config's added_tokens_decoder (by
        # index), then the named special tokens, then the extra ones (language codes)
        to_add: list = []
        seen: set[str] = set()
        for _, t in sorted((cfg.get("added_tokens_decoder") or {}).items(), key=lambda x: int(x[0])):
            to_add.append(AddedToken(t["content"], single_word=t.get("single_word", False), lstrip=t.get("lstrip", False),
                                     rstrip=t.get("rstrip", False), normalized=t.get("normalized", True), special=t.get("special", False)))
            seen.add(t["content"])
        for key in SPECIAL_KEYS:
            value = specials[key]
            content = _content(value)
            if content in seen:
                continue
            if isinstance(value, dict):
                raise Unsupported(f"{key} given with flags")
            if key == "mask_token":
                to_add.append(AddedToken(content, normalized=True, lstrip=True, special=True))
            else:
                to_add.append(AddedToken(content, special=True))
            seen.add(content)
        for value in specials["_extra"]:
            content = _content(value)
            if content not in seen:
                if isinstance(value, dict):
                    raise Unsupported("extra special token given with flags")
                to_add.append(AddedToken(content, special=True))
                seen.add(content)
        tok.add_tokens(to_add)
        # the file was written by transformers from the same construction: its added tokens must agree
        for t in tj.get("added_tokens", []):
            if tok.token_to_id(t["content"]) != t["id"]:
                raise Unsupported(f"added token {t['content']!r}: id differs from tokenizer.json")
        if len(tj.get("added_tokens", [])) != len(seen):
            raise Unsupported("added tokens differ from tokenizer.json")

        src_lang = src_lang or cfg.get("src_lang") or "eng_Latn"
        self.eos_token = _content(specials["eos_token"])
        eos_id, lang_id = tok.token_to_id(self.eos_token), tok.token_to_id(src_lang)
        if eos_id is None or lang_id is None:
            raise Unsupported(f"{self.eos_token!r} or {src_lang!r} not in the vocabulary")
        single = ["$A", self.eos_token, src_lang] if cfg.get("legacy_behaviour", False) else [src_lang, "$A", self.eos_token]
        pair = ["$A", "$B", self.eos_token, src_lang] if cfg.get("legacy_behaviour", False) else [src_lang, "$A", "$B", self.eos_token]
        tok.post_processor = processors.TemplateProcessing(single=single, pair=pair,
                                                           special_tokens=[(self.eos_token, eos_id), (src_lang, lang_id)])
        tok.encode_special_tokens = False
        tok.no_truncation()
        tok.no_padding()
        self.tok = tok
        self.unk_id = tok.token_to_id(unk)
        self.model_max_length = _max_length(cfg)

    def encode(self, texts):
        return [e.ids for e in self.tok.encode_batch(list(texts), add_special_tokens=True)]

    def ids_to_tokens(self, ids):
        return [self.tok.id_to_token(int(i)) for i in ids]

    def tokens_to_ids(self, tokens):
        out = []
        for t in tokens:
            i = self.tok.token_to_id(t)
            out.append(self.unk_id if i is None else i)
        return out

    def decode(self, ids):
        return self.tok.decode([int(i) for i in ids], skip_special_tokens=True)


# ---------------------------------------------------------------- transformers (fallback)


class TransformersSubwords(Subwords):
    """The reference: transformers' AutoTokenizer (imports torch)."""

    backend = "transformers"

    def __init__(self, folder: Path, **kwargs) -> None:
        # here: the fallback alone needs transformers (which imports torch: 2-4 s, ~200 MB)
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), **kwargs)
        self.eos_token = self.tokenizer.eos_token
        self.model_max_length = getattr(self.tokenizer, "model_max_length", VERY_LARGE_INTEGER)

    def encode(self, texts):
        return self.tokenizer(list(texts), add_special_tokens=True)["input_ids"]

    def ids_to_tokens(self, ids):
        return self.tokenizer.convert_ids_to_tokens(list(ids))

    def tokens_to_ids(self, tokens):
        return self.tokenizer.convert_tokens_to_ids(list(tokens))

    def decode(self, ids):
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)


def fast_subwords(folder: Path, family: str, **kwargs) -> Subwords:
    """The torch-free tokenizer of ``folder`` (a :mod:`workflow.translation.families` family name), or
    :class:`Unsupported`."""
    folder = Path(folder)
    if family == "marian":
        if kwargs:
            raise Unsupported(f"tokenizer options {kwargs}")
        return MarianSubwords(folder)
    if family == "nllb":
        if set(kwargs) - {"src_lang"}:
            raise Unsupported(f"tokenizer options {kwargs}")
        return NllbSubwords(folder, kwargs.get("src_lang"))
    raise Unsupported(f"family {family!r}")


def load_subwords(folder: Path, family: str, **kwargs) -> Subwords:
    """The torch-free tokenizer when this module reproduces the folder's tokenizer exactly,
    else transformers' (the reference)."""
    try:
        return fast_subwords(folder, family, **kwargs)
    except Exception:  # noqa: BLE001 - Unsupported, or files this module cannot read: transformers decides
        return TransformersSubwords(folder, **kwargs)
