"""``config.toml``: typed settings, validated with errors that name the file and the key.

Each section is a frozen dataclass; adding a setting means adding a field with a default.
Unknown keys, wrong types and unknown languages are refused (exit code 2) with a
"did you mean" suggestion, because a typo silently ignored is a run wasted.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from workflow.core.errors import ConfigError
from workflow.core.langs import LANGUAGES, TARGETS

DEFAULT_MODEL = "Helsinki-NLP/opus-mt-tc-big-en-zle"


@dataclass(frozen=True)
class ModelRef:
    """A model by Hugging Face id or local folder, optionally pinned to a revision."""

    id: str
    revision: str | None = None


@dataclass(frozen=True)
class Decoding:
    beam_size: int = 4
    batch_size: int = 16  # sentences per batch (transformers); ct2 uses batch_tokens
    batch_tokens: int = 2048  # token budget per batch for the CTranslate2 engine
    max_length_ratio: float = 3.0  # max new tokens = ratio * source tokens + 10
    device: str = "auto"  # auto | cpu | cuda
    chunk: int = 256  # sentences translated (and committed to the cache) per step


@dataclass(frozen=True)
class CT2:
    compute_type: str = "auto"  # auto: int8 on CPU, int8_float16 on CUDA
    inter_threads: int = 0  # 0: chosen for the machine
    intra_threads: int = 0
    cache_dir: str = ".workflow/ct2"
    batch_type: str = "tokens"  # tokens (decoding.batch_tokens padded tokens per batch) | examples (batch_examples sentences)
    batch_examples: int = 32  # sentences per batch when batch_type is examples


@dataclass(frozen=True)
class TranslationSettings:
    """What the translation stage (engines, engine pool) is given: ``Config.translation``.
    ``ctranslate2.cache_dir`` is used as is; ``Config.translation`` resolves it."""

    engine: str = "ctranslate2"
    decoding: Decoding = Decoding()
    ctranslate2: CT2 = CT2()
    allow_pickle: bool = False


@dataclass(frozen=True)
class BoilerplateRule:
    name: str
    pattern: str  # Python regex, matched against the whole paragraph (case-insensitive)
    reason: str
    scope: str = "paragraph"  # paragraph | rest (this paragraph and all after it)


DEFAULT_BOILERPLATE: tuple[BoilerplateRule, ...] = (
    BoilerplateRule("donation", r"support (the )?[\w .]+!?", "donation appeal"),
    BoilerplateRule("donation-block", r"(… ?|\.\.\. ?)?we have a small favou?r to ask\.?", "donation appeal", "rest"),
    BoilerplateRule("read-more", r"(read more|continue|continue reading|other news|related news|see also)\.?:?", "navigation link"),
    BoilerplateRule("follow", r"(i will follow|follow us( on [\w ]+)?|subscribe( to [\w ]+)?)", "social-media button"),
    BoilerplateRule("media-contact", r"for (further|more) information,? please contact:?.*", "media-contact lines", "rest"),
    BoilerplateRule("photo-credit", r"[\w.\- ]{2,40} / (tass|afp|reuters|ap|epa|belta|getty images)", "photo credit"),
    BoilerplateRule("service-credit", r"•?\s*(russian|belarusian|english) service\b.*", "source credit"),
    BoilerplateRule("link-title", r".{10,200}\((en|ru|be|pdf)\)", "link to another document"),
)


@dataclass(frozen=True)
class Ingest:
    boilerplate: bool = True  # switch all boilerplate rules off with false
    duplicate_paragraphs: bool = True  # a paragraph repeated later in a document is skipped
    related_headlines: bool = True  # a Title Case headline inside the body is skipped
    rules: tuple[BoilerplateRule, ...] = DEFAULT_BOILERPLATE


@dataclass(frozen=True)
class Checks:
    """The scoring stage's section (workflow.scoring; bench/qe.py calibrates). Each check's own
    parameters, threshold and weight are in its ``[checks.<name>]`` table, kept here as
    ``params`` and validated against the check's ``Params`` by ``workflow.scoring.checks.validate``."""

    disabled: tuple[str, ...] = ()  # names of checks to switch off (see workflow.scoring.checks.REGISTRY)
    glossary: str = "corpus/glossary.toml"  # names and terms with their be/ru forms
    flag_threshold: float = 0.7  # scorer "checks": weak-spot score at or above which a segment is flagged (bench/qe.py)
    scorer: str = "model"  # "model": learned weak-spot probability (workflow/scoring/weakspot.py) | "checks"
    review_budget: float = 0.2  # scorer "model": flag the weakest share of a run's segments (0 = none by budget)
    flag_probability: float = 1.0  # scorer "model": also flag any segment at or above this probability (1 = off)
    encoder_cache: str = ".workflow/encoder"  # scorer "model": the encoder converted for CTranslate2 (built once, ~130 MB)
    refit_min_reviews: int = 200  # scorer "model": `workflow score` refits on the project's reviews from this many (0: never)
    refit_weights: str = ".workflow/weakspot-refit.json"  # scorer "model": the refit in force (workflow.scoring.refit)
    roundtrip_beam_size: int = 1  # back-translation decoding (greedy: about a third of beam 4's time)
    reverse_models: dict[str, ModelRef] = field(default_factory=dict)  # be/ru -> en, for round trip
    # [checks.<name>] tables as read (check name -> {parameter: value})
    params: dict[str, dict[str, Any]] = field(default_factory=dict, metadata={"subtables": True})


