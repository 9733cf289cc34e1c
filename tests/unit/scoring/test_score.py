"""The one scoring function: the checks' own parameters from config.toml, the same verdicts
from ``workflow qe`` and from the pipeline's call, and the verdicts of the default config
unchanged since the checks took over their parameters."""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import pytest

from workflow.cli.app import main
from workflow.core.config import Checks, load_config
from workflow.core.errors import ConfigError
from workflow.scoring.checks import REGISTRY, load_glossary, validate
from workflow.scoring.hunspell import dictionary_path
from workflow.scoring.qe import score_files, write_tsv
from workflow.scoring.score import score_segments

from conftest import DATA, ROOT

GLOSSARY_PATH = ROOT / "corpus" / "glossary.toml"
GLOSSARY = load_glossary(str(GLOSSARY_PATH))

CHECKS_SCORER = Checks(scorer="checks")
needs_dicts = pytest.mark.skipif(dictionary_path("be") is None or dictionary_path("ru") is None,
                                 reason="hunspell-be/-ru not installed; `make setup` installs them")

# (source, mt, log-probability, back-translation) and, recorded with the code before the
# checks owned their parameters ([thresholds], checks.weights ...), the verdict of the
# default config: (weak-spot score, flagged, flags, blamed spans)
BE = [
    ("He fell in love with his best friend.", "Ён закахаўся ў найлепшага сябра.", -0.31,
     "He fell in love with his best friend.", (0.0, False, [], [])),
    ("Coffee, please, with cream and sugar.", "Каву з вяршкамі і цукрам, калі ласка.", -1.35,
     "Coffee with cream and sugar, please.", (0.625, False, ["confidence"], [(0, 37)])),
    ("Kinshasa is the capital city of the Democratic Republic of Congo.",
     "Кіншаса — сталіца Дэмакратычнай Рэспублікі Конга.", None, None, (0.0, False, [], [])),
    ("That is why she didn't want to be with him any more.", "Вось чаму яна болей не хацела быць з ім.", -2.5,
     "That's why she didn't want to be with him anymore.", (1.0, True, ["confidence"], [(0, 40)])),
    ("He fell in love with his best friend.", "", None, None,
     (4.44, True, ["empty", "length", "truncation"], [(0, 0), (0, 0)])),
    ("Coffee, please, with cream and sugar.", "Coffee, please, with cream and sugar.", -0.2,
     "Coffee, please, with cream and sugar.",
     (4.92, True, ["identical_to_source", "untranslated"], [(0, 6), (8, 14), (16, 36)])),
    ("He fell in love with his best friend.", "Он влюбился в своего лучшего друга.", -0.9,
     "He fell in love with his best friend.",
     # + leakage (issue #17): each Russian word blamed once more, weight 1
     (4.5, True, ["language", "spelling", "leakage"],
      [(0, 2), (0, 2), (0, 35), (3, 11), (3, 11), (3, 11), (14, 20), (14, 20), (21, 28), (21, 28)])),
    ("He fell in love with his best friend.", "Ён закахаўся ў свайго best friend.", None,
     "He fell in love with his best friend.", (1.92, True, ["untranslated"], [(22, 33)])),
    ("Lukashenko met diplomats in Minsk.", "Лукашенко сустрэўся з дыпламатамі ў Мінску.", None, None,
     (0.925, True, ["names", "spelling"], [(0, 9), (0, 9)])),
    ("Police must be held accountable for violence.", "Кава з вяршкамі.", -0.5, "Coffee with cream.",
     (1.3133, True, ["length", "roundtrip"], [(0, 16), (0, 16)])),
    ("Belarusians opposing the 26-year rule of the president held one of the biggest protest rallies.",
     "Беларусы.", None, None, (0.92, True, ["length", "numbers"], [(0, 9), (0, 9)])),
    ("Amnesty International calls on the authorities to immediately end police violence.",
     "Amnesty International заклікае ўлады неадкладна спыніць", None, None,
     (0.6, False, ["truncation"], [(43, 55)])),
    ("Police detained the demonstrators.",
     "Міліцыя затрымала дэманстрантаў, дэманстрантаў, дэманстрантаў, дэманстрантаў.", None, None,
     # one repetition span where the 1-gram and 2-gram loops cover the same words (two before)
     (1.1079, True, ["length", "repetition"], [(0, 77), (18, 76)])),
    ("The police must be held accountable for violence.", "Міліцыя павінна несці адказнасьць за гвалт.", None, None,
     # + orthography (issue #17): the classical адказнасьць in a document of official forms
     (0.925, True, ["spelling", "orthography"], [(22, 33), (22, 33)])),
]
RU = [
    ("Over 6,700 people were detained and 450 cases of torture documented.",
     "Было задержано более 6 700 человек и задокументировано 540 случаев пыток.", -0.7, None,
     (0.6, False, ["numbers"], [(0, 73), (55, 58)])),
    ("On 31 August, Belarusians held one of the biggest rallies.",
     "31 октября белорусы провели один из крупнейших митингов.", None, None, (0.48, False, ["numbers"], [(3, 10)])),
    ('He called it "hopeless" and left.', "Он назвал это «безнадежным и ушел.", -1.1, None,
     (0.5475, False, ["brackets"], [(14, 15)])),
    ("Amnesty International said the video was posted on Instagram.",
     "Amnesty International заявила, что видео было опубликовано в Instagram.", None, None,
     (1.152, True, ["untranslated"], [(61, 70)])),
    ("We resist our passions not because we are strong.",
     "Мы супраціўляемся нашым жарсцям не таму, што мы моцныя, а таму, што яны слабыя.", None, None,
     (3.5, True, ["language", "spelling"], [(0, 79), (3, 17), (3, 17), (18, 23), (24, 31), (35, 39), (41, 44),
                                            (48, 54), (58, 62), (64, 67), (68, 71), (72, 78)])),
    ("Police must investigate complaints, Struthers said.", "Полицыя дожна расследовать жалобы, сказал Стразерс.",
     None, None, (0.25, False, ["spelling"], [(0, 7), (8, 13)])),
    ("Svetlana Tikhanovskaya took refuge in Lithuania.", "Светлана Тихановская укрылась в Литве.", -0.4,
     "Svetlana Tikhanovskaya took refuge in Lithuania.", (0.0, False, [], [])),
    ("He fell in love with his best friend.", "", None, None,
     (4.44, True, ["empty", "length", "truncation"], [(0, 0), (0, 0)])),
    ("Police detained the demonstrators.", "Police detained the demonstrators.", None, None,
     (3.576, True, ["identical_to_source", "untranslated"], [(0, 33)])),
    ("Scherzer wants to play spoiler vs. Rockies", "Шерцер хочет играть spoiler против Рокиз", -3.0,
     "Scherzer wants to play a spoiler against the Rockies",
     (3.045, True, ["confidence", "spelling", "untranslated"], [(0, 6), (0, 40), (20, 27)])),
    ("Police must be held accountable.", "Полиция должна нести ответственность.", -1.19,
     "The police must be held accountable.", (0.0, False, [], [])),  # just above min = -1.2
]
CASES = {"be": BE, "ru": RU}


