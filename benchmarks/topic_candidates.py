"""Draw the stories to label for new topics of `benchmarks/data/topic_set.json`, as its candidates were drawn.

    python benchmarks/topic_candidates.py "tornadoes" "student loans" ... [--seed 7] [--out FILE]

For each topic, from the stories of the training years (RealTime QA 2022-2024, one story a title;
each embedded by its headline and its text's first 300 characters): the 4 nearest, 4 of the next
36, 3 of the next 260, 1 farther story whose headline shares a word of the topic, and 2 stories of
the same month as the nearest, shuffled. Writes, for labelling by hand, each topic's story ids with
headline and lead to `--out` (outside the project: it holds data text) and prints them. The labels
go into topic_set.json by id only. Drawing is seeded, so the same topics and seed draw the same
stories (the topics added on 2026-12-07, in the order they appear there: the 20 held ones
with seed 7, the 20 tune ones with seed 11). Needs
../shared/data/realtimeqa/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from pathlib import Path

import numpy as np
from topics import EMBEDDER, REALTIMEQA, TRAINING_YEARS

LEAD_CHARS = 300
LITTLE_WORDS = {"the", "and", "of"}


def training_stories() -> dict[str, dict]:
    stories: dict[str, dict] = {}
    for year in TRAINING_YEARS:
        with gzip.open(REALTIMEQA / year / "articles.jsonl.gz", "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record["id"] not in stories:
                    lead = " ".join(record["text"].split())[:LEAD_CHARS]
                    stories[record["id"]] = {"title": record["title"], "lead": lead, "published": record["published"]}
    return stories


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def draw(topic: str, ranked: list[str], stories: dict[str, dict], rng: random.Random) -> list[str]:
    """The candidates of one topic; `ranked`: story ids nearest first, one a title."""
    picked = ranked[:4] + rng.sample(ranked[4:40], 4) + rng.sample(ranked[40:300], 3)
    topic_words = [w for w in words(topic) if w not in LITTLE_WORDS]
    farther = [key for key in ranked[300:] if any(w in words(stories[key]["title"]) for w in topic_words)]
    if farther:
        picked.append(rng.choice(farther))
    month = stories[ranked[0]]["published"][:7]
    same_month = [key for key in ranked[300:] if stories[key]["published"][:7] == month and key not in picked]
    picked += rng.sample(same_month, min(2, len(same_month)))
    rng.shuffle(picked)
    return picked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("topics", nargs="+")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path.home() / ".cache" / "newsbot" / "topic-candidates.json")
    args = parser.parse_args()
    if not (REALTIMEQA / "2024" / "articles.jsonl.gz").exists():
        print(f"skipped: {REALTIMEQA} not found (the shared RealTime QA data)")
        return 0
    stories = training_stories()
    keys = sorted(stories)
    vectors = EMBEDDER.encode([stories[key]["title"] + ". " + stories[key]["lead"] for key in keys])
    rng = random.Random(args.seed)
    drawn = {}
    for topic in args.topics:
        order = np.argsort(-(vectors @ EMBEDDER.encode([topic])[0]))
        ranked, titles = [], set()
        for row in order:
            key = keys[row]
            if stories[key]["title"] not in titles:
                titles.add(stories[key]["title"])
                ranked.append(key)
        drawn[topic] = [(key, stories[key]["title"], stories[key]["lead"]) for key in draw(topic, ranked, stories, rng)]
        print(f"=== {topic}")
        for number, (key, title, lead) in enumerate(drawn[topic]):
            print(f"{number} {key} {title[:90]} || {lead[:200]}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(drawn, indent=0, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
