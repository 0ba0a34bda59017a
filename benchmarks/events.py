"""When two stories report the same event (`index/events.py` EVENT_SIMILARITY): the clustering behind
"one post per event" in follows and the events of `brief`.

    python benchmarks/events.py [--cache benchmarks/cache/realtimeqa]

A labelled set from the cached RealTime QA 2024 weeks (training years only): two stories linked
from the same quiz question report the same event; two stories of the same week that no question
links together do not. A story is represented as `index/events.py` represents it (its first
passage's vector: the headline and the lead; or, shown beside, the mean of its passage vectors).
Prints precision and recall of "same event" pairs at each cut-off. Needs ../shared/data/realtimeqa/.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import sys
from pathlib import Path

import numpy as np
from parts import StoreParts

from index import LibraryConfig

ROOT = Path(__file__).resolve().parent.parent

REALTIMEQA = ROOT.parent / "shared" / "data" / "realtimeqa"


def story_vectors(db: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """url -> (first passage's vector, mean passage vector) of one cached week index."""
    out = {}
    for article, _, vectors in StoreParts(LibraryConfig(data_dir=db.parent)).inventory.stories():
        mean = np.mean(vectors, axis=0)
        out[article.url] = (vectors[0], mean / np.linalg.norm(mean))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / "cache" / "realtimeqa")
    args = parser.parse_args()
    if not (REALTIMEQA / "2024" / "questions.jsonl.gz").exists():
        print("skipped: ../shared/data/realtimeqa/2024 not found")
        return 0
    with gzip.open(REALTIMEQA / "2024" / "articles.jsonl.gz", "rt", encoding="utf-8") as lines:
        urls = {record["id"]: record["url"] for record in map(json.loads, lines)}
    with gzip.open(REALTIMEQA / "2024" / "questions.jsonl.gz", "rt", encoding="utf-8") as lines:
        questions = [json.loads(line) for line in lines]
    weeks = sorted((args.cache / "2024").glob("*/news.sqlite3"))
    if not weeks:
        print(f"skipped: no cached 2024 weeks under {args.cache} (run benchmarks/realtimeqa.py --year 2024 --weeks 6)")
        return 0
    pairs: list[tuple[float, float, bool]] = []  # (first-passage cosine, mean cosine, same event)
    for db in weeks:
        vectors = story_vectors(db)
        together: set[frozenset[str]] = set()
        for question in (q for q in questions if q["week"] == db.parent.name):
            linked = sorted({urls[a] for a in question["articles"] if a in urls and urls[a] in vectors})
            together.update(frozenset(p) for p in itertools.combinations(linked, 2))
        for a, b in itertools.combinations(sorted(vectors), 2):
            (fa, ma), (fb, mb) = vectors[a], vectors[b]
            pairs.append((float(fa @ fb), float(ma @ mb), frozenset((a, b)) in together))
    same = sum(label for _, _, label in pairs)
    print(f"{len(weeks)} weeks of 2024: {len(pairs):,} story pairs, {same:,} of them the same event")
    for name, column in (("first passage (headline and lead)", 0), ("mean of passages", 1)):
        print(name)
        for cut in np.arange(0.50, 0.91, 0.05):
            said = [(pair[column] >= cut, pair[2]) for pair in pairs]
            hits = sum(s and label for s, label in said)
            shown = sum(s for s, _ in said)
            precision = hits / shown if shown else 0.0
            print(
                f"  cut-off {cut:.2f}: precision {precision:.3f}  recall {hits / same:.3f}  pairs said same {shown:,}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
