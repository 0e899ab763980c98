"""Territory benchmark on Kursk appeals (evaluation only: read at run time, nothing saved).

The executor column often names a municipality ("Администрация Льговского района",
"Комитет ... города Курска"): it is a weak label for where the message is about. The
executor name is mapped to a municipality with the same gazetteer; texts whose executor
names none are left out. Accuracy counts texts that name a place: the stage found a
municipality, or the text has a place word ("район", "село", "г.") the stage missed.
Run: .venv/bin/python bench/bench_territory.py [--errors N]
"""

from __future__ import annotations

import argparse
import csv
import re
import resource
import time
from collections import Counter

from shared_data import SHARED_DATA

from otklik.nlp.base import Doc
from otklik.nlp.normalize import NormalizeStage
from otklik.nlp.territory import TerritoryStage

DATA = SHARED_DATA / "appeals/kursk-2022-train/train_dataset_train.csv"
KURSK = "38"  # OKTMO region code of Курская область (regions.csv "46" is the KLADR number)
# A named settlement or district: "с. Клюква", "деревне Моква", "Льговского района".
PLACE_WORDS = re.compile(
    r"(?:(?<![А-Яа-яЁё])(?:[сдпгх]|пос|дер|ст)\.\s*[А-ЯЁ]"
    r"|(?:сел[оеау]|деревн[яеиюй]|пос[её]лк?[еау]?|хутор[еау]?|город[еау]?|станиц[аеы])\s+[А-ЯЁ0-9]"
    r"|[А-Яа-яЁё]+(?:ского|ском|ский|цкого|цком|цкий)\s+(?:район|р-н))"
)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--errors", type=int, default=0, help="print N mismatches")
    parser.add_argument("--wrong-only", action="store_true", help="skip misses when printing")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"data not found: {DATA}")
        return
    with DATA.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))

    t0 = time.perf_counter()
    stage = TerritoryStage()
    load_s = time.perf_counter() - t0

    executor_muni: dict[str, str | None] = {}
    for executor in sorted({r[3] for r in rows}):
        value = stage.recognize(executor, KURSK).value
        muni = value["municipality"]
        executor_muni[executor] = muni["key"] if muni else None

    docs = [Doc(id=r[0], text=r[1], region=KURSK) for r in rows]
    NormalizeStage().process(docs)
    t1 = time.perf_counter()
    results = stage.process(docs)
    run_s = time.perf_counter() - t1

    counts: Counter[str] = Counter()
    errors = []
    for row, doc, res in zip(rows, docs, results, strict=True):
        gold = executor_muni.get(row[3])
        if gold is None:
            continue
        counts["labelled"] += 1
        found = res.value["municipality"]["key"] if res.value["municipality"] else None
        names_place = found is not None or bool(PLACE_WORDS.search(doc.clean))
        if not names_place:
            continue
        counts["names a place"] += 1
        if found is None:
            counts["missed"] += 1
        elif found == gold:
            counts["correct"] += 1
        else:
            counts["wrong"] += 1
        if found != gold and (found is not None or not args.wrong_only):
            errors.append((row[3], found, doc.clean[:300]))

    evaluated = counts["names a place"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("Territory stage on Kursk appeals (region hint 38)")
    print(f"{'metric':<40}{'value':>12}")
    for key in ("labelled", "names a place", "correct", "wrong", "missed"):
        print(f"{'texts ' + key:<40}{counts[key]:>12}")
    if evaluated:
        print(f"{'accuracy (correct / names a place)':<40}{counts['correct'] / evaluated:>12.3f}")
        found_n = counts["correct"] + counts["wrong"]
        if found_n:
            print(f"{'precision (correct / found)':<40}{counts['correct'] / found_n:>12.3f}")
    print(f"{'index load, s':<40}{load_s:>12.2f}")
    print(f"{'throughput, texts/s':<40}{len(docs) / run_s:>12.0f}")
    print(f"{'max RSS of this process, MB':<40}{rss:>12.0f}")
    for executor, found, text in errors[: args.errors]:
        print(f"\n[{executor} → {executor_muni[executor]}] found {found}\n  {text}")


if __name__ == "__main__":
    main()
