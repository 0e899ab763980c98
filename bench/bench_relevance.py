"""Relevance on real texts: how many real appeals the pipeline keeps, how many posts it lets in.

Two sets read from ../shared/data at run time (evaluation only, never copied):

- Kursk 2022: 2,000 real appeals sent to a regional feedback platform. Every one of them is
  addressed to the authorities, so the share marked ``relevant`` is the recall.
- RuSentiment "random posts": 21,268 VKontakte posts of every kind (poems, jokes, greetings,
  news). Almost none is an appeal, so the share marked ``relevant`` is an upper bound of
  the false-positive rate (a few posts do complain about a road or the heating).

Each set is split by row parity: the even rows were read while the cues were written
("development"), the odd rows were not looked at ("held out"); a figure that differs much
between the two halves has been fitted to the examples.

    .venv/bin/python bench/bench_relevance.py [--kursk PATH] [--posts PATH] [--misses N]
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from otklik.nlp.pipeline import Pipeline

SHARED = Path(__file__).resolve().parents[2] / "shared/data"
KURSK = SHARED / "appeals/kursk-2022-train/train_dataset_train.csv"
POSTS = SHARED / "sentiment/rusentiment-dev/rusentiment_random_posts.csv"
KURSK_CATEGORIES = {
    "0": "roads", "1": "stray animals", "2": "state services", "3": "housing, public spaces",
    "4": "health", "5": "culture", "6": "support / COVID", "7": "education",
    "8": "public transport", "9": "communications", "10": "social protection",
    "11": "construction", "12": "test", "13": "trade", "14": "employment", "15": "sport",
    "16": "ecology / waste",
}


def why(record: dict[str, Any]) -> str:
    """Which rule made a text relevant (the pipeline's explanation says it)."""
    relevance = record["explain"].get("relevance", {})
    if "public_matter" in relevance:
        return "complaint or question about a rubric subject"
    return "appeal cues"


def share(flags: Sequence[bool]) -> str:
    return f"{sum(flags) / max(len(flags), 1):.3f}"


def by_group(title: str, group: str, measure: str, rows: Sequence[tuple[str, str]],
             out: Sequence[dict[str, Any]], name: Callable[[str], str]) -> Table:
    """The share marked relevant per group (the second field of each row), largest first."""
    table = Table(title=title, title_justify="left")
    for column in (group, measure, "n"):
        table.add_column(column, justify="left" if column == group else "right")
    groups: dict[str, list[bool]] = {}
    for (_text, key), record in zip(rows, out, strict=True):
        groups.setdefault(key, []).append(bool(record["relevant"]))
    for key, flags in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        table.add_row(name(key), share(flags), str(len(flags)))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kursk", type=Path, default=KURSK)
    parser.add_argument("--posts", type=Path, default=POSTS)
    parser.add_argument("--misses", type=int, default=0,
                        help="print this many missed appeals of the held-out half")
    args = parser.parse_args()
    console = Console()
    pipeline = Pipeline.default()

    with args.kursk.open(encoding="utf-8", newline="") as f:
        appeals = [(row[1], row[4]) for row in csv.reader(f)]
    with args.posts.open(encoding="utf-8", newline="") as f:
        posts = [(row["text"], row["label"]) for row in csv.DictReader(f)]
    kursk_out = pipeline.process([{"id": str(i), "text": t} for i, (t, _c) in enumerate(appeals)])
    posts_out = pipeline.process([{"id": str(i), "text": t} for i, (t, _l) in enumerate(posts)])

    table = Table(title="Relevance on real texts (share marked relevant)", title_justify="left")
    for column in ("set", "what it measures", "development half", "held-out half", "all", "n"):
        table.add_column(column, justify="left" if column in ("set", "what it measures")
                         else "right")
    for name, meaning, out in (
        ("Kursk 2022 appeals", "recall ↑", kursk_out),
        ("RuSentiment VK posts", "false positives, at most ↓", posts_out),
    ):
        flags = [bool(r["relevant"]) for r in out]
        table.add_row(name, meaning, share(flags[0::2]), share(flags[1::2]), share(flags),
                      str(len(flags)))
    console.print(table)

    console.print(by_group("Kursk recall by category", "category", "recall", appeals,
                           kursk_out, lambda c: f"{c} {KURSK_CATEGORIES.get(c, '')}"))
    console.print(by_group("RuSentiment posts marked relevant, by label", "label", "share",
                           posts, posts_out, str))

    rules = Table(title="Which rule decided", title_justify="left")
    for column in ("rule", "Kursk appeals", "VK posts"):
        rules.add_column(column, justify="left" if column == "rule" else "right")
    kursk_rules = Counter(why(r) for r in kursk_out if r["relevant"])
    posts_rules = Counter(why(r) for r in posts_out if r["relevant"])
    for rule in sorted(set(kursk_rules) | set(posts_rules)):
        rules.add_row(rule, str(kursk_rules[rule]), str(posts_rules[rule]))
    console.print(rules)

    if args.misses:
        missed = [(text, record) for i, ((text, _c), record)
                  in enumerate(zip(appeals, kursk_out, strict=True))
                  if i % 2 and not record["relevant"]]
        for text, record in random.Random(0).sample(missed, min(args.misses, len(missed))):
            console.print(f"[dim]{record['relevance']['category']}/{record['kind']['value']}/"
                          f"{(record['subtopic'] or record['topic'])['code']}[/dim] "
                          f"{text[:160]!r}", highlight=False)


if __name__ == "__main__":
    main()
