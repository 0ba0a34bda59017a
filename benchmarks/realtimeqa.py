"""Answer quality on real news questions (RealTime QA), in the protocol of its README.

    python benchmarks/realtimeqa.py --year 2025 [--weeks N] [--cache benchmarks/cache/realtimeqa]

For each week: a fresh index of that week's articles (cached, so a rerun only re-reads), then each
question asked as plain text without its choices, on the date the quiz asked it, through the same
search and reader as Library.ask. Prints EM / F1 (SQuAD normalisation), evidence@1 (the quote holds
a gold answer), abstain rate, precision when answering, and recall@k of retrieval, overall and by
question type, and where the answers are lost (not in the week's passages, not among those read, a
wrong passage, a wrong span); writes every prediction as JSONL. A benchmark, not a test: CI does not
run it. Needs ../shared/data/realtimeqa/.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from pathlib import Path

from parts import StoreParts

from index import Library, LibraryConfig
from index.config import READ_PASSAGES
from index.dates import as_of_moment
from index.intake import (
    Chunker,
)
from index.reader import ExtractiveReader
from index.reader.spans import sentence_around
from index.retrieval import Embedder
from training.question_sets import holds_week, load, week_library, week_records
from training.scoring import contains, f1, is_excluded, normalise_answer, reliability

ROOT = Path(__file__).resolve().parent.parent


def score(rows: list[dict]) -> dict:
    n = len(rows)
    answered = [r for r in rows if r["answer"]]
    return {
        "n": n,
        "EM": 100 * sum(r["em"] for r in rows) / n if n else 0.0,
        "F1": 100 * sum(r["f1"] for r in rows) / n if n else 0.0,
        "evidence@1": 100 * sum(r["evidence"] for r in rows) / n if n else 0.0,
        "abstain": 100 * (n - len(answered)) / n if n else 0.0,
        "precision": 100 * sum(r["em"] for r in answered) / len(answered) if answered else 0.0,
        "recall@1": 100 * sum(r["recall"][0] for r in rows) / n if n else 0.0,
        "recall@5": 100 * sum(r["recall"][1] for r in rows) / n if n else 0.0,
        "recall@20": 100 * sum(r["recall"][2] for r in rows) / n if n else 0.0,
    }


def print_table(title: str, groups: dict[str, list[dict]]) -> None:
    columns = ["n", "EM", "F1", "evidence@1", "abstain", "precision", "recall@1", "recall@5", "recall@20"]
    print(f"\n{title}")
    print(f"{'':<20}" + "".join(f"{c:>11}" for c in columns))
    for name, rows in groups.items():
        values = score(rows)
        print(f"{name:<20}" + "".join(f"{values[c]:>11.1f}" if c != "n" else f"{values[c]:>11}" for c in columns))


def question_kind(question: str) -> str:
    """A coarse question type for the per-type table."""
    q = question.lower()
    if re.match(r"\s*(who|whom|whose)\b", q):
        return "who"
    if re.match(r"\s*how (many|much)\b", q) or "what percentage" in q:
        return "how many"
    if re.match(r"\s*when\b", q) or re.match(r"\s*(in )?what (year|month|day|date)\b", q):
        return "when"
    if re.match(r"\s*where\b", q) or re.search(r"\b(which|what) (\w+ )?(country|state|city|nation|island)\b", q):
        return "where"
    if re.search(r"\b(which|what) (\w+ )?(company|organi[sz]ation|team|agency|firm|party|group)\b", q):
        return "which organisation"
    return "other"


def evaluate(year: str, weeks: list[str] | None, cache: Path, models: dict, cached_only: bool = False) -> list[dict]:
    """Every question of the given weeks, asked through Library.ask's own search and reader; each
    row carries the reader's features (what calibration fits) and its answer even below the threshold."""
    articles, questions = load(year)
    all_weeks = sorted({q["week"] for q in questions})
    rows = []
    started = time.perf_counter()
    for number, week in enumerate(weeks or all_weeks, start=1):
        records = week_records(articles, questions, week)
        if cached_only and not holds_week(Library(LibraryConfig(data_dir=cache / year / week)), records):
            continue
        library = week_library(year, week, records, cache, models)
        reader = models["reader"]
        corpus = [
            f" {normalise_answer(text)} " for _, _, text in StoreParts(library.config).articles.passages_to_embed()
        ]
        for q in (q for q in questions if q["week"] == week):
            if is_excluded(q["question"]):
                continue
            text = library.check_question(q["question"])
            asked = as_of_moment(q["date"])  # as `ask --as-of DATE`: the library as it was on the quiz's day
            hits = library.search(text, as_of=asked)
            reading = reader.reading(text, hits)
            answer = reader.answer(text, hits, reading)
            guess = reading.best.text if reading.best else ""
            golds = q["answers"]
            evidence = [h.text for h in hits]
            wanted = [f" {normalise_answer(g)} " for g in golds if normalise_answer(g)]
            rows.append(
                {
                    "id": q["id"],
                    "week": week,
                    "question": q["question"],
                    "gold": golds,
                    "type": question_kind(q["question"]),
                    "answer": answer.text,
                    "guess": guess,
                    "score": answer.score,
                    "features": reading.features,
                    "quote": answer.quote,
                    "url": answer.story.url if answer.story else None,
                    "offered": [answer.text] if answer.text else [c.text for c in answer.candidates],
                    "offered_em": float(
                        any(
                            normalise_answer(o) == normalise_answer(g)
                            for o in ([answer.text] if answer.text else [c.text for c in answer.candidates])
                            for g in golds
                        )
                    ),
                    "em": max(float(normalise_answer(answer.text) == normalise_answer(g)) for g in golds),
                    "f1": max(f1(answer.text, g) for g in golds),
                    "guess_em": max(float(normalise_answer(guess) == normalise_answer(g)) for g in golds),
                    "guess_f1": max(f1(guess, g) for g in golds),
                    "guess_evidence": bool(reading.best)
                    and any(
                        contains(sentence_around(reading.best.hit.text, reading.best.start, reading.best.end)[0], g)
                        for g in golds
                    ),
                    "evidence": any(contains(answer.quote, g) for g in golds) if answer.quote else False,
                    "recall": [any(contains(t, g) for t in evidence[:k] for g in golds) for k in (1, 5, 20)],
                    "read": any(contains(t, g) for t in evidence[: reader.passages] for g in golds),
                    "in_corpus": any(w in p for w in wanted for p in corpus),
                }
            )
        print(
            f"[{year}] week {week} ({number}/{len(weeks or all_weeks)}): {len(records)} articles, "
            f"{len(rows)} questions so far, {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    return rows


def always_answering(rows: list[dict]) -> dict:
    """EM / F1 / evidence@1 when the reader never abstains (its best span for every question)."""
    n = max(len(rows), 1)
    return {
        "EM": 100 * sum(r["guess_em"] for r in rows) / n,
        "F1": 100 * sum(r["guess_f1"] for r in rows) / n,
        "evidence@1": 100 * sum(r["guess_evidence"] for r in rows) / n,
    }


def where_lost(rows: list[dict]) -> dict[str, float]:
    """Where each question's answer is lost when the reader always answers, first stage first (shares
    of all questions, summing to 100): what each part of the pipeline would gain if it were perfect."""
    stages = collections.Counter()
    for row in rows:
        if row["guess_em"]:
            stages["right"] += 1
        elif not row["in_corpus"]:
            stages["gold nowhere in the week's passages"] += 1
        elif not row["read"]:
            stages["gold not in the passages read"] += 1
        elif not row["guess_evidence"]:
            stages["read, but the chosen sentence lacks it"] += 1
        else:
            stages["the chosen sentence holds it, the span differs"] += 1
    n = max(len(rows), 1)
    return {stage: 100 * count / n for stage, count in stages.most_common()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", action="append", choices=["2024", "2025"], help="default: both")
    parser.add_argument("--weeks", type=int, help="only the last N weeks of each year (quick runs)")
    parser.add_argument("--cached-only", action="store_true", help="skip weeks whose index is not fully cached")
    parser.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / "cache" / "realtimeqa")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--reader-model", help="a Hugging Face QA model instead of the bundled reader")
    parser.add_argument("--passages", type=int, default=READ_PASSAGES, help="top passages the reader reads")
    parser.add_argument(
        "--float32", action="store_true", help="the reader's feed-forward layers in float32 (as before 2026-11-30)"
    )
    args = parser.parse_args()

    reader = ExtractiveReader(args.reader_model, passages=args.passages, bfloat16=not args.float32)
    models = {"embedder": Embedder(), "reader": reader, "chunker": Chunker()}
    for year in args.year or ["2024", "2025"]:
        _, questions = load(year)
        weeks = sorted({q["week"] for q in questions})
        rows = evaluate(year, weeks[-args.weeks :] if args.weeks else weeks, args.cache, models, args.cached_only)
        args.out.mkdir(parents=True, exist_ok=True)
        predictions = args.out / f"realtimeqa-{year}.jsonl"
        with predictions.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        by_type = collections.defaultdict(list)
        for row in rows:
            by_type[row["type"]].append(row)
        read = len({row["week"] for row in rows})
        print_table(
            f"RealTime QA {year}: {read} weeks, threshold {reader.threshold:.2f}",
            {"all": rows} | dict(sorted(by_type.items())),
        )
        print("always answering: " + ", ".join(f"{k} {v:.1f}" for k, v in always_answering(rows).items()))
        offered = 100 * sum(r["offered_em"] for r in rows) / max(len(rows), 1)
        print(f"a gold answer among the reply's answer or its candidates: {offered:.1f}% of questions")
        print("where answers are lost, always answering (% of questions):")
        print("\n".join(f"  {share:5.1f}  {stage}" for stage, share in where_lost(rows).items()))
        import numpy as np

        confidence = np.array([r["score"] if r["features"] else 0.0 for r in rows])
        print("calibration (best span right, by confidence):")
        print("\n".join(reliability(confidence, np.array([r["guess_em"] for r in rows]))))
        print(f"predictions: {predictions}")


if __name__ == "__main__":
    main()
