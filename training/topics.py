"""How the shipped topic rule (`TopicRule` in index/retrieval/topics.py) is fitted, and the labelled
sets it is fitted and measured on (`benchmarks/topics.py` measures it with them).

    python -m training.topics --fit [--short-only] [--cache ~/.cache/newsbot/topics]

Prints the shipped rule's precision and recall on each set, fits the rule on the tune parts (`fit`
below: a logistic model of the matcher's features, its cut-off cross-validated) and prints the
fitted rule to paste into index/retrieval/topics.py, with its figures. The sets: `topic_set.json`'s
80 topics over their labelled stories (full, and cut to headline and first paragraph by
`training/short_stories.py`) and `short_topics.json`'s 24 short topics; see benchmarks/topics.py.
Needs ../shared/data/realtimeqa/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from index.config import LibraryConfig
from index.intake.sources import article_from_record
from index.library import Library
from index.models import Article
from index.retrieval import Embedder, TopicMatcher
from index.retrieval.topics import TopicFeatures, TopicRule
from index.store import open_store
from index.store.storage import Storage
from training import short_stories

ROOT = Path(__file__).resolve().parent.parent

REALTIMEQA = ROOT.parent / "shared" / "data" / "realtimeqa"
TOPIC_SET = ROOT / "benchmarks" / "data" / "topic_set.json"
EMBEDDER = Embedder()  # the library's and the matcher's, loaded once
TRAINING_YEARS = ("2022", "2023", "2024")
FOLDS = 5  # cross-validation folds of the tune topics, for the cut-off
AIMED_PRECISION = 0.90  # issue 33's floor
AIMED_SHORT_PRECISION = 0.85  # issue 44's floor for short stories
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


def story_library(articles: dict[str, Article], cache: Path) -> tuple[Library, dict[str, int]]:
    """Stories in one library (ingested once, then cached); their key -> article id."""
    library = Library(LibraryConfig(data_dir=cache), embedder=EMBEDDER)
    by_url = {article.url: key for key, article in articles.items()}
    if library.stats()["articles"] < len(by_url):
        library.ingest_articles(list(articles.values()))
    headlines = open_store(library.config).articles.headlines_after(0, 10 * len(by_url))
    return library, {by_url[h.story.url]: h.article_id for h in headlines if h.story.url in by_url}


def full_articles(records: dict[str, dict]) -> dict[str, Article]:
    articles = {}
    for key, record in records.items():
        try:
            articles[key] = article_from_record(record)
        except ValueError:
            continue
    return articles


def scores(pairs: list[tuple[bool, bool]]) -> tuple[float, float, int]:
    found = sum(1 for truth, said in pairs if said)
    right = sum(1 for truth, said in pairs if truth and said)
    relevant = sum(1 for truth, _ in pairs if truth)
    return (right / found if found else 1.0), (right / relevant if relevant else 1.0), len(pairs)


@dataclass
class LabelledSet:
    """One kind of story with its labelled (topic, part, article id, about) pairs, and the features of
    each topic against every story of its library (as `latest --topic` would look at them)."""

    name: str
    labelled: list[tuple[str, str, int, bool]]
    features: dict[str, dict[int, TopicFeatures]]
    titles: dict[int, str]
    batches: dict[str, str] = field(default_factory=dict)  # topic -> "first 20" | "added"

    def pairs(self, rule: TopicRule, part: str | None = None, batch: str | None = None) -> list[tuple[bool, bool]]:
        return [
            (truth, rule.about(self.features[topic][article_id]))
            for topic, p, article_id, truth in self.labelled
            if part in (None, p) and batch in (None, self.batches.get(topic))
        ]

    def whole_library(self, rule: TopicRule, part: str) -> list[tuple[bool, bool]]:
        """Each topic of `part` against every story of the library, as `latest --topic` lists them: a
        story labelled for another topic counts as not about this one."""
        about = {(topic, article_id) for topic, _, article_id, truth in self.labelled if truth}
        topics = sorted({topic for topic, p, *_ in self.labelled if p == part})
        stories = sorted({article_id for _, _, article_id, _ in self.labelled})
        return [((topic, a) in about, rule.about(self.features[topic][a])) for topic in topics for a in stories]


def labelled_set(name, library, keys, labelled, matcher_of, batches=None) -> LabelledSet:
    """The pairs whose story is in the library, and every topic's features against all its stories."""
    parts = open_store(library.config)
    matcher = matcher_of(parts)
    pairs = [(topic, part, keys[key], about) for topic, part, key, about in labelled if key in keys]
    stories = parts.articles.headlines_of(sorted({article_id for *_, article_id, _ in pairs}))
    features = {topic: matcher.features(topic, stories) for topic in sorted({topic for topic, *_ in pairs})}
    return LabelledSet(name, pairs, features, {h.article_id: h.story.title for h in stories}, batches or {})