@dataclass(frozen=True)
class Scale:
    """Where translation and scoring run (workflow.scale): on this machine, or on one pool of
    Ray actors per run that load each model once (README: "Many machines")."""

    executor: str = "local"  # local | ray
    address: str = "auto"  # ray: "auto" (the cluster of `ray start` on this machine), "local" (start one here), "ray://host:10001"
    concurrency: int = 2  # ray: actors of the run (each loads a model once per run)
    num_gpus: float = 0.0  # ray: GPUs per actor (0: CPU)
    num_cpus: float = 1.0  # ray: CPUs per actor
    batch_size: int = 1  # ray: parts of decoding.chunk sentences (or segments) per actor call; each part is committed when it comes back
    chunk_segments: int = 2000  # segments (of whole documents) per chunk of a run: memory stays at one chunk (workflow.pipeline)


@dataclass(frozen=True)
class Outputs:
    """What ``aligned/`` carries besides the translations (workflow.outputs)."""

    latin: bool = False  # a be-Latn (Łacinka) text made from the Belarusian in every format (workflow.outputs.latin)
    # the review files written (segments.parquet, run.json, skipped.tsv and the report always are): OUTPUT_FORMATS
    formats: tuple[str, ...] = ("review", "xlsx", "omegat")


# [outputs] formats: the review page, the workbook, the OmegaT projects, the per-document TSV,
# corpus.tmx, per-document TMX, XLIFF 2.1, XLIFF 1.2 (workflow.outputs.publish)
OUTPUT_FORMATS = ("review", "xlsx", "omegat", "tsv", "tmx", "tmx-documents", "xliff-2.1", "xliff-1.2")


# Keys of older config files: where each one lives now (``<name>`` is filled with the
# first key of the old table when there is one).
MOVED: dict[str, str] = {
    "thresholds.min_confidence": "[checks.confidence] min",
    "thresholds.length_ratio": "[checks.length] ratio",
    "thresholds": "the check tables: min_confidence to [checks.confidence] min, length_ratio to [checks.length] ratio",
    "checks.weights": "[checks.<name>] weight",
    "checks.min_roundtrip_chrf": "[checks.roundtrip] min_chrf",
    "checks.max_unknown_words": "[checks.spelling] max_unknown",
}


