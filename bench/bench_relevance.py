"""Relevance on real texts: how many real appeals the pipeline keeps, how many posts it lets in.

Three sets read from ../shared/data at run time (evaluation only, never copied):

- Kursk 2022: 2,000 real appeals sent to a regional feedback platform. Every one of them is
  addressed to the authorities, so the share marked ``relevant`` is the recall.
- SPb 2020: 20,000 real reports to the St Petersburg city portal «Наш Санкт-Петербург»,
  mostly short ones that name a thing and its fault («Листва на газоне», «Решетка»): what
  residents write in comments under a page. The share marked ``relevant`` is the recall.
- RuSentiment "random posts": 21,268 VKontakte posts of every kind (poems, jokes, greetings,
  news). Almost none is an appeal, so the share marked ``relevant`` is an upper bound of
  the false-positive rate (a few posts do complain about a road or the heating).

Each set is split by row parity: the even rows were read while the cues were written
("development"), the odd rows were not looked at ("held out"); a figure that differs much
between the two halves has been fitted to the examples. The texts go through
``Pipeline.default()``, what ``otklik enrich`` runs without ``--model``.

    .venv/bin/python bench/bench_relevance.py [--kursk PATH] [--spb PATH] [--posts PATH]
                                              [--misses N]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from shared_data import SHARED_DATA

from otklik.nlp.pipeline import Pipeline
from otklik.nlp.relevance import REPORT_WEIGHT

SHARED = SHARED_DATA
KURSK = SHARED / "appeals/kursk-2022-train/train_dataset_train.csv"
POSTS = SHARED / "sentiment/rusentiment-dev/rusentiment_random_posts.csv"
SPB = SHARED / "appeals/spb-2020-train/spb_train.jsonl.gz"
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
    appeal = relevance.get("cues", {}).get("appeal", [])
    reports = [cue for cue in appeal if str(cue).startswith("report:")]
    if reports:
        score = relevance.get("scores", {}).get("appeal", 0.0)
        others = [v for k, v in relevance.get("scores", {}).items() if k != "appeal"]
        if score - REPORT_WEIGHT < 2.0 or score - REPORT_WEIGHT < max(others, default=0.0):
            return ("a thing of the city with its fault or fix" if "+" in reports[0]
                    else "a short text that names a thing, a fix or a fault")
    return "appeal cues"


#: Why a real report was missed, by the category the relevance stage gave it.
MISSED_AS = {
    "ad": "taken for an advert (prices, selling words)",
    "spam": "taken for spam (links, money words)",
    "greeting": "taken for a greeting («доброе утро», «с новым годом»)",
    "chatter": "a post to friends (smile, «ты», chatter words)",
    "other": "no cue: no thing, fault or appeal word found",
}


def missed_kind(record: dict[str, Any]) -> str:
    """Why a real report came out ``relevant: false``."""
    category = record["relevance"].get("category") or "other"
    if record["language"] not in (None, "ru"):
        return "not taken for Russian"
    return MISSED_AS.get(category, category)


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


def halves(rows: Sequence[Any]) -> tuple[Sequence[Any], Sequence[Any]]:
    """The development (even rows) and held-out (odd rows) halves of a set."""
    return rows[0::2], rows[1::2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kursk", type=Path, default=KURSK)
    parser.add_argument("--spb", type=Path, default=SPB)
    parser.add_argument("--posts", type=Path, default=POSTS)
    parser.add_argument("--misses", type=int, default=0,
                        help="print this many missed reports of each held-out half")
    args = parser.parse_args()
    console = Console()
    pipeline = Pipeline.default()

    with args.kursk.open(encoding="utf-8", newline="") as f:
        appeals = [(row[1], row[4]) for row in csv.reader(f)]
    with gzip.open(args.spb, "rt", encoding="utf-8") as f:
        spb = [(row["text"], row["category"]) for row in map(json.loads, f)]
    with args.posts.open(encoding="utf-8", newline="") as f:
        posts = [(row["text"], row["label"]) for row in csv.DictReader(f)]

    def enrich(rows: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        return pipeline.process([{"id": str(i), "text": t} for i, (t, _k) in enumerate(rows)])

    kursk_out, spb_out, posts_out = enrich(appeals), enrich(spb), enrich(posts)

    table = Table(title="Relevance on real texts (share marked relevant)", title_justify="left")
    for column in ("set", "what it measures", "development half", "held-out half", "all", "n"):
        table.add_column(column, justify="left" if column in ("set", "what it measures")
                         else "right")
    for name, meaning, out in (
        ("Kursk 2022 appeals", "recall ↑", kursk_out),
        ("SPb 2020 city-portal reports", "recall ↑", spb_out),
        ("RuSentiment VK posts", "false positives, at most ↓", posts_out),
    ):
        flags = [bool(r["relevant"]) for r in out]
        dev, held = halves(flags)
        table.add_row(name, meaning, share(dev), share(held), share(flags), str(len(flags)))
    console.print(table)

    kinds = Table(title="Missed reports by kind (development / held-out half)",
                  title_justify="left")
    for column in ("why it was missed", "Kursk appeals", "SPb reports"):
        kinds.add_column(column, justify="left" if column == "why it was missed" else "right")
    counts = {}
    for name, out in (("kursk", kursk_out), ("spb", spb_out)):
        for half, records in zip(("dev", "held"), halves(out), strict=True):
            counts[name, half] = Counter(missed_kind(r) for r in records if not r["relevant"])
    for kind in sorted({k for c in counts.values() for k in c},
                       key=lambda k: -sum(c[k] for c in counts.values())):
        kinds.add_row(kind, *(f"{counts[n, 'dev'][kind]} / {counts[n, 'held'][kind]}"
                              for n in ("kursk", "spb")))
    console.print(kinds)

    console.print(by_group("Kursk recall by category", "category", "recall", appeals,
                           kursk_out, lambda c: f"{c} {KURSK_CATEGORIES.get(c, '')}"))
    console.print(by_group("SPb recall by portal category", "category", "recall", spb,
                           spb_out, str))
    console.print(by_group("RuSentiment posts marked relevant, by label", "label", "share",
                           posts, posts_out, str))

    rules = Table(title="Which rule decided", title_justify="left")
    for column in ("rule", "Kursk appeals", "SPb reports", "VK posts"):
        rules.add_column(column, justify="left" if column == "rule" else "right")
    decided = [Counter(why(r) for r in out if r["relevant"])
               for out in (kursk_out, spb_out, posts_out)]
    for rule in sorted(set().union(*decided)):
        rules.add_row(rule, *(str(c[rule]) for c in decided))
    console.print(rules)

    if args.misses:
        for title, rows, out in (("Kursk", appeals, kursk_out), ("SPb", spb, spb_out)):
            console.print(f"[bold]Missed {title} reports (held-out half)[/bold]")
            missed = [(text, record) for i, ((text, _c), record)
                      in enumerate(zip(rows, out, strict=True))
                      if i % 2 and not record["relevant"]]
            for text, record in random.Random(0).sample(missed, min(args.misses, len(missed))):
                console.print(f"[dim]{record['relevance']['category']}/"
                              f"{record['kind']['value']}/"
                              f"{(record['subtopic'] or record['topic'])['code']}[/dim] "
                              f"{text[:160]!r}", highlight=False)


if __name__ == "__main__":
    main()