def topic_set() -> tuple[list[tuple[str, str, str, bool]], dict[str, str], dict[str, dict]]:
    """The topic set's (topic, part, data set id, about) pairs, each topic's batch ("first 20" or
    "added") and the labelled stories' RealTime QA records."""
    entries = json.loads(TOPIC_SET.read_text(encoding="utf-8"))["topics"]
    records = load_records({key for entry in entries for key in entry["stories"]})
    labelled = [(e["topic"], e["part"], key, bool(about)) for e in entries for key, about in e["stories"].items()]
    batches = {e["topic"]: "added" if e.get("added") else "first 20" for e in entries}
    return labelled, batches, records


def labelled_sets(cache: Path, short_only: bool) -> list[LabelledSet]:
    """The labelled sets, each matched in a library of its own (ingested once into `cache`, then
    read from it): full stories (unless `short_only`), their short versions, and the short topics."""
    labelled, batches, records = topic_set()
    written_pairs, written_articles = short_stories.written()
    plain_pairs, plain_articles = short_stories.plain()
    shortened = short_stories.shortened(records)
    short_library, short_keys = story_library(
        {**shortened, **written_articles, **plain_articles}, cache.with_name("topics-short")
    )

    def matcher_of(parts: Storage) -> TopicMatcher:
        return TopicMatcher(parts.articles, parts.vectors, EMBEDDER)

    sets = [
        labelled_set("short versions", short_library, short_keys, labelled, matcher_of, batches),
        labelled_set("short topics", short_library, short_keys, written_pairs, matcher_of),
        labelled_set("plain short topics", short_library, short_keys, plain_pairs, matcher_of),
    ]
    if not short_only:
        full_library, full_keys = story_library(full_articles(records), cache)
        sets.insert(0, labelled_set("full stories", full_library, full_keys, labelled, matcher_of, batches))
    return sets


def shipped_report(parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, list[LabelledSet]] | None:
    """The flags every reader of the labelled sets takes (`--cache`, `--short-only`) beside the caller's
    own, and the sets they name, with the shipped rule's figures on them printed; None, said, where
    the shared RealTime QA data is absent."""
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "newsbot" / "topics")
    parser.add_argument(
        "--short-only", action="store_true", help="only the short stories (the full ones take long to ingest once)"
    )
    args = parser.parse_args()
    if not (REALTIMEQA / "2024" / "articles.jsonl.gz").exists():
        print(f"skipped: {REALTIMEQA} not found (the shared RealTime QA data)")
        return None
    sets = labelled_sets(args.cache, args.short_only)
    report(sets, TopicRule(), "the shipped rule")
    return args, sets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true", help="fit the rule on the tune parts, as the shipped one was")
    read = shipped_report(parser)
    if read is None:
        return 0
    args, sets = read
    rule = TopicRule()
    if args.fit:
        fitted = fit(sets, rule)
        report(sets, fitted, "the fitted rule")
        if fitted != rule:
            print("(the shipped rule differs: paste the fitted one into index/retrieval/topics.py)")
    return 0


