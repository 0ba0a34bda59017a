"""Retrieval recall on RealTime QA: how often the passages a question retrieves hold its answer.

    python benchmarks/retrieval.py [--year 2024] [--weeks N]

For every question of the cached weekly indexes (`benchmarks/realtimeqa.py` builds them), the dense
and lexical rankings are computed once; then recall@k (a passage among the top k holds a gold answer,
SQuAD normalisation) is printed for dense alone, lexical alone, and reciprocal-rank fusion over a
small grid of its settings, beside the share of questions whose answer is anywhere in the week's
passages (the ceiling). Tune on 2024 (the training year), not on 2025.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from realtimeqa import is_excluded, load, normalise_answer  # noqa: E402

from index import Library, LibraryConfig  # noqa: E402
from index.embed import Embedder  # noqa: E402
from index.search import SearchWeights, fuse  # noqa: E402

KS = (1, 5, 8, 20, 50)


def rankings(year: str, cache: Path, weeks: int | None, depth: int) -> list[dict]:
    """Per question: its dense and lexical rankings and the passages that hold a gold answer."""
    _, questions = load(year)
    embedder = Embedder()
    folders = sorted((cache / year).iterdir()) if (cache / year).exists() else []
    if weeks:
        folders = folders[-weeks:]
    out = []
    for folder in folders:
        articles = Library(LibraryConfig(data_dir=folder), embedder=embedder).articles
        if not articles.has_passages():
            continue
        conn = sqlite3.connect(f"file:{folder / 'news.sqlite3'}?mode=ro", uri=True)
        passages = conn.execute("SELECT id, text FROM passages").fetchall()
        conn.close()
        texts = {pid: f" {normalise_answer(text)} " for pid, text in passages}
        for question in questions:
            if question["week"] != folder.name or is_excluded(question["question"]):
                continue
            golds = [f" {g} " for g in map(normalise_answer, question["answers"]) if g]
            vector = embedder.encode_question(question["question"])
            out.append(
                {
                    "good": {pid for pid, text in texts.items() if any(g in text for g in golds)},
                    "dense": articles.vectors.current().search(vector, depth),
                    "lexical": articles.lexical_search(question["question"], depth),
                }
            )
    return out


def recall(rows: list[dict], ranked) -> list[float]:
    return [100 * sum(bool(set(ranked(r)[:k]) & r["good"]) for r in rows) / len(rows) for k in KS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", default="2024", choices=["2024", "2025"])
    parser.add_argument("--weeks", type=int, help="only the last N cached weeks")
    parser.add_argument("--cache", type=Path, default=HERE / "cache" / "realtimeqa")
    args = parser.parse_args()

    rows = rankings(args.year, args.cache, args.weeks, depth=200)
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
                weights = SearchWeights(lexical=lexical, rrf_k=rrf_k, depth=depth)
                mark = " (default)" if weights == default else ""
                grid[f"fused k={rrf_k} lexical={lexical} depth={depth}{mark}"] = lambda r, w=weights: [
                    pid for pid, _ in fuse(r["dense"][: w.depth], r["lexical"][: w.depth], w)
                ]
    for name, ranked in grid.items():
        print(f"{name:<44}" + "".join(f"{v:>8.1f}" for v in recall(rows, ranked)))


if __name__ == "__main__":
    main()
