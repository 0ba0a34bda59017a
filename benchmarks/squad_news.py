"""Plain questions over a small library: SQuAD's held-out Wikipedia titles ingested as news.

    python benchmarks/squad_news.py [--half report|calibration] [--threshold T]

Each paragraph of the SQuAD titles `training.reader_data.squad_split` keeps out of training becomes an
article (the title its headline), one library per part; every question of those paragraphs is asked through the
library's own search and reader (the network's reading of each is cached by `training/proposals.py` under
the weights' digest; the first run reads, about 15 minutes a half): the answerable ones (right =
the answer given equals a gold answer after SQuAD normalisation, never an overlap) and SQuAD 2.0's
unanswerable ones (right = an abstention). The parts never share a title: `calibration` is what
`training/calibrate.py` fits on, `report` (SQuAD dev's 24 odd-indexed titles) is what the README's
numbers come from. Prints, at the
shipped threshold (or `--threshold`): how often an answer given is exactly right, the share of
answerable questions answered, the share of unanswerable ones abstained, and reliability by
confidence. A benchmark, not a test. Needs ../shared/data/squad/.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from index.reader import ExtractiveReader
from training.question_sets import held_out
from training.scoring import f1, normalise_answer, reliability

ROOT = Path(__file__).resolve().parent.parent

HALVES = ("calibration", "report")


def evaluate(half: str, reader: ExtractiveReader) -> list[dict]:
    """Every question of the half, asked as Library.ask asks it (the network's reading cached by
    `proposals.py`, then the reader's prior, pooling, confidence and threshold); each row carries
    the features and the best span even below the threshold."""
    from training.proposals import proposals

    rows = []
    for record in proposals("squad-report" if half == "report" else "squad", reader):
        reading = reader.weigh(record["question"], record["spans"])
        answer = reader.answer(record["question"], [], reading)
        guess = reading.best.text if reading.best else ""
        golds = record["gold"]
        right = max((float(normalise_answer(guess) == normalise_answer(g)) for g in golds), default=0.0)
        rows.append(
            {
                "kind": record["kind"],
                "title": record.get("title", ""),
                "question": record["question"],
                "gold": golds,
                "answer": answer.text,
                "guess": guess,
                "candidates": [c.text for c in answer.candidates],
                "score": answer.score,
                "features": reading.features,
                "guess_em": right,
                "em": right if answer.text else 0.0,
            }
        )
    return rows


def summary(rows: list[dict], threshold: float) -> dict[str, float]:
    """At `threshold`: precision of the answers given, answerable questions answered, unanswerable ones
    abstained (all in %)."""
    answerable = [r for r in rows if r["gold"]]
    unanswerable = [r for r in rows if not r["gold"]]
    given = [r for r in answerable if r["features"] and r["score"] >= threshold]
    wrongly = [r for r in unanswerable if r["features"] and r["score"] >= threshold]
    answered = len(given) + len(wrongly)
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "precision": 100 * sum(r["guess_em"] for r in given) / answered if answered else 0.0,
        "answered": 100 * len(given) / len(answerable) if answerable else 0.0,
        "abstained_unanswerable": 100 * (1 - len(wrongly) / len(unanswerable)) if unanswerable else 0.0,
        "always_em": 100 * sum(r["guess_em"] for r in answerable) / len(answerable) if answerable else 0.0,
        "always_f1": 100 * sum(max(f1(r["guess"], g) for g in r["gold"]) for r in answerable) / len(answerable)
        if answerable
        else 0.0,
        "offered": 100 * sum(offered(r) for r in answerable) / len(answerable) if answerable else 0.0,
        "precision_answerable": 100 * sum(r["guess_em"] for r in given) / len(given) if given else 0.0,
    }


def offered(row: dict) -> bool:
    """Whether a gold answer is the answer given or, abstaining, one of the candidates offered."""
    shown = [row["answer"]] if row["answer"] else row["candidates"]
    return any(normalise_answer(o) == normalise_answer(g) for o in shown for g in row["gold"])


def write_predictions(rows: list[dict], path: Path) -> Path:
    """Every row as a JSON line (the benchmark's predictions, to read after it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=HALVES, default="report", help="calibration is in-sample: report on report")
    parser.add_argument("--threshold", type=float, help="default: the shipped one")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    reader = ExtractiveReader()
    threshold = reader.threshold if args.threshold is None else args.threshold
    rows = evaluate(args.half, reader)
    predictions = write_predictions(rows, args.out / f"squad-news-{args.half}.jsonl")
    result = summary(rows, threshold)
    titles = len({q["title"] for q in held_out(args.half)[1]})
    print(f"SQuAD held-out titles as news, half {args.half!r}: {titles} titles, threshold {threshold:.3f}")
    print(
        f"  {result['answerable']} answerable: answered {result['answered']:.1f}%, best span exactly right "
        f"{result['always_em']:.1f}%, F1 {result['always_f1']:.1f} (always answering)"
    )
    print(
        f"  answers given exactly right (unanswerable ones answered count as wrong): {result['precision']:.1f}%"
        f" ({result['precision_answerable']:.1f}% of the answerable ones answered)"
    )
    print(f"  {result['unanswerable']} unanswerable: abstained {result['abstained_unanswerable']:.1f}%")
    print(f"  a gold answer among the answer or the candidates offered: {result['offered']:.1f}% of the answerable")
    for name, kinds in (
        ("all", ("plain", "unanswerable")),
        ("answerable", ("plain",)),
        ("unanswerable", ("unanswerable",)),
    ):
        chosen = [r for r in rows if r["kind"] in kinds]
        confidence = np.array([r["score"] if r["features"] else 0.0 for r in chosen])
        print(f"calibration, {name} (the best span right; for an unanswerable question no span is right):")
        print("\n".join(reliability(confidence, np.array([r["guess_em"] for r in chosen]))))
    print(f"predictions: {predictions}")


if __name__ == "__main__":
    main()
