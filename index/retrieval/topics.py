"""Which stories are about a short topic: the one matcher behind follows, `brief --topic` and
`latest --topic`, so the three show the same stories for the same topic.

People follow one- to three-word phrases ("volcanic eruptions", "labour strikes", "Japan"). How
close a story is to such a phrase is read off its passages and its headline: the best and
second-best cosine of a passage with the topic's embedding, the cosine of the story as a whole
(its passages averaged) and of its opening passage, whether the headline (or the headline and
lead) names every word of the topic (stems that share a beginning count: "eruptions" and "erupts"
both begin "erupt"), the topic's length (a short phrase scores lower with a passage about it than
a sentence does) and the story's. One logistic model weighs them into the chance the story is
about the topic; `python -m training.topics --fit` fitted it on the tune part of a labelled set of
training-year stories, chose the cut-off by cross-validation there, and reports the held-out part.
A round-up that mentions the topic once, or a story that names a word of it in another sense,
scores high on one passage or the headline and low on the rest.

A story of one or two passages (a headline and a summary, as many feeds carry it) gives too little for
that best-against-the-rest reading; it is judged by a rule of its own over the cosine of its passages
with the topic's *tuned* vector (index/retrieval/topic_encoder.py: MiniLM with its layers tuned to
put a topic where short stories about it lie), fitted by `python -m training.topic_encoder` on
cosines of topics its cross-validation folds did not train on.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from index.models import Headline
from index.retrieval.embed import Embedder, is_bundled
from index.retrieval.topic_encoder import TopicEncoder
from index.store import ArticleStore, VectorGenerations
from index.text import content_terms

TOPICS_KEPT = 4096  # topic vectors a process keeps
NEWEST_LOOKED_AT = 200  # `latest --topic` matches the newest stories, and older ones its search finds
NEAREST_LOOKED_AT = 200  # passages nearest a topic whose stories `latest --topic` matches too
SHARED_STEM = 5  # a stem this long that begins another word's stem names it ("erupt" → "eruption")
SHORT_PASSAGES = 2  # a story of this many passages or fewer is judged by the short rule


@dataclass(frozen=True)
class TopicFeatures:
    """What the rule decides a (topic, story) pair on."""

    closeness: float  # the best cosine of the story's passages with the topic (-1: no passages)
    runner_up: float  # the second best (the best again for a story of one passage)
    whole: float  # the cosine of the story's mean passage vector
    opening: float  # the cosine of its first passage (headline and lead)
    passages: int  # the story's passages
    words: int  # the topic's content words
    in_headline: bool  # the headline names every word of the topic
    in_lead: bool  # the headline and lead together name every word of it
    # The best cosine of the story's passages with the topic's tuned vector (topic_encoder), or with
    # its plain vector where no tuned encoder applies (another embedding model): the short rule's.
    tuned: float = -1.0

    def values(self) -> tuple[float, ...]:
        """The model's inputs, in the order of TOPIC_FEATURES."""
        return (
            self.closeness,
            self.runner_up,
            self.whole,
            self.opening,
            float(self.in_headline),
            float(self.in_lead),
            float(self.words <= 1),
            float(self.words == 2),
            math.log(max(self.passages, 1)),
        )

    @property
    def short(self) -> bool:
        """A headline and a summary, as many feeds carry a story: too few passages for the
        best-against-the-rest reading of a full story."""
        return 0 < self.passages <= SHORT_PASSAGES

    def short_values(self) -> tuple[float, ...]:
        """The short rule's inputs, in the order of SHORT_FEATURES: nothing that counts passages."""
        return (
            self.tuned,
            float(self.in_headline),
            float(self.in_lead),
            float(self.words <= 1),
            float(self.words == 2),
        )


TOPIC_FEATURES = (
    "closeness",
    "runner_up",
    "whole",
    "opening",
    "in_headline",
    "in_lead",
    "one_word",
    "two_words",
    "log_passages",
)
SHORT_FEATURES = ("tuned", "in_headline", "in_lead", "one_word", "two_words")


