"""Hybrid retrieval: dense (FAISS) and lexical (BM25 over FTS5) rankings fused by reciprocal rank.

Embeddings catch paraphrase ("beat" ~ "defeated"); BM25 catches the names and numbers that news
questions hinge on and that small embedding models blur together.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from index.articles import ArticleStore
from index.embed import Embedder
from index.models import Hit


@dataclass(frozen=True)
class SearchWeights:
    dense: float = 1.0
    lexical: float = 1.0
    rrf_k: int = 60  # the usual reciprocal-rank-fusion damping constant
    depth: int = 50  # how deep each ranking is read before fusing


def fuse(dense: list[tuple[int, float]], lexical: list[int], weights: SearchWeights) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: score(p) = sum over rankings of weight / (rrf_k + rank)."""
    scores: dict[int, float] = {}
    for rank, (passage_id, _) in enumerate(dense):
        scores[passage_id] = scores.get(passage_id, 0.0) + weights.dense / (weights.rrf_k + rank + 1)
    for rank, passage_id in enumerate(lexical):
        scores[passage_id] = scores.get(passage_id, 0.0) + weights.lexical / (weights.rrf_k + rank + 1)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


class HybridSearch:
    def __init__(self, articles: ArticleStore, embedder: Embedder, weights: SearchWeights | None = None) -> None:
        self.articles = articles
        self.vectors = articles.vectors
        self.embedder = embedder
        self.weights = weights or SearchWeights()

    def search(self, question: str, k: int, timings: dict[str, float] | None = None) -> list[Hit]:
        """The top `k` passages; `timings`, when given, receives seconds spent per stage."""
        clock = _Stopwatch(timings)
        depth = max(self.weights.depth, k)
        vector = self.embedder.encode_question(question)
        clock.lap("embed_question")
        dense = self.vectors.current().search(vector, depth)
        clock.lap("dense_search")
        lexical = self.articles.lexical_search(question, depth)
        clock.lap("lexical_search")
        fused = fuse(dense, lexical, self.weights)[:k]
        rows = self.articles.passages([pid for pid, _ in fused])
        dense_scores = dict(dense)
        lexical_ranks = {pid: rank for rank, pid in enumerate(lexical)}
        hits = []
        for passage_id, score in fused:
            row = rows.get(passage_id)
            if row is None:  # removed since the vector copy was made
                continue
            hits.append(
                Hit(
                    passage_id=passage_id,
                    text=row.text,
                    story=row.story,
                    score=score,
                    rank=len(hits),
                    dense_score=dense_scores.get(passage_id),
                    lexical_rank=lexical_ranks.get(passage_id),
                )
            )
        clock.lap("fusion")
        return hits


class _Stopwatch:
    """Adds the seconds since the previous lap to `timings[stage]`; does nothing without a dict."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
            self.last = now
