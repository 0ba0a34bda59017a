"""The reader's calibration: from a reading's features to the chance its answer is right, and
where it abstains. Fitted by `python -m training.calibrate`, shipped beside the bundled weights."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from index.reader.spans import SpanPrior

WEIGHTS_FILE = Path(__file__).parent.parent / "weights" / "reader.safetensors"
CALIBRATION_FILE = WEIGHTS_FILE.with_suffix(".json")
# The most of a headline ever read before a passage (as LibraryConfig.max_title_chars), and what a
# calibration that does not say reads.
TITLE_READ = 300


@dataclass(frozen=True)
class Calibration:
    """A logistic model from a reading's features to the chance its answer is right, the
    confidence below which the reader abstains, and the span prior the features were read with.
    Fitted by `python -m training.calibrate`; shipped in `index/weights/reader.json`."""

    bias: float = 0.0
    weights: dict[str, float] = field(default_factory=lambda: {"top": 1.0})
    threshold: float = 0.5
    prior: SpanPrior = field(default_factory=SpanPrior)  # how spans were valued when this was fitted
    # Below the threshold, answers at least this likely are offered as unconfirmed candidates; below
    # it they are noise (a question the news does not touch still gets a "best" span).
    candidate_floor: float = 0.1
    # Features read on a log scale (sign(x) * ln(1 + |x|)) before the weights: the network's scores
    # run far higher on encyclopaedia paragraphs like its training data than on news, and a linear
    # weight fitted on both rates every news answer as if it were a weak encyclopaedia one.
    squashed: tuple[str, ...] = ()
    # Characters of each story's headline the network reads before its passage (0: none). The
    # features depend on it, so it is fitted and shipped with them.
    headline_chars: int = TITLE_READ

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            data["bias"],
            dict(data["weights"]),
            data["threshold"],
            SpanPrior(**data.get("prior", {})),
            data.get("candidate_floor", cls.candidate_floor),
            tuple(data.get("squashed", ())),
            int(data.get("headline_chars", TITLE_READ)),
        )

    def confidence(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * self.read(features, name) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))

    def read(self, features: dict[str, float], name: str) -> float:
        value = features.get(name, 0.0)
        return math.copysign(math.log1p(abs(value)), value) if name in self.squashed else value
