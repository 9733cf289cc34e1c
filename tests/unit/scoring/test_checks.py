"""Reference-free checks on real (Tatoeba, CC BY 2.0 FR) and hand-written examples."""

from __future__ import annotations

import dataclasses

import pytest

from workflow.core.config import Checks
from workflow.scoring.checks import REGISTRY, CheckInput, CheckParams, backtranslations, load_glossary, run_checks, validate
from workflow.scoring.hunspell import dictionary_path

from conftest import DATA as _TESTS_DATA, ROOT

DATA = _TESTS_DATA / "checks"
GLOSSARY = load_glossary(str(ROOT / "corpus" / "glossary.toml"))

needs_be_dict = pytest.mark.skipif(dictionary_path("be") is None, reason="hunspell-be (be_BY) not installed; `make setup` installs it")
needs_ru_dict = pytest.mark.skipif(dictionary_path("ru") is None, reason="hunspell-ru (ru_RU) not installed; `make setup` installs it")


def tatoeba(pair: str) -> list[tuple[str, str, str]]:
    rows = []
    for line in (DATA / "tatoeba.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        p, en, be, ru = line.split("\t")
        if p == pair:
            rows.append((en, be, ru))
    return rows


def finding(src: str, mt: str, lang: str, check: str, **kw):
    score = run_checks([CheckInput("s1", src, mt, **kw)], lang, Checks(), glossary=GLOSSARY)[0]
    return next(f for f in score.findings if f.check == check)


def blamed(f, mt: str) -> list[str]:
    return [mt[s.start:s.end] for s in f.spans]


def test_registry_has_every_family():
    assert {"confidence", "roundtrip", "language", "spelling", "untranslated", "numbers",
            "brackets", "names", "length", "repetition", "truncation"} <= set(REGISTRY)


# the weights shipped before the checks owned their parameters (DEFAULT_WEIGHTS)
SHIPPED_WEIGHTS = {
    "untranslated": 1.92, "brackets": 0.73, "repetition": 0.87, "length": 0.44, "numbers": 0.6,
    "spelling": 0.50, "truncation": 1.0, "language": 3.0, "names": 1.0, "confidence": 1.0, "roundtrip": 1.0,
    "leakage": 1.0, "orthography": 1.0, "crosscheck": 1.0,  # issue #17 (hand-set)
}


def test_every_check_owns_its_params_weight_and_direction():
    params = validate(Checks(), "defaults")
    assert set(params) == set(REGISTRY) == set(SHIPPED_WEIGHTS)
    for name, cls in REGISTRY.items():
        assert dataclasses.is_dataclass(cls.Params) and issubclass(cls.Params, CheckParams)
        assert cls.Params.__dataclass_params__.frozen
        assert isinstance(params[name], cls.Params)
        assert params[name].weight == SHIPPED_WEIGHTS[name], name
        assert cls.higher_is_better in (True, False, None), name
        doc = cls.__doc__ or ""
        assert "score" in doc and "accept" in doc, f"{name}: docstring must say what score and accept mean"
    assert REGISTRY["confidence"].higher_is_better and REGISTRY["roundtrip"].higher_is_better
    assert REGISTRY["length"].higher_is_better is None and REGISTRY["spelling"].higher_is_better is False
    assert (params["confidence"].min, params["roundtrip"].min_chrf, params["spelling"].max_unknown) == (-1.2, 35.0, 0)
    assert params["length"].ratio == {"be": (0.6, 1.9), "ru": (0.6, 1.9)}


# ---------------------------------------------------------------- wrong language


@pytest.mark.parametrize("en,be,ru", tatoeba("bel-eng") + tatoeba("bel-rus"))
def test_real_belarusian_is_not_flagged_as_wrong_language(en, be, ru):
    f = finding(en or "x" * len(be), be, "be", "language")
    assert f.accepted, f.message


@pytest.mark.parametrize("en,be,ru", tatoeba("bel-rus"))
def test_russian_given_as_belarusian_is_flagged(en, be, ru):
    f = finding("x" * len(ru), ru, "be", "language")
    assert not f.accepted
    assert f.severity == "critical"


def test_russian_words_are_blamed_one_by_one():
    mt = "Мы сопротивляемся нашим страстям не потому, что мы сильны, а потому, что они слабы."
    f = finding("We resist our passions.", mt, "be", "language")
    words = blamed(f, mt)
    assert "сопротивляемся" in words and "нашим" in words and "сильны" in words


def test_mixed_belarusian_with_one_russian_word():
    mt = "Ён закахаўся в найлепшага сябра и сяброўку."
    f = finding("He fell in love with his best friend.", mt, "be", "language")
    assert not f.accepted
    assert blamed(f, mt) == ["и"]


def test_latin_i_homoglyph_in_belarusian_word_is_blamed():
    mt = "Каву з вяршкамi і цукрам, калі ласка."  # Latin "i" in вяршкамi
    f = finding("Coffee, please, with cream and sugar.", mt, "be", "language")
    assert not f.accepted
    assert blamed(f, mt) == ["вяршкамi"]


def test_belarusian_given_as_russian_is_flagged():
    be = "Мы супраціўляемся нашым жарсцям не таму, што мы моцныя, а таму, што яны слабыя."
    f = finding("We resist our passions not because we are strong.", be, "ru", "language")
    assert not f.accepted


@pytest.mark.parametrize("en,be,ru", tatoeba("bel-rus"))
def test_real_russian_is_russian(en, be, ru):
    assert finding("x" * len(ru), ru, "ru", "language").accepted


# ---------------------------------------------------------------- spelling


@needs_be_dict
def test_belarusian_spelling_blames_unknown_word():
    mt = "Міліцыя павінна несці адказнасьць за гвалт."  # Taraškievica spelling: not official
    f = finding("The police must be held accountable for violence.", mt, "be", "spelling")
    assert blamed(f, mt) == ["адказнасьць"] or "адказнасьць" in blamed(f, mt)


@needs_be_dict
@pytest.mark.parametrize("en,be,ru", tatoeba("bel-eng"))
def test_real_belarusian_spells_clean(en, be, ru):
    assert finding(en, be, "be", "spelling").accepted


@needs_ru_dict
def test_russian_spelling_and_names_skipped():
    mt = "Полицыя дожна расследовать жалобы, сказал Стразерс."
    f = finding("Police must investigate complaints, Struthers said.", mt, "ru", "spelling")
    assert set(blamed(f, mt)) == {"Полицыя", "дожна"}  # the name inside the sentence is not blamed


@needs_ru_dict
def test_spelling_remembers_words_not_their_places():
    # one check over a batch looks each word up once; whether a capitalised word is taken for
    # a name depends on where it stands, so the batch blames what a fresh check per segment does
    mts = ["Полицыя дожна расследовать жалобы.", "Вчера Полицыя дожна была прийти.",
           "Дожна ли полицыя? Полицыя дожна.", "Тихановскую поддержали, сказал Стразерс.", "Тихановскую дожна."]
    segs = [CheckInput(f"s{i}", "Police must investigate.", mt) for i, mt in enumerate(mts)]
    batch = run_checks(segs, "ru", Checks(), glossary=GLOSSARY)
    alone = [run_checks([seg], "ru", Checks(), glossary=GLOSSARY)[0] for seg in segs]
    spelling = [[blamed(f, mt) for f in r.findings if f.check == "spelling"][0] for r, mt in zip(batch, mts)]
    assert spelling == [[blamed(f, mt) for f in r.findings if f.check == "spelling"][0] for r, mt in zip(alone, mts)]
    assert spelling == [["Полицыя", "дожна"], ["дожна"], ["Дожна", "полицыя", "Полицыя", "дожна"], [], ["дожна"]]


# ---------------------------------------------------------------- numbers, dates, brackets


def test_changed_number_is_blamed_at_its_span():
    src = "Over 6,700 people were detained and 450 cases of torture documented."
    mt = "Было задержано более 6 700 человек и задокументировано 540 случаев пыток."
    f = finding(src, mt, "ru", "numbers")
    assert not f.accepted
    span = next(s for s in f.spans if "not in the source" in s.reason)
    assert mt[span.start:span.end] == "540"
    assert any("450" in s.reason for s in f.spans)


def test_number_formats_and_small_number_words_agree():
    src = "On 31 August at least 50 journalists and three lawyers were detained, 1.5 times more."
    mt = "31 жніўня былі затрыманыя не менш за 50 журналістаў і 3 адвакаты, у 1,5 раза больш."
    assert finding(src, mt, "be", "numbers").accepted


def test_wrong_month_is_blamed():
    src = "On 31 August, Belarusians held one of the biggest rallies."
    mt = "31 октября белорусы провели один из крупнейших митингов."
    f = finding(src, mt, "ru", "numbers")
    assert blamed(f, mt) == ["октября"]


def test_unbalanced_guillemet_is_blamed():
    mt = "Он назвал это «безнадежным и ушел."
    f = finding('He called it "hopeless" and left.', mt, "ru", "brackets")
    assert not f.accepted
    assert blamed(f, mt) == ["«"]


# ---------------------------------------------------------------- names and untranslated


def test_russian_form_of_name_in_belarusian_is_blamed():
    mt = "Лукашенко сустрэўся з дыпламатамі ў Мінску."
    f = finding("Lukashenko met diplomats in Minsk.", mt, "be", "names")
    assert not f.accepted
    assert blamed(f, mt) == ["Лукашенко"]
    assert "Лукашэнка" in f.spans[0].reason


def test_declined_names_are_accepted():
    src = "Svetlana Tikhanovskaya took refuge in Lithuania, Raman Bandarenka died in Minsk."
    be = "Святлана Ціханоўская знайшла прытулак у Літве, Раман Бандарэнка памёр у Мінску."
    ru = "Светлана Тихановская укрылась в Литве, Роман Бондаренко умер в Минске."
    assert finding(src, be, "be", "names").accepted
    assert finding(src, ru, "ru", "names").accepted
    assert finding("They met Tsikhanouskaya.", "Яны сустрэліся з Ціханоўскай.", "be", "names").accepted


def test_taraskievica_place_name_is_blamed():
    mt = "Тысячы людзей выйшлі на вуліцы Менску."
    f = finding("Thousands took to the streets of Minsk.", mt, "be", "names")
    assert blamed(f, mt) == ["Менску"]


def test_latin_left_in_target_is_blamed_but_glossary_names_are_not():
    src = "Amnesty International said the video was posted on Instagram."
    mt = "Amnesty International заявила, что видео было опубликовано в Instagram."
    f = finding(src, mt, "ru", "untranslated")
    assert blamed(f, mt) == ["Instagram"]


def test_english_words_left_untranslated():
    src = "Scherzer wants to play spoiler vs. Rockies"
    mt = "Шерцер хочет играть spoiler против Рокиз"
    f = finding(src, mt, "ru", "untranslated")
    assert blamed(f, mt) == ["spoiler"]
    assert f.badness == 1.0


# ---------------------------------------------------------------- length, repetition, truncation


def test_length_ratio_outlier():
    src = "Belarusians opposing the 26-year rule of the president held one of the biggest protest rallies."
    assert not finding(src, "Беларусы.", "be", "length").accepted
    assert finding(src, "Беларусы, якія выступаюць супраць 26-гадовага кіравання прэзідэнта, правялі адзін з найбуйнейшых мітынгаў.", "be", "length").accepted


def test_looping_ngram_is_blamed():
    mt = "Міліцыя затрымала дэманстрантаў, дэманстрантаў, дэманстрантаў, дэманстрантаў."
    f = finding("Police detained the demonstrators.", mt, "be", "repetition")
    assert not f.accepted
    s = f.spans[0]
    assert mt[s.start:s.end].startswith("дэманстрантаў") and mt[s.start:s.end].count("дэманстрантаў") == 4


def test_a_loop_seen_at_several_lengths_is_one_span_with_one_reason():
    """A looping stretch counts once per loop in the score (as before) but is blamed by one
    span naming how many loops it holds, not one reason per n-gram length (the tiny model's
    loops wrote nine reasons per cell into the review page)."""
    mt = "Міліцыя затрымала дэманстрантаў, дэманстрантаў, дэманстрантаў, дэманстрантаў. Дзякуй."
    f = finding("Police detained the demonstrators.", mt, "be", "repetition")
    assert f.score == 2  # the 1-gram loop and the 2-gram loop over the same words
    (s,) = f.spans
    assert mt[s.start:s.end] == "дэманстрантаў, дэманстрантаў, дэманстрантаў, дэманстрантаў"
    assert s.reason == "'дэманстрантаў' repeated 4 times (+1 more loops)"
    apart = "адзін два тры чатыры, адзін два тры чатыры, пяць адзін два тры чатыры шэсць сем восем"
    g = finding("One two three four.", apart, "be", "repetition")
    assert [(x.start, x.end) for x in g.spans] == [(0, 42), (0, len(apart))]
    assert g.spans[1].reason == "'адзін два тры чатыры' occurs 3 times"


def test_truncated_output_is_flagged():
    src = "Amnesty International calls on the authorities to immediately end police violence."
    f = finding(src, "Amnesty International заклікае ўлады неадкладна спыніць", "be", "truncation")
    assert not f.accepted
    assert finding(src, "Amnesty International заклікае ўлады неадкладна спыніць гвалт міліцыі.", "be", "truncation").accepted


# ---------------------------------------------------------------- model-based checks


def test_confidence_skipped_without_logprob_and_flagged_when_low():
    assert finding("Hello.", "Прывітанне.", "be", "confidence").skipped
    assert finding("Hello.", "Прывітанне.", "be", "confidence", logprob=-0.3).accepted
    low = finding("Hello.", "Прывітанне.", "be", "confidence", logprob=-2.5)
    assert not low.accepted and low.badness > 0


def test_roundtrip_skipped_without_backtranslation():
    f = finding("Police must be held accountable.", "Міліцыя павінна адказваць.", "be", "roundtrip")
    assert f.skipped and f.accepted


def test_roundtrip_compares_backtranslation_with_source():
    src = "Police must be held accountable for violence."
    good = finding(src, "Міліцыя павінна адказваць за гвалт.", "be", "roundtrip",
                   backtranslation="The police must be held accountable for the violence.")
    bad = finding(src, "Кава з вяршкамі.", "be", "roundtrip", backtranslation="Coffee with cream.")
    assert good.accepted and not bad.accepted


def test_backtranslations_uses_the_engine_or_none():
    assert backtranslations(["а", "б"], None) == [None, None]
    calls = []

    def fake(texts, target):
        calls.append(target)
        return [t.upper() for t in texts]

    assert backtranslations(["а", "б"], fake) == ["А", "Б"]
    assert calls == ["en"]


# ---------------------------------------------------------------- combined score


def test_weak_score_ranks_worse_segments_higher_and_keeps_order():
    segs = [
        CheckInput("good", "He fell in love with his best friend.", "Ён закахаўся ў найлепшага сябра."),
        CheckInput("russian", "He fell in love with his best friend.", "Он влюбился в своего лучшего друга."),
        CheckInput("latin", "He fell in love with his best friend.", "Ён закахаўся ў свайго best friend."),
    ]
    scores = run_checks(segs, "be", Checks(), glossary=GLOSSARY)
    assert [s.seg_id for s in scores] == ["good", "russian", "latin"]
    good, russian, latin = scores
    assert good.weak_score == 0 and not good.flagged and good.flags == []
    assert russian.flagged and "language" in russian.flags
    assert latin.flagged and latin.flags == ["untranslated"]
    assert russian.weak_score > latin.weak_score > good.weak_score
    assert all(isinstance(t, tuple) and len(t) == 3 for t in russian.spans)
    assert russian.to_dict()["findings"][0]["check"]


def test_disabled_checks_and_weights_from_config():
    seg = CheckInput("x", "He fell in love with his best friend.", "Ён закахаўся ў свайго best friend.")
    default = run_checks([seg], "be", Checks(), glossary=GLOSSARY)[0]
    assert default.flags == ["untranslated"] and default.weak_score == 1.92  # badness 1 x weight 1.92
    settings = Checks(disabled=("language",), params={"untranslated": {"weight": 0.5}})
    s = run_checks([seg], "be", settings, glossary=GLOSSARY)[0]
    assert "language" not in {f.check for f in s.findings}
    assert s.flags == ["untranslated"] and s.weak_score == 0.5 and not s.flagged  # the weight is the check's own
