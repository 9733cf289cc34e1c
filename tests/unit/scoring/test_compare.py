"""`workflow compare`: corpus scores with signatures and paired significance, for text files
and for runs (segments matched by id and English hash, the runs' own references)."""

from __future__ import annotations

import pytest

from conftest import DATA
from workflow.cli.app import main
from workflow.cli.compare import load_system
from workflow.scoring.compare import compare, format_result, short_names
from workflow.core.errors import InputError
from workflow.core.records import Row
from workflow.outputs.parquet import to_frame

REFS = (DATA / "tatoeba-sample.rus.txt").read_text(encoding="utf-8").splitlines()[:300]


def _drop_words(lines, every):
    """A damaged system: every ``every``-th word of each line removed."""
    return [" ".join(w for i, w in enumerate(line.split()) if (i + 1) % every) for line in lines]


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, lines in (("ref", REFS), ("weak", _drop_words(REFS, 3)), ("good", _drop_words(REFS, 12))):
        paths[name] = tmp_path / f"sys.{name}.ru"
        paths[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def test_text_systems_scores_and_significance(files):
    systems = [load_system(files["weak"], None), load_system(files["good"], None)]
    result = compare(systems, [REFS], target_lang="ru", n_samples=300, seed=1)
    weak, good = (result.scores[s.name] for s in systems)
    assert good["bleu"].score > weak["bleu"].score + 10 and good["ter"].score < weak["ter"].score
    assert "tok:13a" in good["bleu"].signature and "nw:2" in good["chrf"].signature
    by_metric = {c.metric: c for c in result.comparisons}
    assert set(by_metric) == {"bleu", "chrf", "ter"}
    assert all(c.significant for c in by_metric.values()), by_metric
    again = compare(systems, [REFS], target_lang="ru", n_samples=300, seed=1)
    assert [c.p_value for c in again.comparisons] == [c.p_value for c in result.comparisons]
    # a system that differs from the baseline in 3 lines of 300: sacrebleu's MultEval-style
    # p-value counts only shuffles that beat the real difference (ties do not), so the output
    # says how many segments differ and warns
    near = _drop_words(REFS, 3)
    near[10], near[50], near[90] = _drop_words([REFS[10], REFS[50], REFS[90]], 2)
    files["near"] = files["weak"].with_name("sys.near.ru")
    files["near"].write_text("\n".join(near) + "\n", encoding="utf-8")
    same = compare([systems[0], load_system(files["near"], None)], [REFS], n_samples=300, seed=1)
    assert same.differing == {same.names[0]: 0, same.names[1]: 3}
    assert "caution: near differ(s) from the baseline in few segments" in format_result(same)
    text = format_result(result)
    assert "| weak (baseline) | – |" in text and "300 segments compared" in text and "caution" not in text
    assert f"| good | {result.differing[systems[1].name]} |" in text and result.differing[systems[1].name] > 250


def test_text_systems_must_match_the_references(files, tmp_path):
    short = tmp_path / "short.ru"
    short.write_text("\n".join(REFS[:10]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="short.ru: 10 lines, the references 300"):
        compare([load_system(files["weak"], None), load_system(short, None)], [REFS])
    with pytest.raises(InputError, match="no segment has a reference"):
        compare([load_system(files["weak"], None), load_system(files["good"], None)])
    bad = tmp_path / "bad.ru"
    bad.write_bytes(b"ok\n\xff\xfe broken\n")
    with pytest.raises(InputError, match=r"bad.ru:2: not valid UTF-8"):
        load_system(bad, None)


def _run(folder, mts, *, approved=None, reference=None, changed=()):
    rows = []
    for i, mt in enumerate(mts):
        seg = f"doc:p{i + 1}:s1"
        rows.append(Row("doc", seg, i + 1, 1, i + 1, "h-new" if i in changed else f"h{i}", f"English {i}", "ru", "mt",
                        None, mt, "m", "r", "ct2", -0.5, 5, False, False, 1.0,
                        approved=(approved or {}).get(i), reference=(reference or {}).get(i)))
        rows.append(Row("doc", seg, i + 1, 1, i + 1, f"h{i}", f"English {i}", "be", "mt", None, "бел " + mt, "m", "r",
                        "ct2", -0.5, 5, False, False, 1.0))
    folder.mkdir()
    to_frame(rows).write_parquet(folder / "segments.parquet")
    return folder


def test_runs_matched_by_segment_with_their_own_references(tmp_path):
    n = 120
    refs = {i: REFS[i] for i in range(n)}
    base = _run(tmp_path / "run-a", _drop_words(REFS[:n], 3), reference={i: refs[i] for i in range(100)})
    # the second run: better MT, a reviewer's fix on one segment, the English of 5 segments changed
    better = _run(tmp_path / "run-b", _drop_words(REFS[:n], 12), approved={0: REFS[0]}, changed=range(110, 115))
    with pytest.raises(InputError, match="holds targets be, ru; choose one with --target"):
        load_system(base, None)
    result = compare([load_system(base, "ru"), load_system(better, "ru")], n_samples=300)
    assert result.n_segments == 100  # references for 100 segments; 110-114 changed, 100-119 have none
    assert result.dropped == 20
    a, b = (result.scores[str(p)] for p in (base, better))
    assert b["bleu"].score > a["bleu"].score
    assert all(c.significant for c in result.comparisons if c.metric == "bleu")
    with pytest.raises(InputError, match="no translations into 'uk'"):
        load_system(base, "uk")


def test_compare_command(files, capsys):
    main(["compare", str(files["weak"]), str(files["good"]), "--ref", str(files["ref"]), "--samples", "200", "--test", "bs"])
    out = capsys.readouterr().out
    assert "| weak (baseline) | – |" in out and "| good |" in out
    assert "paired bootstrap" in out and "BLEU: nrefs:1" in out
    with pytest.raises(SystemExit) as e:
        main(["compare", str(files["weak"]), str(files["good"]), "--test", "xx"])
    assert e.value.code == 2


def test_short_names():
    assert short_names(["out/hyp.Online-B.ru", "out/hyp.PROMT.ru"]) == ["Online-B", "PROMT"]
    assert short_names(["a", "ab"]) == ["a", "ab"]  # would leave an empty name
