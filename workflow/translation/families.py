"""Model families: how each kind of translation model is told the target language.

A family is detected from a model folder's ``config.json`` and tokenizer files; it knows
the tokenizer's source language, the text given to the tokenizer (multi-target Marian
prepends ``>>bel<<``), the forced first decoder token (NLLB, M2M-100) and which targets
the model supports. Families live in a small registry (``@register``): adding a family
touches this file only.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import ClassVar

from workflow.core.errors import ModelNotAvailable
from workflow.core.langs import language
from workflow.core.registry import Registry

FAMILIES = Registry("model family")
register = FAMILIES.register  # @register("marian") class MarianFamily(ModelFamily): ...


class ModelFamily:
    """How one family of models is asked for a target language."""

    name: ClassVar[str] = "?"
    src_lang: ClassVar[str | None] = None  # tokenizer's src_lang, when it has one

    def __init__(self, folder: Path, config: dict, tokenizer_config: dict, vocab: set[str]) -> None:
        self.folder, self.config, self.tokenizer_config, self.vocab = folder, config, tokenizer_config, vocab

    @classmethod
    def detect(cls, config: dict, tokenizer_config: dict, vocab: set[str]) -> bool:  # pragma: no cover
        raise NotImplementedError

    def supports(self, target: str) -> bool:
        return True

    def source_text(self, text: str, target: str) -> str:
        """The text given to the tokenizer (Marian multi-target prepends a token)."""
        return text

    def target_prefix(self, target: str) -> str | None:
        """A token the decoder is forced to start with (NLLB, M2M-100), else None."""
        return None

    def tokenizer_kwargs(self) -> dict:
        return {"src_lang": self.src_lang} if self.src_lang else {}


@register("nllb")
class NllbFamily(ModelFamily):
    """NLLB-200: FLORES-200 codes; the target code is the forced first decoder token."""

    src_lang = "eng_Latn"

    @classmethod
    def detect(cls, config, tokenizer_config, vocab):
        return config.get("model_type") == "m2m_100" and str(tokenizer_config.get("tokenizer_class", "")).startswith("Nllb")

    def target_prefix(self, target):
        return language(target).nllb

    def supports(self, target):
        return not self.vocab or self.target_prefix(target) in self.vocab


@register("m2m100")
class M2M100Family(ModelFamily):
    """M2M-100: ISO 639-1 codes as ``__be__`` tokens forced as the first decoder token."""

    src_lang = "en"

    @classmethod
    def detect(cls, config, tokenizer_config, vocab):
        return config.get("model_type") == "m2m_100" and not NllbFamily.detect(config, tokenizer_config, vocab)

    def target_prefix(self, target):
        return f"__{target}__"

    @functools.cached_property
    def language_tokens(self) -> set[str]:
        """The ``__xx__`` tokens the tokenizer files list as special tokens (hub folders list
        them in special_tokens_map.json); empty when none are listed. They are not in
        vocab.json: M2M100Tokenizer numbers them after it."""
        sources = [self.tokenizer_config]
        if (self.folder / "special_tokens_map.json").exists():
            sources.append(_read_json(self.folder / "special_tokens_map.json"))
        listed = [t.get("content") if isinstance(t, dict) else t
                  for src in sources for key in ("additional_special_tokens", "extra_special_tokens")
                  if isinstance(src.get(key), list) for t in src[key]]
        return {t for t in listed if isinstance(t, str) and re.fullmatch(r"__[a-z]{2,3}__", t)}

    def supports(self, target):
        # a target missing from the list would be forced as <unk>, silently
        return not self.language_tokens or self.target_prefix(target) in self.language_tokens


@register("marian")
class MarianFamily(ModelFamily):
    """OPUS-MT Marian. Multi-target models (``opus-mt-tc-big-en-zle``) need ``>>bel<<`` /
    ``>>rus<<`` before the source; single-pair models (``opus-mt-en-ru``) need nothing."""

    @classmethod
    def detect(cls, config, tokenizer_config, vocab):
        return config.get("model_type") == "marian"

    @functools.cached_property
    def target_tokens(self) -> set[str]:
        # the cheap test first: a regex over every entry of a 62k vocabulary took 0.6 s (under load)
        # of every engine load (bench/README.md, "Where the rest of the gap to raw CTranslate2 is")
        pattern = re.compile(r">>[a-z]{2,3}(_[A-Za-z]{4})?<<")
        return {t for t in self.vocab if t.startswith(">>") and pattern.fullmatch(t)}

    def supports(self, target):
        return not self.target_tokens or f">>{language(target).iso3}<<" in self.target_tokens

    def source_text(self, text, target):
        if self.target_tokens:
            return f">>{language(target).iso3}<< {text}"
        return text


def detect_family(folder: Path) -> ModelFamily:
    """The family of the model in ``folder``, from its config and tokenizer files;
    :class:`ModelNotAvailable` when no registered family recognises it."""
    config = _read_json(folder / "config.json")
    tok_config = _read_json(folder / "tokenizer_config.json") if (folder / "tokenizer_config.json").exists() else {}
    vocab: set[str] = set()
    if (folder / "vocab.json").exists():
        vocab = set(_read_json(folder / "vocab.json"))
    elif (folder / "tokenizer.json").exists():
        tj = _read_json(folder / "tokenizer.json")
        vocab = {t["content"] for t in tj.get("added_tokens", [])}
    for cls in FAMILIES.values():
        if cls.detect(config, tok_config, vocab):
            return cls(folder, config, tok_config, vocab)
    raise ModelNotAvailable(
        f"{folder}: model type {config.get('model_type')!r} is not a supported translation model family",
        hint=f"Supported families: {', '.join(FAMILIES)}.",
    )


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelNotAvailable(f"{path}: cannot read ({e})") from None
