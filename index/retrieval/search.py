"""Hybrid retrieval: dense (FAISS) and lexical (BM25 over FTS5) rankings fused by reciprocal rank,
with a nudge towards recent stories.

Embeddings catch paraphrase ("beat" ~ "defeated"); BM25 catches the names and numbers that news
questions hinge on and that small embedding models blur together. News questions are mostly about
what just happened, so among passages that match about as well, newer stories rank higher.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from index.config import SearchWeights
from index.dates import published_moment
from index.models import Hit
from index.retrieval.embed import Embedder
from index.store import ArticleStore, VectorGenerations


def recency_gain(published: str | None, as_of: datetime, weights: SearchWeights) -> float:
    """What a story's date adds to its passages' fused score (nothing without a date; a story dated
    after `as_of` counts as new)."""
    moment = published_moment(published)
    if moment is None or weights.recency <= 0:
        return 0.0
    days = max(0.0, (as_of - moment).total_seconds() / 86400)
    return weights.recency / (weights.rrf_k + 1) * math.exp(-days / weights.recency_days)


def fuse(dense: list[tuple[int, float]], lexical: list[int], weights: SearchWeights) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: score(p) = sum over rankings of weight / (rrf_k + rank)."""
    scores: dict[int, float] = {}
    for rank, (passage_id, _) in enumerate(dense):
        scores[passage_id] = scores.get(passage_id, 0.0) + weights.dense / (weights.rrf_k + rank + 1)
    for rank, passage_id in enumerate(lexical):
        scores[passage_id] = scores.get(passage_id, 0.0) + weights.lexical / (weights.rrf_k + rank + 1)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def with_recency(
    fused: list[tuple[int, float]], published: Mapping[int, str | None], as_of: datetime, weights: SearchWeights
) -> list[tuple[int, float]]:
    """`fused` with each passage's recency gain (its story's date in `published`) added, best first."""
    if weights.recency <= 0:
        return fused
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    rescored = [(pid, score + recency_gain(published.get(pid), as_of, weights)) for pid, score in fused]
    return sorted(rescored, key=lambda item: (-item[1], item[0]))


class HybridSearch:
    """Finds the passages for a question in the articles and their vectors."""

    def __init__(
        self,
        articles: ArticleStore,
        vectors: VectorGenerations,
        embedder: Embedder,
        weights: SearchWeights | None = None,
    ) -> None:
        self.articles = articles
        self.vectors = vectors
        self.embedder = embedder
        self.weights = weights or SearchWeights()

    def search(self, question: str, k: int, as_of: datetime | None = None) -> list[Hit]:
        """The top `k` passages as the library would have given them at `as_of`: recency measured
        from that moment and stories published after it left out (default: now, nothing left out;
        an undated story is never left out)."""
        if as_of is not None and as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=UTC)
        vector = self.embedder.encode_question(question)
        depth = max(self.weights.depth, k)
        while True:
            dense = self.vectors.current().search(vector, depth)
            lexical = self.articles.lexical_search(question, depth)
            fused = fuse(dense, lexical, self.weights)
            rows = self.articles.passages([pid for pid, _ in fused])
            if as_of is None:
                break
            kept = {pid: row for pid, row in rows.items() if not _published_after(row.story.published, as_of)}
            # Later stories crowded out the earlier ones: read deeper (up to 16 times) rather than
            # answer from fewer passages than asked for.
            if len(kept) >= k or len(kept) == len(rows) or depth >= 16 * self.weights.depth:
                rows = kept
                fused = [(pid, score) for pid, score in fused if pid in rows]
                break
            depth *= 4
        published = {pid: row.story.published for pid, row in rows.items()}
        fused = with_recency(fused, published, as_of or datetime.now(UTC), self.weights)[:k]
        dense_scores = dict(dense)
        lexical_ranks = {pid: rank for rank, pid in enumerate(lexical)}
        hits: list[Hit] = []
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
                    article_id=row.article_id,
                )
            )
        return hits


def _published_after(published: str | None, moment: datetime) -> bool:
    """Whether a story was published after `moment`. A bare date counts as the whole day, so a story
    dated the day of the question is kept."""
    when = published_moment(published)
    if when is None:
        return False
    if published and len(published) == 10:
        return when.date() > moment.astimezone(UTC).date()
    return when > moment
