"""The reader wing: the extractive reader (network, spans, calibration) that answers a question
from the passages search found, with a quote, or abstains. Its weights and model card are in
`index/weights/`. It stands on the backbone wing (the BERT body, tokenizers). The names below
load on first use (the network imports torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index import lazy_names

_HOMES = {
    "ExtractiveReader": "index.reader.extractive",
    "Reader": "index.reader.extractive",
}

__all__ = [
    "ExtractiveReader",
    "Reader",
]

if TYPE_CHECKING:
    from index.reader.extractive import ExtractiveReader, Reader


__getattr__ = lazy_names(__name__, _HOMES)
