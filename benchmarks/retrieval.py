"""Retrieval recall on RealTime QA: how often the passages a question retrieves hold its answer.

    python benchmarks/retrieval.py [--year 2024] [--weeks N] [--postgres URL|temp]

For every question of the cached weekly indexes (`benchmarks/realtimeqa.py` builds them), the dense
and lexical rankings are computed once; then recall@k (a passage among the top k holds a gold
answer, SQuAD normalisation) is printed for dense alone, lexical alone, and reciprocal-rank fusion
over a small grid of its settings and of its recency prior (each question asked on its own date),
beside the share of questions whose answer is anywhere in the week's passages (the ceiling). Tune on
2024 (the training year), not on 2025. With `--postgres`, each week is copied (passages and vectors
as they are, nothing re-embedded) into a fresh database on that server and ranked by the PostgreSQL
backend: its lexical side is PostgreSQL full-text search.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from parts import StoreParts
from realtimeqa import is_excluded, load, normalise_answer
from speed import postgres_databases

from index import Library, LibraryConfig
from index.config import SearchWeights
from index.retrieval import Embedder
from index.retrieval.search import fuse, with_recency

HERE = Path(__file__).resolve().parent

KS = (1, 5, 8, 12, 20, 50)


def rankings(year: str, cache: Path, weeks: int | None, depth: int, database=None) -> list[dict]:
    embedder = Embedder()
    _, questions = load(year)
    folders = sorted((cache / year).iterdir()) if (cache / year).exists() else []
    if weeks:
        folders = folders[-weeks:]
    out = []
    for folder in folders:
        config = LibraryConfig(data_dir=folder)
        if not Library(config, embedder=embedder).has_news():
            continue
        if database is not None:
            config = copied(StoreParts(config), LibraryConfig(data_dir=folder, database_url=database()))
        week = StoreParts(config)
        passages = week.inventory.passage_dates()
        texts = {pid: f" {normalise_answer(text)} " for pid, text, _ in passages}
        published = {pid: date for pid, _, date in passages}
        for question in questions:
            if question["week"] != folder.name or is_excluded(question["question"]):
                continue
            golds = [f" {g} " for g in map(normalise_answer, question["answers"]) if g]
            vector = embedder.encode_question(question["question"])
            out.append(
                {
                    "good": {pid for pid, text in texts.items() if any(g in text for g in golds)},
                    "dense": week.vectors.current().search(vector, depth),
                    "lexical": week.articles.lexical_search(question["question"], depth),
                    "published": published,
                    "asked": datetime.fromisoformat(question["date"]),
                }
            )
    return out


def copied(source: StoreParts, target: LibraryConfig) -> LibraryConfig:
    """The library at `target` holding `source`'s articles, passages and vectors, through the store's
    write path."""
    StoreParts(target).write(list(source.inventory.stories()))
    return target


def search_order(row: dict, weights: SearchWeights) -> list[int]:
    """Passage ids as the library's search orders them, the question asked on its own date."""
    fused = fuse(row["dense"][: weights.depth], row["lexical"][: weights.depth], weights)
    return [pid for pid, _ in with_recency(fused, row["published"], row["asked"], weights)]


def recall(rows: list[dict], ranked) -> list[float]:
    return [100 * sum(bool(set(ranked(r)[:k]) & r["good"]) for r in rows) / len(rows) for k in KS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", default="2024", choices=["2024", "2025"])
    parser.add_argument("--weeks", type=int, help="only the last N cached weeks")
    parser.add_argument("--cache", type=Path, default=HERE / "cache" / "realtimeqa")
    parser.add_argument("--postgres", metavar="URL", help="rank with the PostgreSQL backend on this server (or temp)")
    args = parser.parse_args()

    server, database = postgres_databases(args.postgres) if args.postgres else (None, None)
    try:
        rows = rankings(args.year, args.cache, args.weeks, depth=200, database=database)
    finally:
        if server is not None:
            server.stop()
    if not rows:
        sys.exit(f"no cached {args.year} weeks; run `python benchmarks/realtimeqa.py --year {args.year}` first")
    ceiling = 100 * sum(bool(r["good"]) for r in rows) / len(rows)
    print(f"{args.year}: {len(rows)} questions; answer anywhere in the week's passages: {ceiling:.1f}%\n")
    print(f"{'ranking':<44}" + "".join(f"{'@' + str(k):>8}" for k in KS))
    grid = {
        "dense only": lambda r: [pid for pid, _ in r["dense"]],
        "lexical only": lambda r: r["lexical"],
    }
    default = SearchWeights()
    for rrf_k in (10, 60):
        for lexical in (0.5, 1.0, 1.5):
            for depth in (50, 200):
                weights = SearchWeights(lexical=lexical, rrf_k=rrf_k, depth=depth, recency=0.0)
                grid[f"fused k={rrf_k} lexical={lexical} depth={depth}"] = lambda r, w=weights: search_order(r, w)
    for recency in (0.25, 0.5, 0.75):
        for days in (7.0, 14.0, 30.0):
            weights = SearchWeights(recency=recency, recency_days=days)
            mark = " (default)" if weights == default else ""
            grid[f"fused, recency {recency} over {days:g} days{mark}"] = lambda r, w=weights: search_order(r, w)
    for name, ranked in grid.items():
        print(f"{name:<44}" + "".join(f"{v:>8.1f}" for v in recall(rows, ranked)))


if __name__ == "__main__":
    main()
