"""The retrieval wing: embedding passages and questions, hybrid search (dense + BM25 + recency),
and matching stories to topics. The names below load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index import lazy_names

_HOMES = {
    "Embedder": "index.retrieval.embed",
    "HybridSearch": "index.retrieval.search",
    "PooledEncoder": "index.retrieval.encoder",
    "TopicMatcher": "index.retrieval.topics",
    "TopicRule": "index.retrieval.topics",
    "fuse": "index.retrieval.search",
    "is_plain_mean_pooling": "index.retrieval.encoder",
    "recency_gain": "index.retrieval.search",
    "resolve_model_location": "index.retrieval.embed",
    "with_recency": "index.retrieval.search",
}

__all__ = [
    "Embedder",
    "HybridSearch",
    "PooledEncoder",
    "TopicMatcher",
    "TopicRule",
    "fuse",
    "is_plain_mean_pooling",
    "recency_gain",
    "resolve_model_location",
    "with_recency",
]

if TYPE_CHECKING:
    from index.retrieval.embed import Embedder, resolve_model_location
    from index.retrieval.encoder import PooledEncoder, is_plain_mean_pooling
    from index.retrieval.search import HybridSearch, fuse, recency_gain, with_recency
    from index.retrieval.topics import TopicMatcher, TopicRule


__getattr__ = lazy_names(__name__, _HOMES)
