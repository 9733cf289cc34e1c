"""Sentence aligner on small vendored excerpts of real parallel text (tests/data/align,
NTREX-128 and UDHR; see ATTRIBUTION.md there)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from workflow.align.aligner import Bead, align, align_paragraph_translation, spread_targets
from workflow.align.files import format_beads
from workflow.cli.align import align_command
from workflow.core.errors import InputError
from workflow.corpus.segment import split_sentences
from workflow.align.translit import name_key, to_latin

from conftest import DATA as _TESTS_DATA

DATA = _TESTS_DATA / "align"


def lines(name: str) -> list[str]:
    return (DATA / name).read_text(encoding="utf-8").splitlines()


def ntrex(lang: str, doc: str | None = None) -> list[str]:
    ids = lines("ntrex.docids.txt")
    return [t for t, d in zip(lines(f"ntrex.{lang}.txt"), ids) if doc is None or d == doc]


EN = ntrex("en")
TGT = {"be": ntrex("be"), "ru": ntrex("ru")}


def build(lang: str, ops: dict[int, str]):
    """Perturb the 1:1 NTREX excerpt: ops maps a unit index to '2:1' (merge that target
    sentence with the next), '1:2' (merge source sentences), '2:2' (crossing merges over
    three units), '1:0' (drop the target), '0:1' (drop the source). Returns src, tgt, gold."""
    en, tg = EN, TGT[lang]
    src, tgt, gold = [], [], []

    def emit(s, t):
        gold.append((tuple(range(len(src), len(src) + len(s))), tuple(range(len(tgt), len(tgt) + len(t)))))
        src.extend(s)
        tgt.extend(t)

    k = 0
    while k < len(en):
        op = ops.get(k, "1:1")
        if op == "2:1":
            emit([en[k], en[k + 1]], [tg[k] + " " + tg[k + 1]]); k += 2
        elif op == "1:2":
            emit([en[k] + " " + en[k + 1]], [tg[k], tg[k + 1]]); k += 2
        elif op == "2:2":
            emit([en[k] + " " + en[k + 1], en[k + 2]], [tg[k], tg[k + 1] + " " + tg[k + 2]]); k += 3
        elif op == "1:0":
            emit([en[k]], []); k += 1
        elif op == "0:1":
            emit([], [tg[k]]); k += 1
        else:
            emit([en[k]], [tg[k]]); k += 1
    return src, tgt, gold


OPS = {3: "2:1", 9: "1:2", 18: "2:2", 25: "1:0", 33: "0:1", 40: "2:1"}


def check_cover(beads: list[Bead], n: int, m: int) -> None:
    src = [i for b in beads for i in b.src]
    tgt = [j for b in beads for j in b.tgt]
    assert src == list(range(n)) and tgt == list(range(m))
    assert all(0.0 <= b.score <= 1.0 for b in beads)
    assert all(len(b.src) <= 2 and len(b.tgt) <= 2 and (b.src or b.tgt) for b in beads)


@pytest.mark.parametrize("lang", ["be", "ru"])
def test_recovers_merges_and_deletions_in_real_text(lang):
    src, tgt, gold = build(lang, OPS)
    beads = align(src, tgt, "en", lang)
    check_cover(beads, len(src), len(tgt))
    predicted = {(b.src, b.tgt) for b in beads}
    special = [g for g in gold if (len(g[0]), len(g[1])) != (1, 1)]
    assert {(len(s), len(t)) for s, t in special} == {(2, 1), (1, 2), (2, 2), (1, 0), (0, 1)}
    for g in special:
        assert g in predicted, f"{lang}: gold bead {g} not recovered"
    correct = sum(1 for g in gold if g in predicted)
    assert correct / len(gold) >= 0.95
    # deletions and insertions are always weak spots
    for b in beads:
        if not b.src or not b.tgt:
            assert b.score < 0.5


def test_one_to_one_document_stays_one_to_one():
    beads = align(EN, TGT["be"], "en", "be")
    assert [(b.src, b.tgt) for b in beads] == [((i,), (i,)) for i in range(len(EN))]


def test_bridge_helps_not_required():
    """A bridge (here the Russian human translation standing in for MT into a close
    language) keeps the alignment correct; a bridge with holes ("") still works."""
    src, tgt, gold = build("be", OPS)
    # the bridge follows the source side, built with the same operations
    ru_src, _, _ = build_bridge(OPS)
    with_bridge = align(src, tgt, "en", "be", bridge=ru_src)
    check_cover(with_bridge, len(src), len(tgt))
    assert sum(1 for b in with_bridge if (b.src, b.tgt) in set(gold)) >= len(gold) - 1
    holes = [t if k % 3 else "" for k, t in enumerate(ru_src)]
    check_cover(align(src, tgt, "en", "be", bridge=holes), len(src), len(tgt))
    with pytest.raises(ValueError):
        align(src, tgt, "en", "be", bridge=ru_src[:-1])


def build_bridge(ops):
    """Russian text per English unit under the same operations (source-side merges join)."""
    out = []
    k = 0
    ru = TGT["ru"]
    while k < len(EN):
        op = ops.get(k, "1:1")
        if op == "2:1":
            out += [ru[k], ru[k + 1]]; k += 2
        elif op == "1:2":
            out += [ru[k] + " " + ru[k + 1]]; k += 2
        elif op == "2:2":
            out += [ru[k] + " " + ru[k + 1], ru[k + 2]]; k += 3
        elif op == "0:1":
            k += 1
        else:
            out.append(ru[k]); k += 1
    return out, None, None


def test_vecalign_and_tsv_format():
    src, tgt, _ = build("ru", {2: "2:1", 30: "1:0"})
    beads = align(src, tgt, "en", "ru")
    text = format_beads(beads, src, tgt, "vecalign")
    rows = text.splitlines()
    assert len(rows) == len(beads)
    pattern = re.compile(r"^\[(\d+(, \d+)*)?\]:\[(\d+(, \d+)*)?\]:\d\.\d{4}$")
    assert all(pattern.match(r) for r in rows), rows[:5]
    assert "[2, 3]:[2]:" in text and re.search(r"^\[30\]:\[\]:", text, re.M)
    tsv = format_beads(beads, src, tgt, "tsv").splitlines()
    assert tsv[0] == "src_ids\ttgt_ids\tsrc\ttgt\tscore"
    cells = tsv[3].split("\t")
    assert cells[0] == "2,3" and cells[1] == "2" and cells[3] == tgt[2] and len(cells) == 5


def test_paragraph_translation_alignment():
    en = EN[16:22]
    be = TGT["be"][16:22]
    # the model's paragraph, with sentences 2 and 3 rendered as one
    merged = be[2].rstrip(".") + ", і " + be[3][0].lower() + be[3][1:]
    paragraph = " ".join([be[0], be[1], merged, be[4], be[5]])
    out = align_paragraph_translation(en, paragraph, "be")
    assert out == [be[0], be[1], merged, "", be[4], be[5]]
    # an extra target sentence is kept, appended to the English sentence before it
    out = align_paragraph_translation(en[:3], " ".join(be[:3] + ["Гэта дадатковы сказ."]), "be")
    assert out[:2] == be[:2] and out[2].startswith(be[2])


def test_spread_targets_representation():
    beads = [Bead((), (0,), 0.1), Bead((0,), (1, 2), 0.9), Bead((1, 2), (3,), 0.8), Bead((3,), (), 0.2)]
    tgt = ["x.", "a.", "b.", "c."]
    assert spread_targets(beads, tgt, 4) == ["x. a. b.", "c.", "", ""]


def test_belarusian_splitter_and_aligner_on_real_text():
    """razdel splits the Belarusian NTREX excerpt back into its sentences, except after
    'в.' (востраў, island), which it takes for a sentence end; the aligner absorbs those
    extra splits as 1:2 beads."""
    ids = lines("ntrex.docids.txt")
    for doc in ("bbc.381790", "upi.176266"):
        be = ntrex("be", doc)
        assert split_sentences(" ".join(be), "be") == be
    be = ntrex("be", "nytimes.184837")
    split = split_sentences(" ".join(be), "be")
    assert len(split) == len(be) + 2
    en = ntrex("en", "nytimes.184837")
    beads = align(en, split, "en", "be")
    check_cover(beads, len(en), len(split))
    two = [b for b in beads if len(b.tgt) == 2]
    assert len(two) == 2 and all(split[b.tgt[0]].endswith("в.") for b in two)
    assert ids.count("nytimes.184837") == len(en)


def test_udhr_paragraphs_align_consistently():
    en = [s for p in lines("udhr.en.txt") for s in split_sentences(p, "en")]
    for lang in ("be", "ru"):
        paras = lines(f"udhr.{lang}.txt")
        tg = [s for p in paras for s in split_sentences(p.replace("\u02bc", "'"), lang)]
        beads = align(en, tg, "en", lang)
        check_cover(beads, len(en), len(tg))
        assert [(b.src, b.tgt) for b in beads] == [((i,), (i,)) for i in range(len(en))]
        # merge UDHR clauses on the target side: 2:1 beads recovered
        merged = tg[:1] + [tg[1] + " " + tg[2]] + tg[3:]
        beads = align(en, merged, "en", lang)
        assert ((1, 2), (1,)) in {(b.src, b.tgt) for b in beads}


def test_name_keys_across_scripts():
    assert name_key("Lukashenko") == name_key("Лукашенко") == name_key("Лукашэнка")
    assert name_key("Putin") == name_key("Путиным")
    assert name_key("Wales") == name_key("Уэльса")
    assert to_latin("Мінск, ўсё") == "Minsk, wsyo"


# ------------------------------------------------------------------ CLI


def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.command("align")(align_command)

    @app.callback()
    def _main() -> None:  # keep "align" as a subcommand
        pass

    return app


def test_cli_on_raw_documents(tmp_path):
    ids = lines("ntrex.docids.txt")
    docs = list(dict.fromkeys(ids))
    src = tmp_path / "article.en.txt"
    tgt = tmp_path / "article.be.txt"
    # raw documents: one paragraph per document, blank line between
    src.write_text("\n\n".join(" ".join(ntrex("en", d)[1:]) for d in docs) + "\n", encoding="utf-8")
    tgt.write_text("\n\n".join(" ".join(ntrex("be", d)[1:]) for d in docs) + "\n", encoding="utf-8")
    out = tmp_path / "out.tsv"
    result = CliRunner().invoke(cli_app(), ["align", str(src), str(tgt), "--src-lang", "en", "--tgt-lang", "be", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("src_ids\ttgt_ids")
    body = [r.split("\t") for r in rows[1:]]
    assert len(body) >= 35
    assert all(len(r) == 5 for r in body)
    assert sum(1 for r in body if "," not in r[0] + r[1] and r[0] and r[1]) >= 30  # mostly 1:1
    assert not list(tmp_path.glob(".out.tsv.*"))  # no temp file left behind
    vec = tmp_path / "out.vec"
    result = CliRunner().invoke(cli_app(), ["align", str(src), str(tgt), "--format", "vecalign", "-o", str(vec)])
    assert result.exit_code == 0, result.output
    assert vec.read_text().startswith("[0]:[0]:")


def test_cli_presplit_with_bridge_and_errors(tmp_path):
    src = tmp_path / "en.txt"
    tgt = tmp_path / "ru.txt"
    mt = tmp_path / "mt.txt"
    src.write_text("\n".join(EN[:16]) + "\n", encoding="utf-8")
    tgt.write_text("\n".join(TGT["ru"][:16]) + "\n", encoding="utf-8")
    mt.write_text("\n".join(TGT["ru"][:16]) + "\n", encoding="utf-8")
    out = tmp_path / "a.vec"
    align_command(src, tgt, "en", "ru", bridge=mt, presplit=True, out=out, fmt="vecalign")
    assert out.read_text().splitlines()[5].startswith("[5]:[5]:")
    mt.write_text("\n".join(TGT["ru"][:15]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"mt\.txt: 15 non-empty lines.*16 sentences"):
        align_command(src, tgt, "en", "ru", bridge=mt, presplit=True, out=out, fmt="tsv")
    with pytest.raises(InputError, match="missing.txt: no such file"):
        align_command(tmp_path / "missing.txt", tgt, out=out)
    with pytest.raises(InputError, match="--tgt-lang 'uk'"):
        align_command(src, tgt, tgt_lang="uk", out=out)
    bad = tmp_path / "bin.txt"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(InputError, match="bin.txt"):
        align_command(bad, tgt, out=out)


def test_bridge_vectors_do_not_depend_on_the_process_hash_seed():
    """The MT-bridge n-gram vectors (and so bridge alignments) are the same in every process:
    Python's salted ``hash`` made bridge figures differ from run to run."""
    code = ("import hashlib; from workflow.align.aligner import _ngram_vectors; "
            "print(hashlib.sha256(_ngram_vectors(['Лукашэнка сустрэўся з журналістамі.', 'Minsk, 2024']).tobytes()).hexdigest())")
    out = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                          capture_output=True, text=True, check=True).stdout for seed in ("1", "2", "3")}
    assert len(out) == 1
