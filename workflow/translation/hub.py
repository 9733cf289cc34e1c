"""Finding a model: a Hugging Face id or a local folder, resolved to a folder on disk.

Resolution never loads weights: it finds the folder and a revision (the hub commit, or a
fingerprint of a local folder's files) so the translation cache can be consulted first.
A hub model missing from the local Hugging Face cache is downloaded when the network
allows it (:func:`download`); a model that is not available ends the run with one
actionable message (:class:`ModelNotAvailable`), never a stack trace and never a
fallback to another model. What a model's family needs is in
:mod:`workflow.translation.families`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from workflow.core.config import ModelRef
from workflow.core.errors import ModelNotAvailable, WorkflowError
from workflow.translation.families import ModelFamily, detect_family

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
# files a translation model needs; nothing else is downloaded (no TF/Flax weights, no zips)
DOWNLOAD_PATTERNS = [
    "config.json", "generation_config.json", "tokenizer_config.json", "special_tokens_map.json",
    "tokenizer.json", "vocab.json", "*.spm", "sentencepiece*.model", "spiece.model",
    "added_tokens.json", "*.safetensors", "model.safetensors.index.json",
]
PICKLE_PATTERNS = ["pytorch_model.bin", "pytorch_model.bin.index.json", "pytorch_model-*.bin"]


@dataclass(frozen=True)
class ResolvedModel:
    """A model found on disk: its folder and the revision that identifies its files."""

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


# model_type (and, for m2m_100, NLLB or not) -> groups of file names; a folder needs one file
# of each group (what transformers' tokenizer classes open: MarianTokenizer, NllbTokenizer, M2M100Tokenizer)
TOKENIZER_FILES: dict[str, tuple[tuple[str, ...], ...]] = {
    "marian": (("source.spm",), ("target.spm",), ("vocab.json",)),
    "nllb": (("tokenizer.json", "sentencepiece.bpe.model"),),
    "m2m_100": (("vocab.json",), ("sentencepiece.bpe.model", "spm.model")),
}


def missing_files(folder: Path) -> str | None:
    """What a model folder lacks to be loaded (config, tokenizer files), or None; checked
    when the model is resolved, so a half-copied folder stops the run before any work."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        tok_path = folder / "tokenizer_config.json"
        tok = json.loads(tok_path.read_text(encoding="utf-8")) if tok_path.is_file() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return f"config.json or tokenizer_config.json cannot be read ({type(e).__name__})"
    if not isinstance(config, dict) or not isinstance(tok, dict):
        return "config.json or tokenizer_config.json is not a JSON object"
    kind = config.get("model_type")
    if kind == "m2m_100" and str(tok.get("tokenizer_class", "")).startswith("Nllb"):
        kind = "nllb"
    missing = [" or ".join(group) for group in TOKENIZER_FILES.get(str(kind), ()) if not any((folder / f).is_file() for f in group)]
    return f"tokenizer file(s) missing: {', '.join(missing)}" if missing else None


def offline_mode(config_offline: bool = False) -> bool:
    """Offline when the config says so or ``HF_HUB_OFFLINE`` is set."""
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


def _check_files(folder: Path) -> None:
    problem = missing_files(folder)
    if problem:
        raise ModelNotAvailable(f"{folder}: not a complete model folder: {problem}",
                                hint="Copy the whole model folder (every file of its Hugging Face repository), or download it again.")


def resolve(ref: ModelRef, *, base: Path | None = None, offline: bool = False, download: bool = True) -> ResolvedModel:
    """Find ``ref`` on disk (local folder or Hugging Face cache), downloading it when
    allowed and needed. Raises :class:`ModelNotAvailable` with the ways to fix it."""
    candidate = Path(ref.id).expanduser()
    if not candidate.is_absolute() and base is not None:
        candidate = base / candidate
    if candidate.is_dir():
        if not (candidate / "config.json").exists():
            raise ModelNotAvailable(f"{candidate}: folder has no config.json; it is not a Hugging Face model folder")
        _check_files(candidate)
        return ResolvedModel(ref, candidate.resolve(), "local-" + fingerprint(candidate), local=True)
    looks_like_path = ref.id.startswith((".", "/", "~")) or ref.id.count("/") > 1 or "\\" in ref.id
    if looks_like_path or not _HUB_ID.match(ref.id):
        raise ModelNotAvailable(f"model folder {candidate} does not exist", hint="Check the path under [models] in config.toml.")
    return _resolve_hub(ref, offline=offline_mode(offline), allow_download=download)