@dataclass(frozen=True)
class Config:
    corpus: str = "corpus"
    out: str = "aligned"
    store: str = ".workflow/store.sqlite"
    targets: tuple[str, ...] = TARGETS
    unit: str = "sentence"  # sentence | paragraph
    engine: str = "ctranslate2"  # ctranslate2 (fast, default) | transformers (reference)
    offline: bool = False  # never touch the network (HF_HUB_OFFLINE=1 does the same)
    allow_pickle: bool = False  # load pickle checkpoints (pytorch_model.bin) only when true
    models: dict[str, ModelRef] = field(
        default_factory=lambda: {t: ModelRef(DEFAULT_MODEL) for t in TARGETS}
    )
    decoding: Decoding = Decoding()
    ctranslate2: CT2 = CT2()
    ingest: Ingest = Ingest()
    checks: Checks = Checks()
    scale: Scale = Scale()
    outputs: Outputs = Outputs()
    # where the config was read from; relative paths are resolved against its folder
    path: Path | None = field(default=None, compare=False)

    @property
    def base_dir(self) -> Path:
        """The folder relative paths (corpus, store, models) are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, relative: str) -> Path:
        p = Path(relative).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def model_for(self, target: str) -> ModelRef:
        return self.models[target]

    @property
    def translation(self) -> TranslationSettings:
        """The translation stage's settings, the CTranslate2 cache folder resolved."""
        ct2 = dataclasses.replace(self.ctranslate2, cache_dir=str(self.resolve(self.ctranslate2.cache_dir)))
        return TranslationSettings(self.engine, self.decoding, ct2, self.allow_pickle)


CHOICES: dict[str, tuple[str, ...]] = {
    "unit": ("sentence", "paragraph"),
    "engine": ("transformers", "ctranslate2"),
    "decoding.device": ("auto", "cpu", "cuda"),
    "ctranslate2.compute_type": (
        "auto", "default", "int8", "int8_float32", "int8_float16", "int8_bfloat16",
        "int16", "float16", "bfloat16", "float32",
    ),
    "ingest.rules.scope": ("paragraph", "rest"),
    "scale.executor": ("local", "ray"),
    "ctranslate2.batch_type": ("tokens", "examples"),
    "outputs.formats": OUTPUT_FORMATS,
}


def load_config(path: str | Path | None = None, **overrides: Any) -> Config:
    """Read and validate a config file; ``overrides`` replace top-level keys (CLI flags)."""
    data: dict[str, Any] = {}
    cfg_path: Path | None = None
    if path is not None:
        cfg_path = Path(path)
        if not cfg_path.is_file():
            raise ConfigError(f"{cfg_path}: config file not found", hint="Pass --config PATH or create config.toml.")
        try:
            data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as e:
            raise ConfigError(f"{cfg_path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{cfg_path}: invalid TOML: {e}") from None
    where = str(cfg_path) if cfg_path else "defaults"
    data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    cfg = build_dataclass(Config, data, where, "")
    cfg = dataclasses.replace(cfg, path=cfg_path.resolve() if cfg_path else None)
    # a cache path is used as is by the scoring stage: resolved against the config's folder here
    cfg = dataclasses.replace(cfg, checks=dataclasses.replace(cfg.checks, encoder_cache=str(cfg.resolve(cfg.checks.encoder_cache)),
                                                              refit_weights=str(cfg.resolve(cfg.checks.refit_weights))))
    _check_semantics(cfg, where)
    return cfg


