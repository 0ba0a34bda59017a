"""People's plain questions over news, through the product: the project's own plain-news set and the
held-out Wikinews documents of the news QA sets.

    python benchmarks/plain_news.py [--set plain-news|wikinews] [--split report|tune] [--threshold T]

- `plain-news` (`benchmarks/data/plain_news.json`): questions written by hand, before the bot answered
  any of them, over 36 real stories of RealTime QA 2022-2024, in four kinds: `direct`, `other_words`,
  `inference` and `unanswerable` (no story of the set answers it). The set holds article ids and
  questions, no article text. All 36 stories are one library; every question is asked of it.
  Split by story: `tune` is what calibration fits on, `report` is what the README quotes.
- `wikinews` (`training.news_qa`): the documents it holds out of training, each paragraph a story
  (its first words the headline), asked QAMR's questions on their sentences (people's free
  questions; a seeded sample). `tune` and `report` are halves of those documents.

Right means the answer given equals a gold answer after SQuAD normalisation, never an overlap.
Prints, at the shipped threshold (or `--threshold`): the share of answerable questions answered
right, answered, precision of the answers given (unanswerable ones answered count as wrong), by
kind; unanswerable ones abstained; a gold answer among what the reply shows (the answer, or the
candidates offered when unsure), and in a quote the reply shows; the best span's EM/F1 always
answering; and the median margin of right best spans over "no answer". Readings are cached by `training/proposals.py`.
A benchmark, not a test. Needs ../shared/data/.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from squad_news import write_predictions

from index.reader import ExtractiveReader
from training.question_sets import SPLITS
from training.scoring import contains, f1, normalise_answer

ROOT = Path(__file__).resolve().parent.parent


def evaluate(name: str, split: str, reader: ExtractiveReader) -> list[dict]:
    from training.proposals import proposals

    rows = []
    for record in proposals(f"{name}-{split}", reader):
        reading = reader.weigh(record["question"], record["spans"])
        answer = reader.answer(record["question"], [], reading)
        guess = reading.best.text if reading.best else ""
        golds = record["gold"]
        right = max((float(normalise_answer(guess) == normalise_answer(g)) for g in golds), default=0.0)
        shown = [answer.text] if answer.text else [c.text for c in answer.candidates]
        quotes = [answer.quote] if answer.text else [c.quote for c in answer.candidates]
        rows.append(
            {
                "kind": record["question_kind"],
                "question": record["question"],
                "gold": golds,
                "answer": answer.text,
                "guess": guess,
                "candidates": [c.text for c in answer.candidates],
                "score": answer.score,
                "margin": reading.best.margin if reading.best else None,
                "guess_em": right,
                "guess_f1": max((f1(guess, g) for g in golds), default=0.0),
                "shown": any(normalise_answer(s) == normalise_answer(g) for s in shown for g in golds),
                "quoted": any(contains(quote, g) for quote in quotes for g in golds),
            }
        )
    return rows


def summary(rows: list[dict], threshold: float) -> dict[str, float]:
    answerable = [r for r in rows if r["gold"]]
    unanswerable = [r for r in rows if not r["gold"]]
    given = [r for r in answerable if r["guess"] and r["score"] >= threshold]
    wrongly = [r for r in unanswerable if r["guess"] and r["score"] >= threshold]
    answered = len(given) + len(wrongly)
    right = sum(r["guess_em"] for r in given)
    n = max(len(answerable), 1)
    margins = [r["margin"] for r in answerable if r["guess_em"] and r["margin"] is not None]
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "right": 100 * right / n,
        "answered": 100 * len(given) / n,
        "precision": 100 * right / answered if answered else 0.0,
        "abstained": 100 * (1 - len(wrongly) / len(unanswerable)) if unanswerable else 0.0,
        "shown": 100 * sum(r["shown"] for r in answerable) / n,
        "quoted": 100 * sum(r["quoted"] for r in answerable) / n,
        "always_em": 100 * sum(r["guess_em"] for r in answerable) / n,
        "always_f1": 100 * sum(r["guess_f1"] for r in answerable) / n,
        "right_margin": statistics.median(margins) if margins else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("plain-news", "wikinews"), default="plain-news")
    parser.add_argument("--split", choices=SPLITS, default="report", help="tune is what calibration fits on")
    parser.add_argument("--threshold", type=float, help="default: the shipped one")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    reader = ExtractiveReader()
    threshold = reader.threshold if args.threshold is None else args.threshold
    rows = evaluate(args.set, args.split, reader)
    predictions = write_predictions(rows, args.out / f"{args.set}-{args.split}.jsonl")
    total = summary(rows, threshold)
    print(f"{args.set}, split {args.split!r}, threshold {threshold:.3f}")
    print(
        f"  {total['answerable']} answerable: answered right {total['right']:.1f}%, answered {total['answered']:.1f}%, "
        f"precision {total['precision']:.1f}% (unanswerable ones answered count as wrong)"
    )
    print(
        f"  best span always answering: EM {total['always_em']:.1f}, F1 {total['always_f1']:.1f}; median margin of "
        f"right best spans over 'no answer' {total['right_margin']:+.1f}"
    )
    print(
        f"  a gold answer shown as the answer or a candidate {total['shown']:.1f}%, in a quote shown "
        f"{total['quoted']:.1f}%"
    )
    if total["unanswerable"]:
        print(f"  {total['unanswerable']} unanswerable: abstained {total['abstained']:.1f}%")
    kinds = sorted({r["kind"] for r in rows if r["gold"]})
    if len(kinds) > 1:
        for kind in kinds:
            part = summary([r for r in rows if r["kind"] == kind], threshold)
            print(
                f"  {kind:<12} {part['answerable']:>4}: right {part['right']:.1f}%, answered {part['answered']:.1f}%, "
                f"precision {part['precision']:.1f}%, best span {part['always_em']:.1f}%"
            )
    print(f"predictions: {predictions}")


if __name__ == "__main__":
    main()
