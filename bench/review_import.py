"""Review import figures: how well it tells a fix's language
(``workflow.review.content.fix_language``), and what the review workbook costs.

Human translations nobody here wrote (``../shared/data``): NTREX-128 news (1,997 sentences,
EN/BE/RU) and the Tatoeba bel-rus / bel-eng test sets (2,500 short sentences each). Every
sentence is offered as a fix for each target language: in its own language it must be
taken (a refusal is a false alarm), in the other one (or English) it should be refused.

Workbook: a synthetic document of 5,000 segments (a third flagged, with a blamed span and
a comment) written by ``workflow.outputs.xlsx`` and read back by ``workflow.review.xlsx``.

    .venv/bin/python bench/review_import.py
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from workflow.core.records import Row
from workflow.corpus.segment import text_hash
from workflow.outputs.xlsx import files
from workflow.review.content import fix_language
from workflow.review.xlsx import read_workbook

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TARGETS = ("be", "ru")


def lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    ntrex, tatoeba = DATA / "ntrex128", DATA / "tatoeba"
    sets = {
        "NTREX-128": {"be": lines(ntrex / "newstest2019-ref.bel.txt"), "ru": lines(ntrex / "newstest2019-ref.rus.txt"),
                      "en": lines(ntrex / "newstest2019-src.eng.txt")},
        "Tatoeba": {"be": lines(tatoeba / "bel-rus" / "tatoeba-test-v2021-08-07.bel"),
                    "ru": lines(tatoeba / "bel-rus" / "tatoeba-test-v2021-08-07.rus"),
                    "en": lines(tatoeba / "bel-eng" / "tatoeba-test-v2021-08-07.eng")},
    }
    print("| data | text | offered as | refused | of | rate |")
    print("|---|---|---|---|---|---|")
    t0, n = time.perf_counter(), 0
    for name, by_lang in sets.items():
        for lang, texts in by_lang.items():
            for target in TARGETS:
                got = [fix_language(t, target, TARGETS) for t in texts]
                n += len(texts)
                refused = sum(g is not None for g in got)
                print(f"| {name} | {lang} | {target} fix | {refused} | {len(texts)} | {refused / len(texts):.1%} |")
    print(f"\n{n} judgements in {time.perf_counter() - t0:.1f} s")
    workbook()


def workbook(n: int = 5000) -> None:
    rows = []
    for i in range(1, n + 1):
        en = f"Sentence number {i} about the police and the violence in Minsk, with some more words."
        for target, mt in (("be", f"Сказ нумар {i} пра міліцыю і гвалт у Мінску, з яшчэ некалькімі словамі."),
                           ("ru", f"Предложение номер {i} о милиции и насилии в Минске, с ещё несколькими словами.")):
            flagged = i % 3 == 0 and target == "be"
            rows.append(Row("big", f"big:p{i}:s1", i, 1, i, text_hash(en), en, target, "mt", None, mt, "m", "r", "e",
                            -0.5, 10, False, False, 1.0, ["spelling"] if flagged else [], 1.0 if flagged else 0.1,
                            flagged, [{"start": 0, "end": 4, "reason": "spelling"}] if flagged else []))
    t0 = time.perf_counter()
    ((name, data),) = files(rows, ["be", "ru"], {})
    written = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, table, _ = read_workbook(data, name, ["be", "ru"], 2**28)
    read = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nworkbook of {n} segments: {len(data) / 2**20:.2f} MB, written in {written:.1f} s, "
          f"{len(table)} rows read back in {read:.1f} s; peak RSS of this script {rss:.0f} MB")


if __name__ == "__main__":
    main()