def _check_semantics(cfg: Config, where: str) -> None:
    if not cfg.targets:
        raise ConfigError(f"{where}: key 'targets' must name at least one language")
    for t in cfg.targets:
        if t not in LANGUAGES or t == "en":
            raise ConfigError(
                f"{where}: key 'targets': unknown target language {t!r}",
                hint=f"Known targets: {', '.join(x for x in LANGUAGES if x != 'en')}.",
            )
    for t in cfg.models:
        if t not in LANGUAGES or t == "en":
            raise ConfigError(f"{where}: key 'models.{t}': unknown target language {t!r}")
    for t in cfg.targets:
        if t not in cfg.models:
            raise ConfigError(f"{where}: no model for target {t!r}", hint=f"Add `{t} = \"<model id or folder>\"` under [models].")
    if cfg.checks.glossary != Checks().glossary and not cfg.resolve(cfg.checks.glossary).is_file():
        raise ConfigError(
            f"{where}: key 'checks.glossary': file {cfg.resolve(cfg.checks.glossary)} not found",
            hint="Fix the path, or remove the key to use corpus/glossary.toml (the names check is skipped without one).",
        )
    for t, ref in cfg.checks.reverse_models.items():
        if t not in cfg.targets:
            raise ConfigError(f"{where}: key 'checks.reverse_models.{t}': {t!r} is not one of the targets")
    for key, (low, high, why) in BOUNDS.items():
        value = _get(cfg, key)
        if not low <= value <= high:
            raise ConfigError(f"{where}: key '{key}' is {value!r}; it must be between {low} and {high}", hint=why)
    for i, rule in enumerate(cfg.ingest.rules):
        _check_rule(rule, where, f"ingest.rules[{i}]")
    if not RAY_ADDRESS.fullmatch(cfg.scale.address):
        raise ConfigError(f"{where}: key 'scale.address' is {cfg.scale.address!r}",
                          hint='Use "auto" (the cluster started with `ray start` here), "local" (a Ray started for this run), '
                               '"ray://HOST:10001" (Ray Client) or "HOST:6379".')


RAY_ADDRESS = re.compile(r"auto|local|(ray://)?[A-Za-z0-9._-]+:[0-9]{1,5}")  # scale.address

# Ranges of numeric settings: the upper bounds are far above any useful value and below
# what would run the machine out of memory or time (beam_size = 1000000000 did).
BOUNDS: dict[str, tuple[float, float, str]] = {
    "decoding.beam_size": (1, 64, "Beam search beyond 64 gains nothing and costs memory; 4 is usual, 1 is greedy."),
    "decoding.batch_size": (1, 1024, "Sentences per batch for the transformers engine."),
    "decoding.batch_tokens": (1, 262144, "Token budget per batch for the CTranslate2 engine."),
    "decoding.max_length_ratio": (0.01, 20, "Output tokens allowed per source token (plus 10); 3 is the default."),
    "decoding.chunk": (1, 100000, "Sentences translated and committed to the cache per step."),
    "ctranslate2.inter_threads": (0, 1024, "0 chooses for the machine."),
    "ctranslate2.intra_threads": (0, 1024, "0 chooses for the machine."),
    "ctranslate2.batch_examples": (1, 4096, "Sentences per batch for the CTranslate2 engine when batch_type is examples."),
    "checks.roundtrip_beam_size": (1, 64, "Back-translation decoding; 1 is greedy."),
    "checks.refit_min_reviews": (0, 10_000_000, "Reviewed segments needed before `workflow score` refits the weak-spot model; 0 never refits."),
    "checks.flag_threshold": (0, 1000, "The weak-spot score at or above which a segment is flagged."),
    "scale.concurrency": (1, 4096, "Ray actors per stage; each loads the model once."),
    "scale.num_gpus": (0, 64, "GPUs per translation actor; 0 runs on CPUs, 0.5 puts two actors on one GPU."),
    "scale.num_cpus": (0.01, 1024, "CPUs per Ray actor."),
    "scale.batch_size": (1, 100000, "Parts of decoding.chunk sentences per Ray actor call."),
    "scale.chunk_segments": (1, 10_000_000, "Segments per chunk of whole documents that a run holds in memory at once."),
}


def _get(cfg: Config, key: str) -> Any:
    value: Any = cfg
    for part in key.split("."):
        value = getattr(value, part)
    return value


RULE_TIMEOUT = 0.5  # seconds one boilerplate rule may take on one paragraph (workflow.corpus.ingest)
PROBE_TIMEOUT = 0.1  # seconds a rule may take on a probe text when the config is read


def compile_rule(pattern: str) -> regex.Pattern:
    """A boilerplate rule's pattern, matched against whole paragraphs, case-insensitive.
    The ``regex`` module (``re``'s syntax) because its matches take a ``timeout``: a rule
    that backtracks catastrophically is stopped instead of hanging the run."""
    return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)


