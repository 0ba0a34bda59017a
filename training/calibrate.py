"""Fit the reader's confidence (index/weights/reader.json) on every kind of question it meets.

    python -m training.calibrate [--precision 0.5] [--overlap 2 --echo 1 --staleness 0.25 --bare-names]

One logistic model from a reading's features to the chance its answer is exactly right, fitted
on a mix of question kinds, none of it 2025 and none of it what the reader trained on
(`training/proposals.py` reads them once and caches them):
- `news`: the 6 held-out weeks of RealTime QA 2024, each question asked on its quiz date: hard
  questions over a week of news, where the best span is right about one time in six;
- `plain`: the calibration half of SQuAD's held-out titles ingested as news: plain questions;
- `unanswerable`: SQuAD 2.0's questions of those titles that the text does not answer (any
  answer is wrong; the right reply is an abstention);
- `people` and `people-unanswerable`: people's plain questions over news, the tune half of the
  project's plain-news set (`benchmarks/plain_news.py`: answerable, and those no story of the set answers);
- `wikinews`: QAMR's questions over the tune half of the held-out Wikinews documents.
The quiz news, the SQuAD questions and the plain-news set each weigh the same in the fit, however
many questions each has, and the Wikinews questions `--wikinews-weight` of that, so the confidence
means the same on each. The threshold is the lowest confidence at which the answers given are right
at least `--precision` of the time on the quiz news and the SQuAD side, and `--people-precision` on
the plain-news set (unanswerable questions counted with the answerable ones they stand among).
The span prior (`--overlap`, `--echo`, `--staleness`, `--bare-names`: chosen with
`python -m training.tune`) is written beside it, since the features depend on it. Report on held-out data
with `benchmarks/squad_news.py --half report` and `benchmarks/realtimeqa.py --year 2025`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from index.config import READ_PASSAGES
from index.reader import ExtractiveReader
from index.reader.calibration import CALIBRATION_FILE, Calibration
from index.reader.extractive import SpanPrior
from training.proposals import SETS, proposals, right
from training.scoring import reliability

ROOT = Path(__file__).resolve().parent.parent

FEATURES = ("top", "share", "margin", "relevance", "span", "overlap", "stories", "echo", "dense", "rank")
KINDS = ("news", "plain", "unanswerable", "people", "people-unanswerable", "wikinews")
SIDES = {
    "news": "news",
    "plain": "squad",
    "unanswerable": "squad",
    "people": "people",
    "people-unanswerable": "people",
    "wikinews": "wikinews",
}


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50, weight=None) -> np.ndarray:
    """Newton's method for L2-regularised, weighted logistic regression; column 0 of `x` is the bias."""
    weight = np.ones(len(y)) if weight is None else weight
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (weight * (p - y)) + penalty * w
        hessian = (x * (weight * p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-6 * np.eye(x.shape[1])
        w -= np.linalg.solve(hessian, gradient)
    return w


def threshold_for(confidence: np.ndarray, right: np.ndarray, precision: float) -> float:
    """The lowest confidence above which answers are right at least `precision` of the time."""
    order = np.argsort(-confidence)
    hits = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    ok = np.nonzero(hits >= precision)[0]
    if not len(ok):
        return 1.0
    return float(confidence[order][ok[-1]])


def rows_for(records: list[dict], reader: ExtractiveReader) -> list[dict]:
    """Each question's features under the reader's prior, and whether its best answer is right."""
    rows = []
    for record in records:
        reading = reader.weigh(record["question"], record["spans"])
        if reading.best is None:
            continue
        kind = "wikinews" if record.get("question_kind") == "wikinews" else record["kind"]
        rows.append({"kind": kind, "features": reading.features, "right": right(reading.best.text, record["gold"])})
    return rows


def matrix(rows: list[dict], calibration: Calibration) -> np.ndarray:
    return np.array([[1.0, *(calibration.read(r["features"], name) for name in FEATURES)] for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", type=float, default=0.5, help="precision wanted on every kind when answering")
    parser.add_argument(
        "--people-precision", type=float, help="precision wanted on people's news questions (default: --precision)"
    )
    parser.add_argument(
        "--candidate-floor",
        type=float,
        default=Calibration.candidate_floor,
        help="below the threshold, answers at least this likely are offered as unconfirmed candidates",
    )
    parser.add_argument(
        "--wikinews-weight", type=float, default=0.5, help="the Wikinews questions' weight against another side's"
    )
    parser.add_argument("--overlap", type=float, default=0.0)
    parser.add_argument("--echo", type=float, default=0.0)
    parser.add_argument("--staleness", type=float, default=0.0)
    parser.add_argument("--bare-names", action="store_true")
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument(
        "--squash", default="", help="features read on a log scale, comma-separated (e.g. top,span,relevance,margin)"
    )
    parser.add_argument(
        "--unanswerable-share",
        type=float,
        default=0.0,
        help="the share of the SQuAD side's weight the unanswerable questions carry (0: as they come)",
    )
    parser.add_argument(
        "--headline-chars",
        type=int,
        default=Calibration.load().headline_chars,
        help="headline read before each passage (default: as shipped)",
    )
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args()

    prior = SpanPrior(overlap=args.overlap, echo=args.echo, staleness=args.staleness, bare_names=args.bare_names)
    reader = ExtractiveReader(calibration=Calibration(), prior=prior)
    rows = rows_for([r for name in SETS for r in proposals(name, headline_chars=args.headline_chars)], reader)
    kinds = np.array([r["kind"] for r in rows])
    squashed = tuple(args.squash.split(",")) if args.squash else ()
    x, y = matrix(rows, Calibration(squashed=squashed)), np.array([r["right"] for r in rows])
    # quiz news, the SQuAD questions (plain and unanswerable, as they come) and people's news questions
    sides = np.array([SIDES[k] for k in kinds])
    present = sorted(set(sides))
    share = {side: args.wikinews_weight if side == "wikinews" else 1.0 for side in present}
    weight = np.array([len(rows) * share[side] / (sum(share.values()) * np.sum(sides == side)) for side in sides])
    if args.unanswerable_share:  # the unanswerable ones weigh this share of the SQuAD side
        squad = sides == "squad"
        for kind, share in (("unanswerable", args.unanswerable_share), ("plain", 1 - args.unanswerable_share)):
            inside = kinds == kind
            weight[inside] = share * weight[squad].sum() / inside.sum()
    w = fit_logistic(x, y, l2=args.l2, weight=weight)
    weights = {name: float(v) for name, v in zip(FEATURES, w[1:], strict=True)}
    calibration = Calibration(
        float(w[0]),
        weights,
        0.5,
        prior,
        candidate_floor=args.candidate_floor,
        squashed=squashed,
        headline_chars=args.headline_chars,
    )
    confidence = np.array([calibration.confidence(r["features"]) for r in rows])
    wanted = {"news": args.precision, "squad": args.precision, "people": args.people_precision or args.precision}
    threshold = max(threshold_for(confidence[sides == s], y[sides == s], wanted[s]) for s in present if s in wanted)
    print("weights: " + ", ".join(f"{k} {v:+.3f}" for k, v in [("bias", w[0]), *weights.items()]))
    for kind in KINDS:
        inside = kinds == kind
        if not inside.any():
            continue
        answered = inside & (confidence >= threshold)
        print(
            f"{kind}: {inside.sum()} questions, best span right {100 * y[inside].mean():.1f}%; at threshold "
            f"{threshold:.3f} answered {100 * answered.sum() / inside.sum():.1f}%, right "
            f"{100 * y[answered].mean() if answered.any() else 0:.1f}% of those (in sample)"
        )
        print("\n".join(reliability(confidence[inside], y[inside])))
    args.out.write_text(
        json.dumps(
            {
                "bias": calibration.bias,
                "weights": weights,
                "threshold": round(threshold, 4),
                "candidate_floor": args.candidate_floor,
                "prior": asdict(prior),
                "squashed": list(squashed),
                "headline_chars": args.headline_chars,
                "fitted_on": "RealTime QA 2024 held-out weeks (news), SQuAD calibration titles (squad_split) as "
                "news (plain, unanswerable), the plain-news set's and the held-out Wikinews documents' tune halves "
                f"(people, people-unanswerable): {', '.join(f'{k} {int(np.sum(kinds == k))}' for k in KINDS)}",
                "precision_wanted": args.precision,
                "people_precision_wanted": args.people_precision or args.precision,
                "passages": READ_PASSAGES,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