def pipeline_verdicts(rows, target: str, settings: Checks, glossary=GLOSSARY):
    """score_segments called the way the pipeline calls it (workflow run / score)."""
    backs = [r[3] for r in rows]
    return score_segments([r[0] for r in rows], [r[1] for r in rows], target, settings, glossary=glossary,
                          seg_ids=[f"doc:p1:s{i}" for i in range(len(rows))], logprobs=[r[2] for r in rows],
                          backtranslate=lambda texts, lang: list(backs))


def summary(v) -> tuple:
    return (v.weak_score, v.flagged, v.flags, [(s["start"], s["end"]) for s in v.spans])


@needs_dicts
@pytest.mark.parametrize("target", ["be", "ru"])
def test_the_checks_scorer_gives_the_verdicts_recorded_before(target):
    """The checks' weighted sum (``scorer = "checks"``, also the fallback when the learned
    model cannot load) is unchanged."""
    rows = CASES[target]
    got = [summary(v) for v in pipeline_verdicts(rows, target, CHECKS_SCORER)]
    assert got == [r[4] for r in rows]
    # and the project's config.toml is the defaults, written out
    from_file = dataclasses.replace(load_config(ROOT / "config.toml").checks, scorer="checks")
    assert [summary(v) for v in pipeline_verdicts(rows, target, from_file)] == got


def test_config_toml_documents_every_check_with_its_defaults():
    cfg = load_config(ROOT / "config.toml")
    assert set(cfg.checks.params) == set(REGISTRY)  # one [checks.<name>] table per check
    assert validate(cfg.checks, str(cfg.path)) == validate(Checks(), "defaults")


