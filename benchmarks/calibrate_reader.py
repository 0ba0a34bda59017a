"""Fit the reader's confidence (index/weights/reader.json) on news weeks the reader never trained on.

    python benchmarks/calibrate_reader.py [--precision 0.5] [--weeks 6]

Asks every question of the last `--weeks` weeks of RealTime QA 2024 (the weeks
`train_reader.py` holds out) through the library's own search and reader, then fits a logistic
model from the reader's features (pooled answer strength, its share against the other answers
and "no answer", its margin over the runner-up, passage relevance, support) to whether the
best answer is right (EM). The threshold is the lowest confidence at which the answered
questions are right at least `--precision` of the time. 2025 is never read here: report on it
with `python benchmarks/realtimeqa.py --year 2025`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.realtimeqa import evaluate, load, reliability  # noqa: E402
from benchmarks.train_reader import HELD_OUT_WEEKS  # noqa: E402
from index.chunk import Chunker  # noqa: E402
from index.embed import Embedder  # noqa: E402
from index.reader import CALIBRATION_FILE, READ_PASSAGES, Calibration, ExtractiveReader  # noqa: E402

FEATURES = ("top", "share", "margin", "relevance")


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """Newton's method for L2-regularised logistic regression; column 0 of `x` is the bias."""
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-6 * np.eye(x.shape[1])
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", type=float, default=0.5, help="precision wanted when answering")
    parser.add_argument("--weeks", type=int, default=HELD_OUT_WEEKS)
    parser.add_argument("--passages", type=int, default=READ_PASSAGES)
    parser.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / "cache" / "realtimeqa")
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args()

    _, questions = load("2024")
    weeks = sorted({q["week"] for q in questions})[-args.weeks :]
    reader = ExtractiveReader(passages=args.passages, calibration=Calibration())
    models = {"embedder": Embedder(), "reader": reader, "chunker": Chunker()}
    rows = evaluate("2024", weeks, args.cache, models)
    x = np.array([[1.0, *(r["features"].get(name, 0.0) for name in FEATURES)] for r in rows if r["features"]])
    y = np.array([r["guess_em"] for r in rows if r["features"]])
    w = fit_logistic(x, y)
    calibration = Calibration(float(w[0]), {name: float(v) for name, v in zip(FEATURES, w[1:], strict=True)})
    confidence = np.array([calibration.confidence(dict(zip(FEATURES, row[1:], strict=True))) for row in x])
    threshold = threshold_for(confidence, y, args.precision)
    answered = confidence >= threshold
    print(f"{len(rows)} questions of 2024 weeks {weeks[0]}..{weeks[-1]}; best span right for {100 * y.mean():.1f}%")
    print("weights: " + ", ".join(f"{k} {v:+.3f}" for k, v in [("bias", w[0]), *zip(FEATURES, w[1:], strict=True)]))
    print("\n".join(reliability(confidence, y)))
    print(
        f"threshold {threshold:.3f}: answers {100 * answered.mean():.1f}% of questions, "
        f"right {100 * y[answered].mean():.1f}% of those (in sample)"
    )
    args.out.write_text(
        json.dumps(
            {
                "bias": calibration.bias,
                "weights": calibration.weights,
                "threshold": round(threshold, 4),
                "fitted_on": f"RealTime QA 2024 weeks {weeks[0]}..{weeks[-1]} ({len(rows)} questions)",
                "precision_wanted": args.precision,
                "passages": args.passages,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
