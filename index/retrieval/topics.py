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
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from index.models import Headline
from index.retrieval.embed import Embedder
from index.retrieval.topic_bank import BACKGROUND_TOPICS, STANDING_TEMPERATURE
from index.store import ArticleStore, VectorGenerations
from index.text import content_terms

TOPICS_KEPT = 4096  # topic vectors a process keeps
NEWEST_LOOKED_AT = 200  # `latest --topic` matches the newest stories, and older ones its search finds
NEAREST_LOOKED_AT = 200  # passages nearest a topic whose stories `latest --topic` matches too
SHARED_STEM = 5  # a stem this long that begins another word's stem names it ("erupt" → "eruption")
SHORT_PASSAGES = 2  # a story of this many passages or fewer is judged by the short rule
_BACKGROUND: dict[str, np.ndarray] = {}  # the background subjects' vectors, by embedding model
_BACKGROUND_LOCK = threading.Lock()


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
    # The story's log-chance of the topic among it and the background subjects (topic_bank), read
    # off the whole story's cosines: how the topic ranks for this story, whatever its cosine's scale.
    standing: float = 0.0

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
            self.closeness,
            self.whole,
            self.standing,
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
SHORT_FEATURES = ("closeness", "whole", "standing", "in_headline", "in_lead", "one_word", "two_words")


@dataclass(frozen=True)
class TopicRule:
    """A story is about a topic when a logistic model's chance is at least its threshold: for a full
    story the model of TOPIC_FEATURES (`bias`, `weights`, `threshold`), for a short one (a headline
    and a summary, `TopicFeatures.short`) the model of SHORT_FEATURES (`short_bias`, `short_weights`,
    `short_threshold`). Both were fitted by `python -m training.topics --fit`; `nearest_floor` is only
    where `latest --topic` starts looking among older stories' passages."""

    bias: float = -6.9437
    weights: tuple[float, ...] = (-2.0911, 5.1017, 6.8033, 3.7389, 0.8497, 1.7678, 1.0986, 1.4097, -0.2308)
    threshold: float = 0.47
    nearest_floor: float = 0.25
    short_bias: float = -2.4789
    short_weights: tuple[float, ...] = (3.2561, 3.2561, 0.3069, 0.9796, 1.2856, -0.4022, 0.2737)
    short_threshold: float = 0.65

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
    standing: np.ndarray

    @classmethod
    def missing(cls, topics: int) -> TopicCloseness:
        nothing = np.full(topics, -1.0, dtype=np.float32)
        return cls(nothing, nothing, nothing, nothing, 0, np.zeros(topics, dtype=np.float32))

    def of(self, topic: int) -> tuple[float, float, float, float, int]:
        return (
            float(self.best[topic]),
            float(self.runner_up[topic]),
            float(self.whole[topic]),
            float(self.opening[topic]),
            self.passages,
        )


def story_closeness(rows: np.ndarray, vectors: np.ndarray, background: np.ndarray | None = None) -> TopicCloseness:
    """A story's passage vectors (in passage order) against the topics' vectors (and against the
    background subjects' vectors, for each topic's standing among them)."""
    cosines = rows @ vectors.T  # passages x topics
    if len(rows) > 1:
        top_two = -np.partition(-cosines, 1, axis=0)[:2]
        best, runner_up = top_two[0], top_two[1]
    else:
        best = runner_up = cosines[0]
    mean = rows.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    whole = (mean / norm) @ vectors.T if norm > 0 else np.zeros(len(vectors), dtype=np.float32)
    standing = np.zeros(len(vectors), dtype=np.float32)
    if background is not None and len(background) and norm > 0:
        subjects = (mean / norm) @ background.T / STANDING_TEMPERATURE
        rest = float(subjects.max() + np.log(np.exp(subjects - subjects.max()).sum()))
        standing = whole / STANDING_TEMPERATURE - np.logaddexp(whole / STANDING_TEMPERATURE, rest)
    return TopicCloseness(best, runner_up, whole, cosines[0], len(rows), standing)


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

    def background(self) -> np.ndarray:
        """The background subjects' vectors (topic_bank), embedded once per process and model (a
        new library in the same process, as a reopened one, embeds them again nowhere)."""
        model = self.embedder.model_name
        with _BACKGROUND_LOCK:
            kept = _BACKGROUND.get(model)
        if kept is None:
            kept = self.embedder.encode(list(BACKGROUND_TOPICS)).astype(np.float32, copy=False)
            with _BACKGROUND_LOCK:
                _BACKGROUND[model] = kept
        return kept

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
        background = self.background()
        closeness = {article_id: story_closeness(rows, vectors, background) for article_id, rows in passages.items()}
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
                        standing=float(closeness.get(s.article_id, missing).standing[at]),
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
