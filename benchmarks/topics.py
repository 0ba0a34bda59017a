"""Which stories a short topic is about: the follow/brief/latest topic matcher on a labelled set.

    python benchmarks/topics.py [--cache ~/.cache/newsbot/topics] [--fit]

`benchmarks/data/topic_set.json` holds 80 short topics as people follow news ("volcanic
eruptions", "labour strikes", "Japan") and, for each, 13-14 stories of the training years
(RealTime QA 2022-2024: never 2025) labelled by hand as about the topic or not: the nearest
stories by headline and lead, farther ones, one that shares a word of the topic, and stories of
the same month (hard negatives). Labels name stories by their data set id only: no text of the
data is kept in the project. The first 40 topics alternate between the `tune` part (constants
are chosen there) and the `held` part (reported, never tuned on); 20 more topics of each part
("added": drawn by `benchmarks/topic_candidates.py` and labelled on 2026-12-07, before the matcher
ran on them) double both (the standard error of the held precision about 0.016 instead of
0.023). Each part is printed whole and in those two batches.

The stories are ingested into one library (cached under --cache); each topic is then matched
against all of them by `index.topics.TopicMatcher`, exactly as a follow, `brief --topic` and
`latest --topic` match it. Prints precision and recall on each part and the pairs it gets wrong; `--fit` also fits the
rule on the tune part as the shipped one was (`fit` below) and prints it. Needs
../shared/data/realtimeqa/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np
from parts import StoreParts

from index.config import LibraryConfig
from index.intake import article_from_record
from index.library import Library
from index.retrieval import Embedder, TopicMatcher, TopicRule
from index.retrieval.topics import TopicFeatures

ROOT = Path(__file__).resolve().parent.parent

REALTIMEQA = ROOT.parent / "shared" / "data" / "realtimeqa"
TOPIC_SET = ROOT / "benchmarks" / "data" / "topic_set.json"
EMBEDDER = Embedder()  # the library's and the matcher's, loaded once
TRAINING_YEARS = ("2022", "2023", "2024")
FOLDS = 5  # cross-validation folds of the tune topics, for the cut-off
AIMED_PRECISION = 0.90  # issue 33's floor
STEPS, RATE, PENALTY = 3000, 0.5, 1.0  # the logistic fit


def load_records(ids: set[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for year in TRAINING_YEARS:
        with gzip.open(REALTIMEQA / year / "articles.jsonl.gz", "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record["id"] in ids and record["id"] not in found:
                    found[record["id"]] = record
    return found


def story_library(records: dict[str, dict], cache: Path) -> tuple[Library, dict[str, int]]:
    """The labelled stories in one library; data set id -> article id."""
    library = Library(LibraryConfig(data_dir=cache), embedder=EMBEDDER)
    by_url = {record["url"]: key for key, record in records.items()}
    if library.stats()["articles"] < len(by_url):
        articles = []
        for record in records.values():
            try:
                articles.append(article_from_record(record))
            except ValueError:
                continue
        library.ingest_articles(articles)
    headlines = StoreParts(library.config).articles.headlines_after(0, 10 * len(by_url))
    return library, {by_url[h.story.url]: h.article_id for h in headlines if h.story.url in by_url}


def scores(pairs: list[tuple[bool, bool]]) -> tuple[float, float, int]:
    found = sum(1 for truth, said in pairs if said)
    right = sum(1 for truth, said in pairs if truth and said)
    relevant = sum(1 for truth, _ in pairs if truth)
    return (right / found if found else 1.0), (right / relevant if relevant else 1.0), len(pairs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "newsbot" / "topics")
    parser.add_argument("--fit", action="store_true", help="fit the rule on the tune part, as the shipped one was")
    args = parser.parse_args()
    if not (REALTIMEQA / "2024" / "articles.jsonl.gz").exists():
        print(f"skipped: {REALTIMEQA} not found (the shared RealTime QA data)")
        return 0
    topic_set = json.loads(TOPIC_SET.read_text(encoding="utf-8"))["topics"]
    records = load_records({key for entry in topic_set for key in entry["stories"]})
    library, article_ids = story_library(records, args.cache)
    parts = StoreParts(library.config)
    matcher = TopicMatcher(parts.articles, parts.vectors, EMBEDDER)
    labelled = [
        (entry["topic"], entry["part"], article_ids[key], bool(about))
        for entry in topic_set
        for key, about in entry["stories"].items()
        if key in article_ids
    ]
    added = {entry["topic"] for entry in topic_set if entry.get("added")}  # the 20 + 20 topics added on 2026-12-07
    stories = parts.articles.headlines_of(sorted(set(article_ids.values())))
    print(f"{len(topic_set)} topics, {len(labelled)} labelled pairs, {len(stories)} stories")
    # Each topic's features once; the stories the shipped rule says are about it (as `matcher.about`).
    features = {topic: matcher.features(topic, stories) for topic in sorted({topic for topic, *_ in labelled})}
    said = {topic: {key for key, f in found.items() if matcher.rule.about(f)} for topic, found in features.items()}
    shown = [(part, batch) for part in ("tune", "held") for batch in (None, "first 20", "added")] + [(None, None)]
    for part, batch in shown:
        name = f"  {batch}" if batch else part or "all"
        pairs = [
            (truth, article_id in said[topic])
            for topic, p, article_id, truth in labelled
            if part in (None, p) and batch in (None, "added" if topic in added else "first 20")
        ]
        precision, recall, n = scores(pairs)
        print(f"{name:>10}: precision {precision:.3f}  recall {recall:.3f}  ({n} pairs)")
    misses = [
        (topic, article_id, truth) for topic, _, article_id, truth in labelled if truth != (article_id in said[topic])
    ]
    titles = {h.article_id: h.story.title for h in stories}
    print("\nwrong on (topic | headline | labelled about):")
    for topic, article_id, truth in misses:
        print(f"  {topic} | {titles[article_id][:80]} | {truth}")
    if args.fit:
        fitted = fit(features, labelled)
        if fitted != matcher.rule:
            print("(the shipped rule differs: paste the fitted one into index/retrieval/topics.py)")
    return 0


def fit(features: dict[str, dict[int, TopicFeatures]], labelled: list) -> TopicRule:
    """The rule fitted on the tune part: a logistic model of the features (standardised, L2
    penalty 1, STEPS of gradient descent from zero: deterministic), and as its cut-off the chance
    with the highest recall at a precision of at least AIMED_PRECISION when each fold of the tune
    topics (5, by name) is scored by the model fitted on the other four."""
    tune = [
        (topic, features[topic][article_id].values(), truth)
        for topic, part, article_id, truth in labelled
        if part == "tune"
    ]
    x = np.array([values for _, values, _ in tune])
    y = np.array([truth for *_, truth in tune], dtype=float)
    topics = sorted({topic for topic, *_ in tune})
    crossed = np.zeros(len(tune))
    for fold in range(FOLDS):
        held = np.array([topics.index(topic) % FOLDS == fold for topic, *_ in tune])
        bias, weights = logistic(x[~held], y[~held])
        crossed[held] = chances(x[held], bias, weights)
    choices = []
    for threshold in np.round(np.arange(0.20, 0.951, 0.01), 2):
        precision, recall, _ = scores([(bool(t), bool(c >= threshold)) for t, c in zip(y, crossed, strict=True)])
        choices.append((precision >= AIMED_PRECISION, recall, threshold, precision))
    _, recall, threshold, precision = max(choices)
    bias, weights = logistic(x, y)
    print(
        f"\ncross-validated on the tune part: cut-off {threshold:.2f}, precision {precision:.3f}, recall {recall:.3f}"
    )
    rule = TopicRule(bias=round(bias, 4), weights=tuple(round(w, 4) for w in weights), threshold=float(threshold))
    print(f"fitted on the whole tune part: {rule}")
    return rule


def logistic(x: np.ndarray, y: np.ndarray) -> tuple[float, list[float]]:
    """Bias and weights in the features' own units."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.c_[np.ones(len(x)), (x - mean) / scale]
    w = np.zeros(z.shape[1])
    for _ in range(STEPS):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        w -= RATE * (z.T @ (p - y) + PENALTY * np.r_[0.0, w[1:]]) / len(y)
    weights = w[1:] / scale
    return float(w[0] - (weights * mean).sum()), [float(v) for v in weights]


def chances(x: np.ndarray, bias: float, weights: list[float]) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(bias + x @ np.array(weights))))


if __name__ == "__main__":
    sys.exit(main())