@dataclass(frozen=True)
class TopicRule:
    """A story is about a topic when a logistic model's chance is at least its threshold: for a full
    story the model of TOPIC_FEATURES (`bias`, `weights`, `threshold`), for a short one (a headline
    and a summary, `TopicFeatures.short`) the model of SHORT_FEATURES (`short_bias`, `short_weights`,
    `short_threshold`). The first was fitted by `python -m training.topics --fit`, the second by
    `python -m training.topic_encoder` (with the tuned encoder it trains); `nearest_floor` is only
    where `latest --topic` starts looking among older stories' passages."""

    bias: float = -6.9437
    weights: tuple[float, ...] = (-2.0911, 5.1017, 6.8033, 3.7389, 0.8497, 1.7678, 1.0986, 1.4097, -0.2308)
    threshold: float = 0.47
    nearest_floor: float = 0.25
    short_bias: float = -5.2645
    short_weights: tuple[float, ...] = (12.7771, 0.7994, 1.0996, -0.2566, 0.4681)
    short_threshold: float = 0.67

    def chance(self, features: TopicFeatures) -> float:
        if features.short:
            bias, weights, values = self.short_bias, self.short_weights, features.short_values()
        else:
            bias, weights, values = self.bias, self.weights, features.values()
        z = bias + sum(w * v for w, v in zip(weights, values, strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def about(self, features: TopicFeatures) -> bool:
        threshold = self.short_threshold if features.short else self.threshold
        return features.passages > 0 and self.chance(features) >= threshold


@dataclass(frozen=True)
class TopicCloseness:
    """A story's cosines with each of several topics (one row each)."""

    best: np.ndarray
    runner_up: np.ndarray
    whole: np.ndarray
    opening: np.ndarray
    passages: int
    tuned: np.ndarray  # the best cosine with the topics' tuned vectors

    @classmethod
    def missing(cls, topics: int) -> TopicCloseness:
        nothing = np.full(topics, -1.0, dtype=np.float32)
        return cls(nothing, nothing, nothing, nothing, 0, nothing)

    def of(self, topic: int) -> tuple[float, float, float, float, int]:
        return (
            float(self.best[topic]),
            float(self.runner_up[topic]),
            float(self.whole[topic]),
            float(self.opening[topic]),
            self.passages,
        )


def story_closeness(rows: np.ndarray, vectors: np.ndarray, tuned: np.ndarray | None = None) -> TopicCloseness:
    """A story's passage vectors (in passage order) against the topics' vectors (and their tuned
    vectors, the same where None)."""
    cosines = rows @ vectors.T  # passages x topics
    if len(rows) > 1:
        top_two = -np.partition(-cosines, 1, axis=0)[:2]
        best, runner_up = top_two[0], top_two[1]
    else:
        best = runner_up = cosines[0]
    mean = rows.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    whole = (mean / norm) @ vectors.T if norm > 0 else np.zeros(len(vectors), dtype=np.float32)
    best_tuned = best if tuned is None else (rows @ tuned.T).max(axis=0)
    return TopicCloseness(best, runner_up, whole, cosines[0], len(rows), best_tuned)


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
        # The tuned topic vectors mean something only against the bundled model's passage vectors.
        self.encoder = TopicEncoder.shared(is_bundled(embedder.model_name))
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
        return self._kept(topics, self.embedder.model_name, self.embedder.encode)

    def tuned_vectors(self, topics: Sequence[str]) -> np.ndarray:
        """The topics' tuned vectors (topic_encoder), kept as `vectors` keeps theirs; the plain
        vectors where the tuned encoder does not apply."""
        if self.encoder is None:
            return self.vectors(topics)
        return self._kept(topics, f"{self.embedder.model_name} tuned for topics", self.encoder.encode)

    def _kept(self, topics: Sequence[str], model: str, encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        if not topics:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        with self._lock:
            kept = {topic: self._vectors.pop((model, topic)) for topic in topics if (model, topic) in self._vectors}
        missing = sorted({topic for topic in topics if topic not in kept})
        if missing:
            kept.update(zip(missing, encode(missing), strict=True))
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
        # Only a short story is judged by its tuned cosines: a pass of long ones embeds no tuned vector.
        short = [rows for rows in passages.values() if 0 < len(rows) <= SHORT_PASSAGES]
        tuned = self.tuned_vectors(topics) if short and self.encoder is not None else None  # else the plain
        closeness = {
            article_id: story_closeness(rows, vectors, tuned if len(rows) <= SHORT_PASSAGES else None)
            for article_id, rows in passages.items()
        }
        missing = TopicCloseness.missing(len(topics))
        headlines = {s.article_id: set(content_terms(s.story.title)) for s in stories}
        leads = {s.article_id: headlines[s.article_id] | set(content_terms(s.lead)) for s in stories}
        found = []
        for at, topic in enumerate(topics):
            terms = set(content_terms(topic))
            found.append(
                {
                    s.article_id: TopicFeatures(
                        *closeness.get(s.article_id, missing).of(at),
                        words=len(terms),
                        in_headline=bool(terms) and names_every_word(terms, headlines[s.article_id]),
                        in_lead=bool(terms) and names_every_word(terms, leads[s.article_id]),
                        tuned=float(closeness.get(s.article_id, missing).tuned[at]),
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
            close = [passage_id for passage_id, score in near if score >= self.rule.nearest_floor]
            older |= {row.article_id for row in self.articles.passages(close).values()}
        candidates.update((h.article_id, h) for h in self.articles.headlines_of(sorted(older - set(candidates))))
        return self.about(topic, list(candidates.values()))
