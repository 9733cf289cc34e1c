"""Check base class, the registry, and the records a check produces.

A check looks at one segment (English source, machine translation, optional model
log-probability and back-translation) and returns a :class:`Finding`:

- ``score``: the raw measurement (a ratio, a chrF, a count ...), the number a reviewer
  sees, or ``None`` when the check could not run (``skipped`` says why: no
  log-probability, no back-translation, no dictionary installed);
- ``accepted``: the threshold decision (``Check.accept``) on that score;
- ``badness``: 0 when accepted, up to 1 for the worst case; the weak-spot score is the
  sum of ``weight * badness`` over checks;
- ``spans``: ``(start, end, reason)`` character offsets into the *target* text, so the
  review page can highlight them (``text[start:end]``).

Like an OpusFilter filter, a check owns its parameters: its ``Params`` dataclass (the
threshold ``accept`` uses, anything else it needs, and its ``weight``) is the schema
of its ``[checks.<name>]`` table in config.toml.

Add a check by subclassing :class:`Check` in a module of this package, giving it a
``Params`` (a frozen dataclass subclassing :class:`CheckParams`) and decorating it with
``@register("name")``; ``workflow.scoring.checks`` imports every module once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from workflow.core.registry import Registry


@dataclass(frozen=True)
class Span:
    start: int  # character offset into the target text, inclusive
    end: int  # exclusive
    reason: str

    def as_tuple(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.reason)


@dataclass(frozen=True)
class CheckInput:
    seg_id: str
    source: str  # English
    mt: str  # target-language text to check
    logprob: float | None = None  # mean token log-probability from the engine
    backtranslation: str | None = None  # mt translated back into English
    other: Mapping[str, str] | None = None  # the other target languages' translations of the same source


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str  # minor | major | critical
    score: float | None  # raw measurement; None when skipped
    accepted: bool
    badness: float = 0.0  # 0 (fine) .. 1 (worst); 0 when accepted or skipped
    spans: tuple[Span, ...] = ()
    message: str = ""
    skipped: str | None = None  # why the check did not run

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "score": self.score,
            "accepted": self.accepted,
            "badness": round(self.badness, 4),
            "spans": [s.as_tuple() for s in self.spans],
            "message": self.message,
            "skipped": self.skipped,
        }


@dataclass
class SegmentScore:
    seg_id: str
    weak_score: float  # weighted sum of badness; higher = worse
    flagged: bool  # weak_score >= config threshold: a reviewer should look here
    flags: list[str] = field(default_factory=list)  # names of checks that did not accept
    findings: list[Finding] = field(default_factory=list)

    @property
    def spans(self) -> list[tuple[int, int, str]]:
        """All blamed spans, sorted, tagged with the check name: (start, end, "check: reason")."""
        out = [
            (s.start, s.end, f"{f.check}: {s.reason}")
            for f in self.findings
            if not f.accepted
            for s in f.spans
        ]
        return sorted(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seg_id": self.seg_id,
            "weak_score": round(self.weak_score, 4),
            "flagged": self.flagged,
            "flags": list(self.flags),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class CheckParams:
    """A check's ``[checks.<name>]`` table. Every check has a weight: its share of the
    weak-spot score; a subclass gives it a default and adds the check's own parameters."""

    weight: float

    def problems(self) -> dict[str, str]:
        """Values that have the right type but make no sense: {parameter: what is wrong}.
        A subclass's own ``problems`` comes on top of these (``__init_subclass__``)."""
        if self.weight < 0:
            return {"weight": f"is {self.weight}; a weight must not be negative (0 switches the check's share off)"}
        return {}

    def __init_subclass__(cls, **kwargs) -> None:
        # a check's Params that defines problems() still gets the base checks (the weight):
        # wrapped here rather than relying on every subclass to call super()
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("problems")
        if own is not None:
            def problems(self, _own=own) -> dict[str, str]:
                return {**CheckParams.problems(self), **_own(self)}

            problems.__doc__ = own.__doc__
            cls.problems = problems


@dataclass(frozen=True)
class Context:
    """What a check is given besides the segment: target language, its own parameters, glossary."""

    target_lang: str
    params: CheckParams  # the check's own Params, from its [checks.<name>] table
    glossary: Any = None  # workflow.scoring.checks.names.Glossary | None


class Check:
    """One reference-free check. Subclasses set ``name``/``severity``/``higher_is_better``,
    define ``Params`` and implement ``score`` and ``accept``.

    ``score(inp)`` returns ``(score, spans)`` or ``(score, spans, badness)``; ``None`` as
    score means "skipped" and then ``skip_reason`` says why. ``accept(score)`` is the
    threshold decision, from the check's own ``Params``. ``prepare(inputs)`` sees the whole
    batch first (for checks that compare segments with each other, e.g. consistent
    rendering of a name).
    """

    name: ClassVar[str] = ""
    severity: ClassVar[str] = "minor"
    languages: ClassVar[tuple[str, ...] | None] = None  # target languages; None = any
    # score direction: True (a higher score is better), False (lower is better), None
    # (two-sided: accepted inside a band)
    higher_is_better: ClassVar[bool | None]
    Params: ClassVar[type[CheckParams]]
    # False: not a feature of the learned weak-spot model (its training data has nothing this
    # check can fire on, e.g. Belarusian); a failure then flags the segment by itself
    in_model: ClassVar[bool] = True

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.params = ctx.params
        self.lang = ctx.target_lang
        self.skip_reason = "not applicable"

    def prepare(self, inputs: list[CheckInput]) -> None:  # pragma: no cover - default no-op
        return None

    def score(self, inp: CheckInput) -> tuple:
        raise NotImplementedError

    def accept(self, score: float) -> bool:
        raise NotImplementedError

    def badness(self, score: float) -> float:
        """How bad a non-accepted score is, 0..1; default: 1."""
        return 1.0

    def run(self, inp: CheckInput) -> Finding:
        result = self.score(inp)
        value, spans = result[0], result[1]
        if value is None:
            return Finding(self.name, self.severity, None, True, 0.0, (), "", self.skip_reason)
        ok = self.accept(value)
        bad = 0.0 if ok else (result[2] if len(result) > 2 else self.badness(value))
        bad = max(0.0, min(1.0, float(bad)))
        spans_t = tuple(sorted(set(spans), key=lambda s: (s.start, s.end))) if not ok else ()
        msg = "" if ok else self.message(value, spans_t)
        return Finding(self.name, self.severity, float(value), ok, bad, spans_t, msg)

    def message(self, value: float, spans: tuple[Span, ...]) -> str:
        reasons = sorted({s.reason for s in spans})
        return "; ".join(reasons[:3]) if reasons else f"{self.name} = {value:.3g}"


REGISTRY = Registry("check")


register = REGISTRY.register  # @register("spelling") class Spelling(Check): ...
