"""How close a story must be to a follow's topic to be posted (`index/search.py` FOLLOW_SIMILARITY).

    python benchmarks/follows.py [--cache benchmarks/cache/realtimeqa]

On the cached RealTime QA 2024 weeks (training years only; `benchmarks/realtimeqa.py --year 2024
--weeks 6` builds them): each quiz question stands for a topic someone follows ("NFL player Damar
Hamlin suffered an on-field medical emergency..."), its own linked articles are the stories that
follow should post, every other story of that week is one it should not. A story's closeness is
its passages' best cosine with the topic, as `HybridSearch.matching` computes it (a headline that
names every topic word matches outright; shown apart). Prints precision, recall and F1 of "should
post" at each cut-off, and the cut-off with the best F1. Needs ../shared/data/realtimeqa/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.embed import Embedder  # noqa: E402
from index.text import content_terms  # noqa: E402

REALTIMEQA = ROOT.parent / "shared" / "data" / "realtimeqa"


def week_stories(db: Path) -> dict[str, tuple[str, np.ndarray]]:
    """url -> (headline, passage vectors) of one cached week index."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    stories: dict[str, tuple[str, list[np.ndarray]]] = {}
    for url, title, blob in conn.execute(
        "SELECT a.url, a.title, p.vector FROM passages p JOIN articles a ON a.id = p.article_id"
    ):
        stories.setdefault(url, (title, []))[1].append(np.frombuffer(blob, dtype=np.float32))
    conn.close()
    return {url: (title, np.vstack(vectors)) for url, (title, vectors) in stories.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / "cache" / "realtimeqa")
    args = parser.parse_args()
    questions_file = REALTIMEQA / "2024" / "questions.jsonl.gz"
    if not questions_file.exists():
        print(f"skipped: {questions_file} not found (the shared RealTime QA data)")
        return 0
    urls = {}
    with gzip.open(REALTIMEQA / "2024" / "articles.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            urls[record["id"]] = record["url"]
    with gzip.open(questions_file, "rt", encoding="utf-8") as lines:
        questions = [json.loads(line) for line in lines]
    embedder = Embedder()
    scores: list[tuple[float, bool, bool]] = []  # (closeness, headline names the topic, should post)
    weeks = sorted((args.cache / "2024").glob("*/news.sqlite3"))
    if not weeks:
        print(f"skipped: no cached 2024 weeks under {args.cache} (run benchmarks/realtimeqa.py --year 2024 --weeks 6)")
        return 0
    for db in weeks:
        stories = week_stories(db)
        week = db.parent.name
        for question in (q for q in questions if q["week"] == week):
            wanted = {urls[a] for a in question["articles"] if a in urls}
            topic = question["question"]
            vector = embedder.encode_question(topic)
            words = set(content_terms(topic))
            for url, (title, vectors) in stories.items():
                named = bool(words) and words <= set(content_terms(title))
                scores.append((float((vectors @ vector).max()), named, url in wanted))
    total = sum(wanted for _, _, wanted in scores)
    print(f"{len(weeks)} weeks of 2024, {len(scores):,} (topic, story) pairs, {total:,} should be posted")
    print(f"headline names every topic word: {sum(n for _, n, _ in scores)} pairs")
    best = (0.0, 0.0)
    for cut in np.arange(0.20, 0.71, 0.05):
        posted = [(s >= cut or named, wanted) for s, named, wanted in scores]
        hits = sum(p and w for p, w in posted)
        shown = sum(p for p, _ in posted)
        precision = hits / shown if shown else 0.0
        recall = hits / total if total else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        best = max(best, (f1, cut))
        print(f"  cut-off {cut:.2f}: precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  posted {shown:,}")
    print(f"best F1 {best[0]:.3f} at {best[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
