"""Which stories are about a short topic: the one matcher behind follows, `brief --topic` and
`latest --topic`, so the three show the same stories for the same topic.

People follow one- to three-word phrases ("volcanic eruptions", "labour strikes", "Japan"). A
story is about a topic when its headline names every word of it (stems that share a beginning
count: "eruptions" and "erupts" both begin "erupt"), or when one of its passages is close enough
to the topic's embedding. A short phrase scores lower with a passage about it than a sentence
does, so the cut-off depends on the topic's length: two words 0.40 (a question-long topic 0.50, as
before); a single word 0.475, as the headline names most stories about a single word and its
looser matches were off the topic. `benchmarks/topics.py` chose them on the tune part of a
labelled set of training-year stories and reports the held-out part.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from index.models import Headline
from index.retrieval.embed import Embedder
from index.store import ArticleStore, VectorGenerations
from index.text import content_terms

TOPICS_KEPT = 4096  # topic vectors a process keeps
NEWEST_LOOKED_AT = 200  # `latest --topic` matches the newest stories, and older ones its search finds
NEAREST_LOOKED_AT = 200  # passages nearest a topic whose stories `latest --topic` matches too
SHARED_STEM = 5  # a stem this long that begins another word's stem names it ("erupt" → "eruption")


@dataclass(frozen=True)
class TopicFeatures:
    """What the rule decides a (topic, story) pair on."""

    closeness: float  # the best cosine of the story's passages with the topic
    words: int  # the topic's content words
    in_headline: bool  # the headline names every word of the topic
    in_lead: bool  # the headline and lead together name every word of it


@dataclass(frozen=True)
class TopicRule:
    """A story is about a topic when it names the topic (`lexical`: where it must) or is close
    enough to it: `one_word`, `two_words` and `more_words` are the cosine cut-offs by the topic's
    length (chosen by `benchmarks/topics.py` on its tune part)."""

    one_word: float = 0.475
    two_words: float = 0.40
    more_words: float = 0.50
    lexical: str = "headline"  # "headline", "lead" (headline or lead) or "none"

    def cut_off(self, words: int) -> float:
        return self.one_word if words <= 1 else self.two_words if words == 2 else self.more_words

    @property
    def lowest(self) -> float:
        return min(self.one_word, self.two_words, self.more_words)

    def about(self, features: TopicFeatures) -> bool:
        if features.words and (
            (self.lexical in ("headline", "lead") and features.in_headline)
            or (self.lexical == "lead" and features.in_lead)
        ):
            return True
        return features.closeness >= self.cut_off(features.words)


def names_every_word(topic_terms: set[str], text_terms: set[str]) -> bool:
    """Whether every stem of the topic is a stem of the text, or begins one (or is begun by one)
    at least SHARED_STEM letters long."""
    for term in topic_terms:
        if term in text_terms:
            continue
        if not any(
            (len(term) >= SHARED_STEM and other.startswith(term))
            or (len(other) >= SHARED_STEM and term.startswith(other))
            for other in text_terms
        ):
            return False
    return True


class TopicMatcher:
    """Matches topics against stories, the topic vectors embedded once per process and model."""

    def __init__(
        self, articles: ArticleStore, vectors: VectorGenerations, embedder: Embedder, rule: TopicRule | None = None
    ) -> None:
        self.articles = articles
        self.passage_index = vectors
        self.embedder = embedder
        self.rule = rule or TopicRule()
        self._vectors: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self.embedder.model_name

    def vector(self, topic: str) -> np.ndarray:
        """A topic's vector; the most recent TOPICS_KEPT are kept, so a delivery pass over many
        follows embeds only topics it has not seen."""
        return self.vectors([topic])[0]

    def vectors(self, topics: Sequence[str]) -> np.ndarray:
        """The topics' vectors, one row each; those not kept are embedded in one batch."""
        if not topics:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        model = self.embedder.model_name
        with self._lock:
            kept = {topic: self._vectors.pop((model, topic)) for topic in topics if (model, topic) in self._vectors}
        missing = sorted({topic for topic in topics if topic not in kept})
        if missing:
            kept.update(zip(missing, self.embedder.encode(missing), strict=True))
        with self._lock:
            for topic, vector in kept.items():
                self._vectors[(model, topic)] = vector  # newest last
            while len(self._vectors) > TOPICS_KEPT:
                self._vectors.pop(next(iter(self._vectors)))
        return np.vstack([kept[topic] for topic in topics]).astype(np.float32, copy=False)

    def features(self, topic: str, stories: Sequence[Headline]) -> dict[int, TopicFeatures]:
        """Each story's features against `topic` (article id -> features)."""
        return self.features_many([topic], stories)[0]

    def features_many(
        self,
        topics: Sequence[str],
        stories: Sequence[Headline],
        vectors: np.ndarray | None = None,
        passages: Mapping[int, np.ndarray] | None = None,
    ) -> list[dict[int, TopicFeatures]]:
        """Features of every (topic, story) pair: the stories' passage vectors (given, or read
        once) multiplied with all the topics' vectors (given, or embedded) at once."""
        if not topics:
            return []
        if not stories:
            return [{} for _ in topics]
        if vectors is None:
            vectors = self.vectors(topics)
        if passages is None:
            passages = self.articles.passage_vectors([s.article_id for s in stories])
        closeness = {article_id: (rows @ vectors.T).max(axis=0) for article_id, rows in passages.items()}
        headlines = {s.article_id: set(content_terms(s.story.title)) for s in stories}
        leads = {s.article_id: headlines[s.article_id] | set(content_terms(s.lead)) for s in stories}
        found = []
        for at, topic in enumerate(topics):
            terms = set(content_terms(topic))
            found.append(
                {
                    s.article_id: TopicFeatures(
                        closeness=float(closeness[s.article_id][at]) if s.article_id in closeness else -1.0,
                        words=len(terms),
                        in_headline=bool(terms) and names_every_word(terms, headlines[s.article_id]),
                        in_lead=bool(terms) and names_every_word(terms, leads[s.article_id]),
                    )
                    for s in stories
                }
            )
        return found

    def about(
        self, topic: str, stories: Sequence[Headline], passages: Mapping[int, np.ndarray] | None = None
    ) -> set[int]:
        """Ids of the stories about `topic` (`passages`: their passage vectors, if already read)."""
        return self.about_many([topic], stories, passages=passages)[0]

    def about_many(
        self,
        topics: Sequence[str],
        stories: Sequence[Headline],
        vectors: np.ndarray | None = None,
        passages: Mapping[int, np.ndarray] | None = None,
    ) -> list[set[int]]:
        """For each topic, the ids of the stories about it (one pass over the stories)."""
        return [
            {article_id for article_id, pair in features.items() if self.rule.about(pair)}
            for features in self.features_many(topics, stories, vectors, passages)
        ]

    def stories_about(self, topic: str) -> set[int]:
        """Ids of the library's stories about `topic`, for `latest --topic`: of the newest
        NEWEST_LOOKED_AT stories and of older ones that name the topic's words or have one of the
        NEAREST_LOOKED_AT passages nearest it, those the rule says are about it (the same rule, so
        a story a follow would post is listed)."""
        candidates = {h.article_id: h for h in self.articles.newest_headlines(NEWEST_LOOKED_AT)}
        older = self.articles.articles_mentioning(topic)
        if self.articles.has_passages():
            self.articles.check_model(self.model_name)
            near = self.passage_index.current().search(self.vector(topic), NEAREST_LOOKED_AT)
            close = [passage_id for passage_id, score in near if score >= self.rule.lowest]
            older |= {row.article_id for row in self.articles.passages(close).values()}
        candidates.update((h.article_id, h) for h in self.articles.headlines_of(sorted(older - set(candidates))))
        return self.about(topic, list(candidates.values()))
