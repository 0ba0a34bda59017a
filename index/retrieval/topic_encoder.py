"""The topic side of the embedding: followed topics ("labour disputes", "baking") embedded by the
bundled MiniLM with its layers tuned for reading a topic against the stories' own, untuned passage
vectors (`index/weights/topics.safetensors`, trained by `python -m training.topic_encoder`).

A short phrase and a headline with a summary sit at different places in MiniLM's space: the cosine of
a story plainly about a topic ranges from 0.2 to 0.6 by topic, so no one cut-off suits all topics.
The tuned layers move each topic's vector to where its stories are, so one cut-off does. Only the
topic side is tuned: the passage vectors in the index stay as they are, and the tuned vectors mean
something only against the bundled model's (`TopicEncoder.shared` answers None for another model).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.retrieval.encoder import PooledEncoder

TOPIC_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "topics.safetensors"
TOPIC_BATCH = 64  # topics embedded at once
_SHARED: dict[Path, TopicEncoder] = {}
_SHARED_LOCK = threading.Lock()


class TopicEncoder:
    """Embeds topic phrases with the tuned layers (loaded on first use, one thread at a time)."""

    def __init__(self, weights: Path = TOPIC_WEIGHTS, base: Path | None = None) -> None:
        self.weights = weights
        self.base = base
        self._encoder: PooledEncoder | None = None
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, bundled: bool, weights: Path = TOPIC_WEIGHTS) -> TopicEncoder | None:
        """The process's encoder for `weights`, or None where the story vectors are not the bundled
        model's (`bundled` False) or the weights are not there (a checkout without them)."""
        if not bundled or not weights.is_file():
            return None
        with _SHARED_LOCK:
            return _SHARED.setdefault(weights, cls(weights))

    def _load(self) -> PooledEncoder:
        from safetensors.torch import load_file

        from index.backbone import bundled_model_path

        encoder = PooledEncoder(self.base or Path(bundled_model_path()))
        tuned = {name: tensor.float() for name, tensor in load_file(str(self.weights)).items()}
        _, unexpected = encoder.model.load_state_dict(tuned, strict=False)
        if unexpected or not tuned:
            raise ValueError(f"{self.weights} does not fit MiniLM (unexpected {unexpected[:3]})")
        return encoder

    def encode(self, topics: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors of `topics`, in order."""
        with self._lock:
            if self._encoder is None:
                self._encoder = self._load()
            encoder = self._encoder
        return np.ascontiguousarray(encoder.encode(list(topics), TOPIC_BATCH), dtype=np.float32)