# ---------------------------------------------------------------- qe and the pipeline agree


def tatoeba_be() -> list[tuple]:
    """Real English/Belarusian pairs (Tatoeba), with an empty and an untranslated output and
    a Russian sentence given as Belarusian, some with log-probabilities and back-translations."""
    pairs = [line.split("\t")[1:3] for line in (DATA / "checks" / "tatoeba.tsv").read_text(encoding="utf-8").splitlines()
             if line.startswith("bel-eng\t")]
    assert len(pairs) >= 4
    rus = [line.split("\t")[3] for line in (DATA / "checks" / "tatoeba.tsv").read_text(encoding="utf-8").splitlines()
           if line.startswith("bel-rus\t")]
    rows = [(en, be, -0.4 - i, en if i % 2 else None) for i, (en, be) in enumerate(pairs)]
    rows.append((pairs[0][0], "", None, None))  # empty
    rows.append((pairs[1][0], pairs[1][0], -0.1, pairs[1][0]))  # untranslated: the source copied
    rows.append((pairs[2][0], rus[0], None, "We resist our passions."))  # Russian, not Belarusian
    return rows


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.slow  # over ~2 s: make test, not make test-fast
@pytest.mark.parametrize("target", ["be", "ru"])
def test_qe_and_the_pipeline_give_the_same_verdicts(tmp_path, target):
    rows = tatoeba_be() if target == "be" else RU
    cfg_file = tmp_path / "qe.toml"
    cfg_file.write_text(f'[checks]\nglossary = "{GLOSSARY_PATH}"\n\n[checks.confidence]\nmin = -1.5\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    src = write_lines(tmp_path / "src.txt", [r[0] for r in rows])
    mt = write_lines(tmp_path / "mt.txt", [r[1] for r in rows])

    expected = pipeline_verdicts(rows, target, cfg.checks, glossary=load_glossary(str(cfg.resolve(cfg.checks.glossary))))
    structural = {f for v in expected for f in v.flags} & {"empty", "identical_to_source"}
    assert structural == {"empty", "identical_to_source"}  # the structural layer is part of the comparison
    assert any("confidence" in v.flags for v in expected) and any(v.flagged for v in expected)

    qe = score_files(src, mt, target, cfg, logprobs=[r[2] for r in rows], backtranslations=[r[3] for r in rows])
    assert qe.scores == expected  # weak-spot score, flagged, flags, spans, length ratio

    # and through the command line (no log-probabilities or back-translations there)
    out = tmp_path / "qe.tsv"
    main(["qe", "--src", str(src), "--mt", str(mt), "--tgt-lang", target, "-o", str(out), "--config", str(cfg_file)])
    got = list(csv.DictReader(out.open(encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE))
    plain = [(r[0], r[1], None, None) for r in rows]
    want = pipeline_verdicts(plain, target, cfg.checks, glossary=load_glossary(str(GLOSSARY_PATH)))
    assert [(g["weak_score"], g["flagged"], g["flags"], g["spans"]) for g in got] == [
        (f"{v.weak_score:.3f}", str(int(v.flagged)), ",".join(v.flags),
         " | ".join(f"{s['start']}-{s['end']}:{s['reason']}" for s in v.spans)) for v in want
    ]
    assert write_tsv(score_files(src, mt, target, cfg), tmp_path / "again.tsv").read_text(encoding="utf-8") == \
        out.read_text(encoding="utf-8")


# ---------------------------------------------------------------- each check's own table


def settings_from(tmp_path: Path, body: str) -> Checks:
    cfg = tmp_path / "config.toml"
    cfg.write_text(body, encoding="utf-8")
    return load_config(cfg).checks


def one(source: str, mt: str, target: str, settings: Checks, logprob: float | None = None):
    return score_segments([source], [mt], target, settings, glossary=GLOSSARY, logprobs=[logprob])[0]


def test_confidence_min_from_the_check_table_changes_the_decision(tmp_path):
    src, mt = "He fell in love with his best friend.", "Ён закахаўся ў найлепшага сябра."
    assert one(src, mt, "be", Checks(), logprob=-0.5).flags == []
    strict = settings_from(tmp_path, '[checks]\nscorer = "checks"\n[checks.confidence]\nmin = -0.2\nweight = 2.0\n')
    v = one(src, mt, "be", strict, logprob=-0.5)
    assert v.flags == ["confidence"] and v.flagged
    assert v.weak_score == 2.0  # badness min(1, 0.5 + 0.3 / 0.2) = 1, times the check's own weight


def test_length_ratio_spelling_and_roundtrip_tables(tmp_path):
    src = "Police must be held accountable for violence."
    mt = "Міліцыя павінна адказваць."
    assert "length" not in one(src, mt, "be", Checks()).flags
    narrow = settings_from(tmp_path, "[checks.length]\nratio = { be = [0.9, 1.1] }\n")
    assert "length" in one(src, mt, "be", narrow).flags
    assert "length" not in one(src, "Полиция должна отвечать.", "ru", narrow).flags  # ru keeps 0.6-1.9

    back = score_segments([src], [mt], "be", settings_from(tmp_path, "[checks.roundtrip]\nmin_chrf = 99.0\n"),
                          backtranslate=lambda texts, lang: ["The police must answer."])[0]
    assert "roundtrip" in back.flags
    assert "roundtrip" not in score_segments([src], [mt], "be", Checks(), backtranslate=lambda texts, lang: [src])[0].flags


@needs_dicts
def test_spelling_max_unknown_and_weight(tmp_path):
    src, mt = "Police must investigate complaints.", "Полицыя дожна расследовать жалобы."
    assert "spelling" in one(src, mt, "ru", Checks()).flags
    lenient = settings_from(tmp_path, "[checks.spelling]\nmax_unknown = 2\n")
    assert "spelling" not in one(src, mt, "ru", lenient).flags
    quiet = settings_from(tmp_path, '[checks]\nscorer = "checks"\n[checks.spelling]\nweight = 0.0\n')
    v = one(src, mt, "ru", quiet)
    assert v.flags == ["spelling"] and v.weak_score == 0.0 and not v.flagged


# ---------------------------------------------------------------- errors name the key and the file


@pytest.mark.parametrize(
    "body, message, hint",
    [
        ("[checks.confidance]\nmin = -1.0\n", r"table '\[checks.confidance\]': unknown check 'confidance'",
         "Did you mean 'confidence'?"),
        ("[checks.confidence]\nmn = -1.0\n", "unknown key 'checks.confidence.mn'", "Did you mean 'checks.confidence.min'?"),
        ("[checks.spelling]\nmax_unknown = \"two\"\n", "key 'checks.spelling.max_unknown' must be int", None),
        ("[checks.length]\nweight = \"high\"\n", "key 'checks.length.weight' must be a number", None),
        ("[checks.length]\nratio = { be = [0.6] }\n", "key 'checks.length.ratio.be' must be a list of 2 values", None),
        ("[checks.length]\nratio = { xx = [0.6, 1.9] }\n", "key 'checks.length.ratio.xx': unknown language 'xx'", None),
        ("[checks.length]\nratio = { be = [1.9, 0.6] }\n", "key 'checks.length.ratio.be': low bound 1.9 is above", None),
        ('[checks]\ndisabled = ["speling"]\n', "key 'checks.disabled': unknown check 'speling'", "Did you mean 'spelling'?"),
    ],
)
def test_bad_check_tables_are_config_errors(tmp_path, body, message, hint):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body, encoding="utf-8")
    settings = load_config(cfg).checks
    with pytest.raises(ConfigError) as e:
        validate(settings, str(cfg))
    assert e.value.exit_code == 2
    assert e.value.message.startswith(f"{cfg}: ")
    assert re.search(message, e.value.message), e.value.message
    if hint:
        assert e.value.hint == hint
    with pytest.raises(ConfigError) as scoring:
        score_segments(["Hello."], ["Прывітанне."], "be", settings)  # scoring validates too
    assert re.search(message, scoring.value.message), scoring.value.message


def test_workflow_qe_stops_with_exit_code_2_naming_the_file_and_key(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[checks.roundtrip]\nmin_crf = 40.0\n", encoding="utf-8")
    src = write_lines(tmp_path / "src.txt", ["Hello."])
    with pytest.raises(SystemExit) as exit_info:
        main(["qe", "--src", str(src), "--mt", str(src), "--tgt-lang", "be", "-o", str(tmp_path / "o.tsv"),
              "--config", str(cfg)])
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert str(cfg) in err and "'checks.roundtrip.min_crf'" in err and "Did you mean 'checks.roundtrip.min_chrf'?" in err
    assert not (tmp_path / "o.tsv").exists()
