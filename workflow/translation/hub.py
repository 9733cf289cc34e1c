"""Models: find a model (Hugging Face id or local folder) and know its family's quirks.

Resolution never loads weights: it finds the folder and a revision (the hub commit, or a
fingerprint of a local folder's files) so the translation cache can be consulted first.
A model that is not available ends the run with one actionable message
(:class:`ModelNotAvailable`), never a stack trace and never a fallback to another model.

Families live in a small registry (``@register``): each knows how its model is told the
target language. Adding a family touches this file only.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from workflow.core.config import ModelRef
from workflow.core.errors import ModelNotAvailable
from workflow.core.langs import language
from workflow.core.registry import Registry

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
# files a translation model needs; nothing else is downloaded (no TF/Flax weights, no zips)
DOWNLOAD_PATTERNS = [
    "config.json", "generation_config.json", "tokenizer_config.json", "special_tokens_map.json",
    "tokenizer.json", "vocab.json", "*.spm", "sentencepiece*.model", "spiece.model",
    "added_tokens.json", "*.safetensors", "model.safetensors.index.json",
]
PICKLE_PATTERNS = ["pytorch_model.bin", "pytorch_model.bin.index.json", "pytorch_model-*.bin"]


# ---------------------------------------------------------------- families

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
        return {t for t in self.vocab if re.fullmatch(r">>[a-z]{2,3}(_[A-Za-z]{4})?<<", t)}

    def supports(self, target):
        return not self.target_tokens or f">>{language(target).iso3}<<" in self.target_tokens

    def source_text(self, text, target):
        if self.target_tokens:
            return f">>{language(target).iso3}<< {text}"
        return text


def detect_family(folder: Path) -> ModelFamily:
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


# ---------------------------------------------------------------- resolution


@dataclass(frozen=True)
class ResolvedModel:
    ref: ModelRef
    folder: Path
    revision: str  # hub commit hash, or "local-<fingerprint>"
    local: bool

    @property
    def key(self) -> str:
        return f"{self.ref.id}@{self.revision}"

    def family(self) -> ModelFamily:
        return detect_family(self.folder)

    def weights(self, allow_pickle: bool = False) -> Path:
        """The weights file to load: safetensors preferred; pickle only when allowed."""
        for name in ("model.safetensors", "model.safetensors.index.json"):
            if (self.folder / name).exists():
                return self.folder / name
        for name in ("pytorch_model.bin", "pytorch_model.bin.index.json"):
            if (self.folder / name).exists():
                if allow_pickle:
                    return self.folder / name
                raise ModelNotAvailable(
                    f"{self.ref.id}: only a pickle checkpoint ({name}) is available; pickle files can run code when loaded",
                    hint="Convert it to safetensors, or set allow_pickle = true in config.toml if you trust its source.",
                )
        raise ModelNotAvailable(f"{self.folder}: no model weights (model.safetensors) in the folder")


def offline_mode(config_offline: bool = False) -> bool:
    return config_offline or os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _missing(model_id: str, why: str) -> ModelNotAvailable:
    return ModelNotAvailable(
        f"model {model_id!r} is not available: {why}.",
        hint=(
            "Fix it in one of three ways:\n"
            f"  1. run once on a machine with network access (it downloads {model_id} into the Hugging Face cache), then rerun here;\n"
            "  2. point config.toml at a local folder: [models] be = \"/path/to/model-folder\" (same for ru);\n"
            "  3. copy a Hugging Face cache that holds the model into ~/.cache/huggingface/hub (or set HF_HOME)."
        ),
    )


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def resolve(ref: ModelRef, *, base: Path | None = None, offline: bool = False, download: bool = True) -> ResolvedModel:
    """Find ``ref`` on disk (local folder or Hugging Face cache), downloading it when
    allowed and needed. Raises :class:`ModelNotAvailable` with the ways to fix it."""
    candidate = Path(ref.id).expanduser()
    if not candidate.is_absolute() and base is not None:
        candidate = base / candidate
    if candidate.is_dir():
        if not (candidate / "config.json").exists():
            raise ModelNotAvailable(f"{candidate}: folder has no config.json; it is not a Hugging Face model folder")
        return ResolvedModel(ref, candidate.resolve(), "local-" + fingerprint(candidate), local=True)
    looks_like_path = ref.id.startswith((".", "/", "~")) or ref.id.count("/") > 1 or "\\" in ref.id
    if looks_like_path or not _HUB_ID.match(ref.id):
        raise ModelNotAvailable(f"model folder {candidate} does not exist", hint="Check the path under [models] in config.toml.")
    return _resolve_hub(ref, offline=offline_mode(offline), download=download)


def _resolve_hub(ref: ModelRef, *, offline: bool, download: bool) -> ResolvedModel:
    from huggingface_hub import snapshot_download

    # the cached revision: the one asked for, else main, else a safetensors conversion pull
    # request (refs/pr/N) that _download took because main holds only a pickle checkpoint
    for revision in [ref.revision] if ref.revision else [None, *_cached_pr_refs(ref.id)]:
        try:
            folder = snapshot_download(ref.id, revision=revision, local_files_only=True,
                                       allow_patterns=DOWNLOAD_PATTERNS + PICKLE_PATTERNS)
        except Exception:  # noqa: BLE001 - any cache miss means "not cached"
            continue
        folder_path = Path(folder)
        if (folder_path / "config.json").exists() and any((folder_path / w).exists() for w in WEIGHT_FILES):
            return ResolvedModel(ref, folder_path, folder_path.name, local=False)
    if not download:
        raise _missing(ref.id, "it is not in the local Hugging Face cache (yet)")
    if offline:
        raise _missing(ref.id, "it is not in the local Hugging Face cache and offline mode is on (HF_HUB_OFFLINE=1 or offline = true)")
    if not _hub_reachable():
        raise _missing(ref.id, "it is not in the local Hugging Face cache and the Hugging Face Hub cannot be reached from this machine")
    return _download(ref)


def _cached_pr_refs(repo_id: str) -> list[str]:
    """``refs/pr/N`` revisions of ``repo_id`` present in the local Hugging Face cache,
    newest pull request first."""
    from huggingface_hub import constants

    # huggingface_hub files revision "refs/pr/3" under <repo>/refs/refs/pr/3
    refs = Path(constants.HF_HUB_CACHE) / ("models--" + repo_id.replace("/", "--")) / "refs" / "refs" / "pr"
    try:
        numbers = sorted((int(p.name) for p in refs.iterdir() if p.is_file() and p.name.isdigit()), reverse=True)
    except OSError:
        return []
    return [f"refs/pr/{n}" for n in numbers]


def _hub_reachable(timeout: float = 4.0) -> bool:
    """One quick TCP connection to the hub endpoint, so a machine without network fails in
    seconds instead of retrying for a minute."""
    from urllib.parse import urlparse

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _download(ref: ModelRef) -> ResolvedModel:
    """Download with the hub's progress bars. Prefers safetensors: when the main branch has
    only a pickle checkpoint, the hub's own safetensors conversion pull request is used."""
    from huggingface_hub import HfApi, snapshot_download

    print(f"Downloading {ref.id} (once; later runs use the local cache) ...", flush=True)
    try:
        api = HfApi()
        files = set(api.list_repo_files(ref.id, revision=ref.revision))
        revision = ref.revision
        if not any(f.endswith(".safetensors") for f in files):
            revision = _safetensors_pr(api, ref.id) or revision
        folder = snapshot_download(ref.id, revision=revision, allow_patterns=DOWNLOAD_PATTERNS)
        if not any(Path(folder, w).exists() for w in WEIGHT_FILES):
            folder = snapshot_download(ref.id, revision=ref.revision, allow_patterns=DOWNLOAD_PATTERNS + PICKLE_PATTERNS)
    except Exception as e:  # noqa: BLE001 - network, auth, missing repo: all one message
        raise _missing(ref.id, f"download failed ({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
    return ResolvedModel(ref, Path(folder), Path(folder).name, local=False)


def _safetensors_pr(api, repo_id: str) -> str | None:
    try:
        for d in api.get_repo_discussions(repo_id, discussion_type="pull_request"):
            if d.status == "open" and "safetensors" in d.title.lower() and d.author == "SFconvertbot":
                return f"refs/pr/{d.num}"
    except Exception:  # noqa: BLE001
        return None
    return None


FULL_HASH_LIMIT = 64 << 20  # files up to 64 MiB (configs, tokenizers, tiny models) are hashed in full


def fingerprint(folder: Path) -> str:
    """Identity of a local model folder, 16 hex digits, for the translation cache key.

    Small files are hashed in full. Large weight files are identified by size, modification
    time and their first and last MiB, as make and rsync do: hashing a 1 GB model in full
    took about 4 s per run. A rewritten or replaced weights file changes its mtime, so a
    changed model never hits an old cache entry."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        st = path.stat()
        rel = path.relative_to(folder).as_posix()
        h.update(rel.encode() + b"\0" + str(st.st_size).encode() + b"\0")
        with path.open("rb") as f:
            if st.st_size <= FULL_HASH_LIMIT:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            else:
                h.update(str(st.st_mtime_ns).encode() + b"\0")
                h.update(f.read(1 << 20))
                f.seek(-(1 << 20), 2)
                h.update(f.read(1 << 20))
    return h.hexdigest()[:16]