def report(sets: list[LabelledSet], rule: TopicRule, name: str) -> None:
    print(f"\n{name}:")
    for kind in sets:
        stories = len({article_id for *_, article_id, _ in kind.labelled})
        print(f"{kind.name} ({len(kind.features)} topics, {len(kind.labelled)} labelled pairs, {stories} stories):")
        for part in ("tune", "held"):
            if not any(p == part for _, p, *_ in kind.labelled):
                continue
            shown = [(part, None)] + ([(part, b) for b in ("first 20", "added")] if kind.batches else [])
            for p, batch in shown:
                precision, recall, n = scores(kind.pairs(rule, p, batch))
                label = f"  {batch}" if batch else p
                print(f"  {label:>10}: precision {precision:.3f}  recall {recall:.3f}  ({n} pairs)")
            if not kind.batches:
                precision, recall, n = scores(kind.whole_library(rule, part))
                print(f"  {part + ', every story':>10}: precision {precision:.3f}  recall {recall:.3f}  ({n} pairs)")


def fit(sets: list[LabelledSet], shipped: TopicRule) -> TopicRule:
    """The full-story rule fitted on the tune pairs of full stories (the short rule is fitted with the
    tuned encoder by `python -m training.topic_encoder`); without full stories, the shipped rule."""
    tune = [
        TuneRow(kind.name, topic, f.values(), truth)
        for kind in sets
        for topic, part, article_id, truth in kind.labelled
        if part == "tune" and (f := kind.features[topic][article_id]).passages > 0 and not f.short
    ]
    if not tune:
        print("\nno full stories' tune pairs (--short-only): the full-story rule is left as shipped")
        return shipped
    fitted = fit_rows(tune, {kind.name: AIMED_PRECISION for kind in sets}, "full stories")
    rule = replace(shipped, bias=fitted.bias, weights=fitted.weights, threshold=fitted.threshold)
    print(f"fitted on the whole tune parts: {rule}")
    return rule


@dataclass(frozen=True)
class TuneRow:
    """One labelled tune pair: its set, its topic (the folds are by topic), the rule's inputs, the label."""

    kind: str
    topic: str
    values: tuple[float, ...]
    truth: bool


@dataclass(frozen=True)
class Fitted:
    """A fitted logistic model, its cut-off, and the cross-validated figures it was chosen by."""

    bias: float
    weights: tuple[float, ...]
    threshold: float
    precise: bool  # every set reached its aimed precision
    lowest_recall: float  # the recall of the set where it is lowest


def fit_rows(tune: list[TuneRow], aims: dict[str, float], label: str) -> Fitted:
    """A logistic model of the rows' values (standardised, L2 penalty 1, STEPS of gradient descent from
    zero: deterministic), and as its cut-off the chance with the highest recall on the set where it is
    lowest, at a precision of at least each set's aim (`aims`, by set name) on each, when each fold of
    the tune topics (FOLDS, by name) is scored by the model fitted on the others."""
    x = np.array([row.values for row in tune])
    y = np.array([row.truth for row in tune], dtype=float)
    topics = sorted({row.topic for row in tune})
    crossed = np.zeros(len(tune))
    for fold in range(FOLDS):
        held = np.array([topics.index(row.topic) % FOLDS == fold for row in tune])
        bias, weights = logistic(x[~held], y[~held])
        crossed[held] = chances(x[held], bias, weights)
    kinds = np.array([row.kind for row in tune])
    present = [name for name in aims if (kinds == name).sum() >= 20]  # a handful of stray pairs sets nothing
    choices = []
    for threshold in np.round(np.arange(0.20, 0.951, 0.01), 2):
        each = [
            scores([(bool(t), bool(c >= threshold)) for t, c in zip(y[kinds == k], crossed[kinds == k], strict=True)])
            for k in present
        ]
        precise = all(precision >= aims[k] for k, (precision, _, _) in zip(present, each, strict=True))
        choices.append((precise, min(recall for _, recall, _ in each), threshold, each))
    precise, lowest, threshold, each = max(choices, key=lambda choice: choice[:3])
    bias, weights = logistic(x, y)
    said = ", ".join(f"{name} {p:.3f}/{r:.3f} ({n})" for name, (p, r, n) in zip(present, each, strict=True))
    print(f"\n{label} cross-validated on the tune parts: cut-off {threshold:.2f}, precision/recall {said}")
    return Fitted(round(bias, 4), tuple(round(w, 4) for w in weights), float(threshold), precise, lowest)


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
