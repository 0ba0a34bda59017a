"""Choose the reader's span prior (index/reader/spans.py `SpanPrior`) on data the product never reports on.

    python -m training.tune [--overlap 0,1,2,3] [--echo 0,2] [--staleness 0,0.25] [--bare-names 0,1]

Re-weighs the cached proposals of `training/proposals.py` (the held-out 2024 news weeks, and the calibration
half of SQuAD's held-out titles as news) under every combination of the given values and prints how
often the best answer is exactly right on each kind, best combination first (ranked by the mean of
the two kinds, so a gain on easy questions cannot hide a loss on hard ones). Write the chosen values
into `training.calibrate`'s flags; 2025 is never read here.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from index.reader import ExtractiveReader
from index.reader.calibration import Calibration
from index.reader.extractive import SpanPrior
from training.proposals import SETS, proposals, right

ROOT = Path(__file__).resolve().parent.parent


def values(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def accuracy(records: list[dict], reader: ExtractiveReader) -> dict[str, float]:
    """Share of answerable questions whose best answer is exactly right, by kind (in %)."""
    totals: dict[str, list[float]] = {}
    for record in records:
        if not record["gold"]:
            continue
        reading = reader.weigh(record["question"], record["spans"])
        guess = reading.best.text if reading.best else ""
        totals.setdefault(record["kind"], []).append(right(guess, record["gold"]))
    return {kind: 100 * sum(v) / len(v) for kind, v in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overlap", type=values, default=[0.0, 1.0, 2.0, 3.0, 4.0])
    parser.add_argument("--echo", type=values, default=[0.0, 1.0, 3.0])
    parser.add_argument("--staleness", type=values, default=[0.0, 0.25, 0.5])
    parser.add_argument("--long-answer", type=values, default=[0.5])
    parser.add_argument("--bare-names", type=values, default=[0.0, 1.0], help="0 (off) and/or 1 (on)")
    parser.add_argument("--headline-chars", type=int, help="headline read before each passage (default: as shipped)")
    args = parser.parse_args()

    records = [r for name in SETS for r in proposals(name, headline_chars=args.headline_chars)]
    results = []
    for overlap, echo, staleness, long_answer, bare in itertools.product(
        args.overlap, args.echo, args.staleness, args.long_answer, args.bare_names
    ):
        prior = SpanPrior(
            overlap=overlap, echo=echo, staleness=staleness, long_answer=long_answer, bare_names=bool(bare)
        )
        reader = ExtractiveReader(calibration=Calibration(), prior=prior)
        by_kind = accuracy(records, reader)
        results.append((sum(by_kind.values()) / len(by_kind), prior, by_kind))
    results.sort(key=lambda item: -item[0])
    counts = {kind: sum(1 for r in records if r["kind"] == kind and r["gold"]) for kind in ("news", "plain")}
    print(f"answerable questions: {counts}")
    for mean, prior, by_kind in results:
        kinds = "  ".join(f"{kind} {value:5.1f}" for kind, value in sorted(by_kind.items()))
        print(
            f"overlap {prior.overlap:4.2f} echo {prior.echo:4.2f} staleness {prior.staleness:4.2f} "
            f"long {prior.long_answer:4.2f} bare names {prior.bare_names:d}:  {kinds}  mean {mean:5.1f}"
        )


if __name__ == "__main__":
    main()