def resolve_models(models: Mapping[str, ModelRef], targets: Iterable[str], *, base: Path,
                   offline: bool) -> dict[str, ResolvedModel]:
    """target -> its resolved model (``models[target]``), each distinct ref resolved once
    (both targets of a multi-target model share one resolution)."""
    by_ref: dict[ModelRef, ResolvedModel] = {}
    resolved: dict[str, ResolvedModel] = {}
    for target in targets:
        ref = models[target]
        if ref not in by_ref:
            by_ref[ref] = resolve(ref, base=base, offline=offline)
        resolved[target] = by_ref[ref]
    return resolved


def model_status(models: Mapping[str, ModelRef], targets: Iterable[str], *, base: Path) -> list[tuple[str, str, str]]:
    """(target, model id, status) for each target, for ``workflow models``; never downloads."""
    out = []
    for target in targets:
        ref = models[target]
        try:
            m = resolve(ref, base=base, download=False)
            out.append((target, ref.id, f"available ({m.family().name}, {m.revision[:12]}) at {m.folder}"))
        except WorkflowError as e:
            out.append((target, ref.id, "missing: " + e.message + " `workflow run` downloads it when the machine has network access."))
    return out


def _resolve_hub(ref: ModelRef, *, offline: bool, allow_download: bool) -> ResolvedModel:
    from huggingface_hub import snapshot_download  # here: only hub ids need it, local folders resolve without it

    # the cached revision: the one asked for, else main, else a safetensors conversion pull
    # request (refs/pr/N) that download() took because main holds only a pickle checkpoint
    for revision in [ref.revision] if ref.revision else [None, *_cached_pr_refs(ref.id)]:
        try:
            folder = snapshot_download(ref.id, revision=revision, local_files_only=True,
                                       allow_patterns=DOWNLOAD_PATTERNS + PICKLE_PATTERNS)
        except Exception:  # noqa: BLE001 - any cache miss means "not cached"
            continue
        folder_path = Path(folder)
        if (folder_path / "config.json").exists() and any((folder_path / w).exists() for w in WEIGHT_FILES):
            _check_files(folder_path)
            return ResolvedModel(ref, folder_path, folder_path.name, local=False)
    if not allow_download:
        raise _missing(ref.id, "it is not in the local Hugging Face cache (yet)")
    if offline:
        raise _missing(ref.id, "it is not in the local Hugging Face cache and offline mode is on (HF_HUB_OFFLINE=1 or offline = true)")
    if not _hub_reachable():
        raise _missing(ref.id, "it is not in the local Hugging Face cache and the Hugging Face Hub cannot be reached from this machine")
    return download(ref)


def _cached_pr_refs(repo_id: str) -> list[str]:
    """``refs/pr/N`` revisions of ``repo_id`` present in the local Hugging Face cache,
    newest pull request first."""
    from huggingface_hub import constants  # here: only hub ids need it, local folders resolve without it

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
    from huggingface_hub import constants  # here: only hub ids need it, local folders resolve without it

    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def download(ref: ModelRef) -> ResolvedModel:
    """Download ``ref`` into the Hugging Face cache (the hub's progress bars show it), only
    the files a translation model needs. Prefers safetensors: when the main branch has
    only a pickle checkpoint, the hub's own safetensors conversion pull request is used."""
    from huggingface_hub import HfApi, snapshot_download  # here: only hub ids need it, local folders resolve without it

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
