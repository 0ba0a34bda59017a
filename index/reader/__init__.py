"""The reader wing: the extractive reader (network, spans, calibration) that answers a question
from the passages search found, with a quote, or abstains. Its weights and model card are in
`index/weights/`. It stands on the backbone wing (the BERT body, tokenizers). The names below
load on first use (the network imports torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index import lazy_names

_HOMES = {
    "BFloat16Linear": "index.reader.network",
    "CALIBRATION_FILE": "index.reader.calibration",
    "Calibration": "index.reader.calibration",
    "ExtractiveReader": "index.reader.extractive",
    "FROZEN": "index.reader.network",
    "Reader": "index.reader.extractive",
    "ReaderNet": "index.reader.network",
    "Span": "index.reader.extractive",
    "SpanPrior": "index.reader.extractive",
    "WEIGHTS_FILE": "index.reader.calibration",
    "as_shipped": "index.reader.network",
    "bare_name": "index.reader.spans",
    "base_location": "index.reader.network",
    "best_spans": "index.reader.network",
    "build_net": "index.reader.network",
    "closest_stories": "index.reader.spans",
    "crosses_sentences": "index.reader.spans",
    "encode_pairs": "index.reader.network",
    "feed_forward_in_bfloat16": "index.reader.network",
    "has_bfloat16": "index.reader.network",
    "load_trained": "index.reader.network",
    "names_a_time": "index.reader.spans",
    "normalise": "index.reader.spans",
    "pool": "index.reader.spans",
    "sentence_around": "index.reader.spans",
    "trim": "index.reader.spans",
}

__all__ = [
    "BFloat16Linear",
    "CALIBRATION_FILE",
    "Calibration",
    "ExtractiveReader",
    "FROZEN",
    "Reader",
    "ReaderNet",
    "Span",
    "SpanPrior",
    "WEIGHTS_FILE",
    "as_shipped",
    "bare_name",
    "base_location",
    "best_spans",
    "build_net",
    "closest_stories",
    "crosses_sentences",
    "encode_pairs",
    "feed_forward_in_bfloat16",
    "has_bfloat16",
    "load_trained",
    "names_a_time",
    "normalise",
    "pool",
    "sentence_around",
    "trim",
]

if TYPE_CHECKING:
    from index.reader.calibration import CALIBRATION_FILE, WEIGHTS_FILE, Calibration
    from index.reader.extractive import (
        ExtractiveReader,
        Reader,
        Span,
        SpanPrior,
    )
    from index.reader.network import (
        FROZEN,
        BFloat16Linear,
        ReaderNet,
        as_shipped,
        base_location,
        best_spans,
        build_net,
        encode_pairs,
        feed_forward_in_bfloat16,
        has_bfloat16,
        load_trained,
    )
    from index.reader.spans import (
        bare_name,
        closest_stories,
        crosses_sentences,
        names_a_time,
        normalise,
        pool,
        sentence_around,
        trim,
    )


__getattr__ = lazy_names(__name__, _HOMES)