def _check_rule(rule: BoilerplateRule, where: str, key: str) -> None:
    """The rule's pattern compiles and is fast on short texts built from its own letters
    (``(a+)+x``-style patterns take seconds there); ConfigError naming the key otherwise."""
    try:
        rx = compile_rule(rule.pattern)
    except (regex.error, TypeError, ValueError, OverflowError, RecursionError) as e:
        raise ConfigError(f"{where}: key '{key}.pattern': invalid regular expression ({e})",
                          hint="Python regular expression syntax; escape literal brackets and dots with a backslash.") from None
    chars = sorted({c for c in rule.pattern if c.isalnum() or c == " "} | {"a", " "})
    for probe in [c * 28 + "\x00" for c in chars[:40]] + ["word " * 8 + "!"]:
        try:
            rx.fullmatch(probe, timeout=PROBE_TIMEOUT)
        except TimeoutError:
            raise ConfigError(f"{where}: key '{key}.pattern' ({rule.name!r}) takes over {PROBE_TIMEOUT} s on a "
                              f"{len(probe)}-character text: it backtracks catastrophically",
                              hint="Simplify it: no nested repeats such as (a+)+ or (a|a)*.") from None


def build_dataclass(cls: type, data: Any, where: str, prefix: str) -> Any:
    """Build dataclass ``cls`` from a TOML table, checking keys and types.

    ``where`` (the config file) and ``prefix`` (the table's dotted key, ending in ".")
    name the key in errors. A field with ``metadata={"subtables": True}`` collects the
    sub-tables that are not fields, unchecked (their owner validates them)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: key '{prefix.rstrip('.') or '(top level)'}' must be a table")
    subtables = next((f.name for f in dataclasses.fields(cls) if f.metadata.get("subtables")), None)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in ("path", subtables)}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            moved = _moved(prefix + key, value)
            if moved:
                raise ConfigError(f"{where}: key '{moved[0]}' is no longer read", hint=f"'{moved[0]}' moved to {moved[1]}.")
            if subtables and isinstance(value, dict):
                kwargs.setdefault(subtables, {})[key] = value
                continue
            guess = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"Did you mean '{prefix}{guess[0]}'?" if guess else f"Known keys here: {', '.join(fields)}."
            raise ConfigError(f"{where}: unknown key '{prefix}{key}'", hint=hint)
        kwargs[key] = _convert(hints[key], value, where, f"{prefix}{key}")
    return cls(**kwargs)


def _moved(key: str, value: Any) -> tuple[str, str] | None:
    """(old key, where it lives now) when ``key`` (or a key of its table) is in ``MOVED``."""
    subs = [f"{key}.{k}" for k in value] if isinstance(value, dict) else []
    old = next((k for k in [*subs, key] if k in MOVED), None)
    if old is None:
        return None
    name = subs[0].rsplit(".", 1)[1] if subs and old == key else "<name>"
    return old, MOVED[old].replace("<name>", name)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(tp: Any, value: Any, where: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        if tp is ModelRef and isinstance(value, str):
            value = {"id": value}
        return build_dataclass(tp, value, where, key + ".")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, where, key)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: key '{key}' must be a list, not {type(value).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, where, f"{key}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where}: key '{key}' must be a list of {len(args)} values")
        return tuple(_convert(a, v, where, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: key '{key}' must be a table")
        return {str(k): _convert(args[1], v, where, f"{key}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: key '{key}' must be a number, not {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{where}: key '{key}' must be a finite number, not {value!r}")
        return float(value)
    if tp in (int, str, bool):
        if type(value) is not tp:
            raise ConfigError(f"{where}: key '{key}' must be {_type_name(tp)}, not {value!r}")
        choices = CHOICES.get(_choice_key(key))
        if choices and value not in choices:
            raise ConfigError(f"{where}: key '{key}' is {value!r}; choose one of: {', '.join(choices)}")
        return value
    raise ConfigError(f"{where}: key '{key}' has an unsupported type")  # pragma: no cover


def _choice_key(key: str) -> str:
    # "ingest.rules[3].scope" -> "ingest.rules.scope"
    return re.sub(r"\[\d+\]", "", key)
