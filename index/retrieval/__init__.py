"""The retrieval wing: embedding passages and questions, hybrid search (dense + BM25 + recency),
and matching stories to topics. The names below load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index import lazy_names

_HOMES = {
    "Embedder": "index.retrieval.embed",
    "HybridSearch": "index.retrieval.search",
    "TopicMatcher": "index.retrieval.topics",
}

__all__ = [
    "Embedder",
    "HybridSearch",
    "TopicMatcher",
]

if TYPE_CHECKING:
    from index.retrieval.embed import Embedder
    from index.retrieval.search import HybridSearch
    from index.retrieval.topics import TopicMatcher


__getattr__ = lazy_names(__name__, _HOMES)
