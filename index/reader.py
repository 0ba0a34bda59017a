"""Extractive reading: the network reads each of the top passages, scores it and points at
the answer span inside it; the answer's sentence is the quote, and a calibrated confidence
decides between answering and abstaining.

The default network is the one this project trains (`benchmarks/train_reader.py`, weights in
`index/weights/`); `model` may instead name any Hugging Face extractive-QA model (start/end
heads, no passage head) for users who can reach the hub.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from index.dates import published_moment
from index.errors import NewsbotError
from index.models import Answer, Citation, Hit, Proposal, Story
from index.text import content_terms

log = logging.getLogger(__name__)

WEIGHTS_FILE = Path(__file__).with_name("weights") / "reader.safetensors"
CALIBRATION_FILE = WEIGHTS_FILE.with_suffix(".json")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+")
_EDGE_PUNCTUATION = " \t\n\"'“”‘’()[]{},.;:!?—–-"
_NORMALISE = re.compile(r"[^\w\s]")
# A span-length prior: a span's value loses LONG_ANSWER_PENALTY for every word past the first
# FREE_ANSWER_WORDS. News answers are names, places, numbers and dates; the network alone sometimes
# prefers a whole clause ("Minoru Kihara said Trump is also expected to meet ..."). Fitted on the
# held-out 2024 weeks (benchmarks/realtimeqa.py --year 2024 --weeks 6): F1 +0.6 at equal EM, flat
# from 0.25 to 1.0.
FREE_ANSWER_WORDS = 3
LONG_ANSWER_PENALTY = 0.5
# Top passages read for an answer. On the held-out 2024 weeks, as shipped, 12 against 8: EM 13.9
# both, F1 19.4 against 18.9, evidence@1 16.1 against 15.6, for about 50% more reading time. Under
# other quantizations and weights the EM difference ranged from -2.2 (float32) to +1.1: a close call.
READ_PASSAGES = 12
CANDIDATES = 3  # unconfirmed answers offered when the reader is unsure
TITLE_READ = 300  # characters of a headline read before each passage (as LibraryConfig.max_title_chars)


class Reader(Protocol):
    """Anything that turns a question and its search hits into an Answer."""

    def warm_up(self) -> None: ...

    def read(self, question: str, hits: Sequence[Hit]) -> Answer: ...


def normalise(text: str) -> str:
    """The key under which spellings of one answer are pooled: case, punctuation, articles, 's."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"'s\b", "", text)
    text = _NORMALISE.sub(" ", text)
    return " ".join(w for w in text.split() if w not in ("the", "a", "an"))


def sentence_around(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence(s) of `text` holding [start, end), and their offset in `text`."""
    begin = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() <= start:
            begin = match.end()
        elif match.start() >= end:
            return text[begin : match.start() + 1].strip(), begin
    return text[begin:].strip(), begin


def closest_stories(hits: Sequence[Hit], count: int = 3) -> list[Story]:
    stories: dict[str, Story] = {}
    for hit in hits:
        stories.setdefault(hit.story.url, hit.story)
        if len(stories) == count:
            break
    return list(stories.values())


@dataclass(frozen=True)
class SpanPrior:
    """What a proposed span is worth beyond the network's own scores (its passage's relevance and
    the span's margin over "no answer" there). Chosen on data the product never reports on: the
    held-out 2024 news weeks and the calibration half of SQuAD's held-out titles
    (`benchmarks/tune_reader.py`)."""

    # A span loses `long_answer` for every word past the first `free_words`: news answers are names,
    # places, numbers and dates; the network alone sometimes prefers a whole clause.
    free_words: int = FREE_ANSWER_WORDS
    long_answer: float = LONG_ANSWER_PENALTY
    # Gains `overlap` times the share (idf-weighted, over the passages read) of the question's
    # content words its sentence holds: the network's relevance head judges passages, not
    # sentences, and in one story it often points at the lead.
    overlap: float = 0.0
    # Loses `echo` when every word of the span is a word of the question (it names what is asked
    # about, not the answer).
    echo: float = 0.0
    # Loses `staleness` for every week its story is older than the newest story read, up to
    # `stale_weeks`: when the news changed, the latest report wins, unless the question names a time.
    staleness: float = 0.0
    stale_weeks: float = 4.0
    # "Mayor Petra Holm", "the architect Noor Haddad" -> the name alone.
    bare_names: bool = False


@dataclass(frozen=True)
class Calibration:
    """A logistic model from a reading's features to the chance its answer is right, the
    confidence below which the reader abstains, and the span prior the features were read with.
    Fitted by `benchmarks/calibrate_reader.py`; shipped in `index/weights/reader.json`."""

    bias: float = 0.0
    weights: dict[str, float] = field(default_factory=lambda: {"top": 1.0})
    threshold: float = 0.5
    prior: SpanPrior = field(default_factory=SpanPrior)  # how spans were valued when this was fitted
    # Below the threshold, answers at least this likely are offered as unconfirmed candidates; below
    # it they are noise (a question the news does not touch still gets a "best" span).
    candidate_floor: float = 0.1

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            data["bias"],
            dict(data["weights"]),
            data["threshold"],
            SpanPrior(**data.get("prior", {})),
            data.get("candidate_floor", cls.candidate_floor),
        )

    def confidence(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


@dataclass
class Span:
    """One answer the network proposes: where it lies and how strongly it is backed."""

    hit: Hit
    start: int
    end: int
    value: float  # what the span is worth: see SpanPrior
    relevance: float  # the network's score of the passage
    margin: float = 0.0  # the span's start + end score over "no answer" in its passage
    overlap: float = 0.0  # idf-weighted share of the question's content words in the span's sentence
    echo: bool = False  # the span only repeats words of the question
    weeks_old: float = 0.0  # how much older its story is than the newest story read

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]

    @property
    def story_key(self) -> str:
        return self.hit.story.url


@dataclass
class Candidate:
    """One answer, pooled over every span that names it (spellings differing only in case,
    punctuation, articles or a possessive count as one)."""

    key: str
    spans: list[Span]  # strongest first
    value: float  # log-sum-exp of the spans' values

    @property
    def best(self) -> Span:
        return self.spans[0]

    @property
    def text(self) -> str:
        return self.best.text


@dataclass
class Reading:
    """Everything the reader concluded before the threshold: the best span, the features the
    confidence is computed from (also what calibration is fitted on), and every answer proposed,
    strongest first."""

    best: Span | None
    features: dict[str, float]
    candidates: list[Candidate] = field(default_factory=list)


class ExtractiveReader:
    """Reads the top `passages` hits, each on its own. `threshold=None` uses the calibrated one."""

    def __init__(
        self,
        model: str | None = None,
        threshold: float | None = None,
        passages: int = READ_PASSAGES,
        max_answer_tokens: int = 16,
        quantize: bool = True,
        calibration: Calibration | None = None,
        weights: Path = WEIGHTS_FILE,
        prior: SpanPrior | None = None,
    ) -> None:
        self.model = model
        self.weights = weights
        self.passages = passages
        self.max_answer_tokens = max_answer_tokens
        self.quantize = quantize
        self.calibration = calibration or (Calibration.load() if model is None else Calibration())
        self.threshold = self.calibration.threshold if threshold is None else threshold
        self.prior = prior or (self.calibration.prior if model is None else SpanPrior())
        self._net = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._net is not None:
                return
            try:
                if self.model is None:
                    from index.reader_model import load_net

                    net, tokenizer = load_net(self.weights)
                else:
                    net, tokenizer = _hub_model(self.model)
            except Exception as exc:  # missing files, hub errors and format errors all land here
                name = self.model or "the bundled reader"
                raise NewsbotError(f"cannot load reader model {name!r} ({type(exc).__name__}: {exc})") from exc
            if self.quantize:
                with warnings.catch_warnings():  # torch announces a future API change on every call
                    warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
                    if isinstance(net, _HubNet):
                        net.model = quantize_attention(net.model)
                    else:
                        net = quantize_attention(net)
            self._net, self._tokenizer = net.eval(), tokenizer

    def read(self, question: str, hits: Sequence[Hit]) -> Answer:
        return self.answer(question, hits, self.reading(question, hits))

    def answer(self, question: str, hits: Sequence[Hit], reading: Reading) -> Answer:
        """The reply a reading gives: the best span, its sentence and the other stories that agree;
        or, below the threshold, an abstention with up to CANDIDATES unconfirmed answers."""
        closest = closest_stories(hits)
        confidence = self.calibration.confidence(reading.features) if reading.best else 0.0
        best = reading.best
        if best is None or confidence < self.threshold:
            return Answer(
                question=question,
                text="",
                score=confidence,
                evidence=list(hits),
                closest=closest,
                candidates=self.candidates(reading),
            )
        quote, start = quoted(best)
        return Answer(
            question=question,
            text=best.text,
            score=confidence,
            quote=quote,
            answer_start=start,
            answer_end=start + len(best.text),
            story=best.hit.story,
            evidence=list(hits),
            agreeing=agreeing(reading.candidates[0]),
        )

    def candidates(self, reading: Reading, count: int = CANDIDATES) -> list[Proposal]:
        """The strongest answers of a reading, each with its quote, story and the confidence it would
        have as the answer; those under the calibration's candidate floor are left out, and so is
        one that only adds or drops words around an answer already offered ("after nine years")."""
        proposals: list[Proposal] = []
        offered: list[str] = []
        for rank, candidate in enumerate(reading.candidates):
            if len(proposals) == count:
                break
            key = f" {candidate.key} "
            if any(key in f" {k} " or f" {k} " in key for k in offered):
                continue
            features = _features(candidate, [c for i, c in enumerate(reading.candidates) if i != rank])
            score = self.calibration.confidence(features)
            if score < self.calibration.candidate_floor:
                continue
            offered.append(candidate.key)
            quote, start = quoted(candidate.best)
            proposals.append(
                Proposal(
                    text=candidate.text,
                    score=score,
                    quote=quote,
                    answer_start=start,
                    answer_end=start + len(candidate.text),
                    story=candidate.best.hit.story,
                )
            )
        return proposals

    def reading(self, question: str, hits: Sequence[Hit]) -> Reading:
        """The network's view of the top hits: every proposed span, valued and pooled by answer."""
        return self.weigh(question, self.propose(question, hits))

    def propose(self, question: str, hits: Sequence[Hit]) -> list[Span]:
        """Every span the network proposes in the top hits, with what the prior weighs (its value
        not yet set)."""
        import torch

        from index.reader_model import best_spans, encode, run_windows

        hits = list(hits[: self.passages])
        if not hits:
            return []
        if self._net is None:
            self.warm_up()
        # The headline goes before every passage; one stored before headlines were capped at ingest
        # must not make every question crawl.
        windows = encode(self._tokenizer, question, [(h.story.title[:TITLE_READ], h.text) for h in hits])
        with torch.inference_mode():
            start, end, relevance = run_windows(self._net, windows, one_by_one=self.quantize)
        weights = _term_weights(question, hits)
        asked = set(content_terms(question)) | {w.lower() for w in _WORDS.findall(question)}
        newest = max((m for m in (published_moment(h.story.published) for h in hits) if m), default=None)
        spans: list[Span] = []
        for row in range(len(windows.passage)):
            hit = hits[windows.passage[row]]
            rel = float(relevance[row]) if relevance is not None else 0.0
            null = float(start[row, 0] + end[row, 0])
            moment = published_moment(hit.story.published)
            weeks = (newest - moment).total_seconds() / 604800 if newest and moment else 0.0
            for guess in best_spans(start, end, windows, row, top=5, max_tokens=self.max_answer_tokens):
                a, b = _trim(hit.text, guess.start, guess.end)
                if b > a and "\n" not in hit.text[a:b]:  # an answer never runs across paragraphs
                    sentence = sentence_around(hit.text, a, b)[0]
                    words = {w.lower() for w in _WORDS.findall(hit.text[a:b])}
                    spans.append(
                        Span(
                            hit,
                            a,
                            b,
                            0.0,
                            rel,
                            margin=guess.score - null,
                            overlap=_overlap(weights, sentence),
                            echo=bool(words) and words <= asked,
                            weeks_old=weeks,
                        )
                    )
        return spans

    def weigh(self, question: str, spans: list[Span]) -> Reading:
        """Values each proposed span by the prior, then pools them by answer."""
        if not spans:
            return Reading(None, {})
        prior = self.prior
        stale = prior.staleness if not names_a_time(question) else 0.0
        valued = []
        for span in spans:
            if crosses_sentences(span.hit.text[span.start : span.end]):
                continue  # an answer never runs across sentences ("Tarsen spaceport on Wednesday. It will map")
            start = _bare_name(span.hit.text, span.start, span.end) if prior.bare_names else span.start
            extra_words = max(0, len(span.hit.text[start : span.end].split()) - prior.free_words)
            value = (
                span.relevance
                + span.margin
                - prior.long_answer * extra_words
                + prior.overlap * span.overlap
                - prior.echo * span.echo
                - stale * min(span.weeks_old, prior.stale_weeks)
            )
            valued.append(replace(span, start=start, value=value))
        return _pool(valued) if valued else Reading(None, {})


_WORDS = re.compile(r"\w+")
# A question that names a time asks about that time, not about the latest news.
_NAMED_TIME = re.compile(
    r"\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|november|"
    r"december|yesterday|ago|last (week|month|year)|previous|former|first|originally|before)\b",
    re.IGNORECASE,
)


# A sentence ends at . ! or ? after a lower-case letter or a digit, before a capital: "Wednesday. It",
# not "U.S. Senate" or "No. 10" (abbreviations of titles are listed).
_SENTENCE_BREAK = re.compile(
    r"[a-z0-9](?<!\b(?:Mr|Ms|Dr|St|Jr|Sr|Lt|No|vs))(?<!\b(?:Mrs|Gen|Gov|Sen|Rep|Col|Inc|Ltd))"
    r"[.!?][\"'”’)\]]*\s+[\"“‘(\[]?[A-Z]"
)


def crosses_sentences(span_text: str) -> bool:
    return _SENTENCE_BREAK.search(span_text) is not None


def names_a_time(question: str) -> bool:
    return _NAMED_TIME.search(question) is not None


def quoted(span: Span) -> tuple[str, int]:
    """The sentence(s) holding a span, and where the span starts in it."""
    text = span.hit.text
    quote, offset = sentence_around(text, span.start, span.end)
    return quote, span.start - offset - (len(text[offset:]) - len(text[offset:].lstrip()))


def agreeing(candidate: Candidate) -> list[Citation]:
    """The other stories that give the same answer (not the one quoted), strongest first, one per
    story however many of its passages name it."""
    seen = {candidate.best.story_key}
    citations = []
    for span in candidate.spans[1:]:
        if span.story_key in seen:
            continue
        seen.add(span.story_key)
        citations.append(Citation(span.hit.story, quoted(span)[0], span.hit.article_id))
    return citations


# Words that stand before a name without being part of it.
_TITLES = frozenset(
    """mr mrs ms miss dr sir dame lord lady president vice prime minister chancellor premier governor
    senator sen rep representative mayor councillor councilor judge justice king queen prince princess
    emperor empress pope general gen colonel col captain capt admiral lieutenant sergeant chief
    secretary professor prof coach striker defender midfielder goalkeeper manager chairman chairwoman
    ceo founder leader speaker ambassador commissioner director inspector detective officer""".split()
)


def _bare_name(text: str, start: int, end: int) -> int:
    """Where the name in a span starts, past leading lower-case words and titles ("Mayor Petra Holm",
    "the architect Noor Haddad"); `start` itself when the span is not such a name."""
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", text[start:end])]
    for index, (offset, word) in enumerate(words):
        bare = word.strip(".,").lower()
        if word[:1].islower() or bare in _TITLES:
            continue
        tail = words[index:]
        if index and all(w[:1].isupper() for _, w in tail):
            return start + offset
        return start
    return start


def _term_weights(question: str, hits: Sequence[Hit]) -> dict[str, float]:
    """The question's content words, each weighted by how rare it is among the passages read."""
    terms = set(content_terms(question))
    bags = [set(content_terms(f"{h.text}")) for h in hits]
    n = len(bags)
    return {t: math.log(1.0 + (n + 1) / (1 + sum(t in bag for bag in bags))) for t in terms}


def _overlap(weights: dict[str, float], sentence: str) -> float:
    total = sum(weights.values())
    if not total:
        return 0.0
    present = set(content_terms(sentence))
    return sum(w for t, w in weights.items() if t in present) / total


def quantize_attention(net):
    """Int8 matrix products in the attention layers only. Quantizing every linear layer read 2.4
    times as fast but cost 3.5 points of EM on held-out SQuAD (the feed-forward layers' inputs have
    outliers that one int8 scale per tensor flattens); the attention layers alone keep fp32's EM
    (52.0 against 52.2 on 600 questions) at 0.74 of its time."""
    import torch

    attention = {
        name for name, module in net.named_modules() if isinstance(module, torch.nn.Linear) and "attention" in name
    }
    return torch.ao.quantization.quantize_dynamic(net, qconfig_spec=attention, dtype=torch.qint8)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding punctuation or a possessive 's."""
    while start < end and text[start] in _EDGE_PUNCTUATION:
        start += 1
    while end > start and text[end - 1] in _EDGE_PUNCTUATION:
        end -= 1
    if text[start:end].endswith(("'s", "’s")) and end - start > 2:
        end -= 2
    return start, end


def _pool(spans: list[Span]) -> Reading:
    """Pools spans naming the same answer (log-sum-exp of their values), ranks the answers, and
    describes how far the strongest stands above the rest and above "no answer"."""
    groups: dict[str, list[Span]] = {}
    for span in spans:
        groups.setdefault(normalise(span.text) or span.text.lower(), []).append(span)
    candidates = [
        Candidate(key, sorted(group, key=lambda s: -s.value), _logsumexp([s.value for s in group]))
        for key, group in groups.items()
    ]
    candidates.sort(key=lambda c: -c.value)
    return Reading(candidates[0].best, _features(candidates[0], candidates[1:]), candidates)


def _features(candidate: Candidate, others: Sequence[Candidate]) -> dict[str, float]:
    """What the confidence of `candidate` as the answer is computed from, beside the `others`."""
    best = candidate.best
    runner_up = max((c.value for c in others), default=candidate.value - 10.0)
    share = math.exp(candidate.value - _logsumexp([candidate.value, *(c.value for c in others), 0.0]))
    return {
        "top": candidate.value,
        "single": best.value,
        "relevance": best.relevance,
        "margin": max(min(candidate.value - runner_up, 10.0), -10.0),
        "share": share,
        "support": float(len({s.hit.passage_id for s in candidate.spans})),
        "stories": float(len({s.story_key for s in candidate.spans})),
        "span": best.margin,
        "overlap": best.overlap,
        "echo": float(best.echo),
        # how search placed its passage: the cosine of the question and the passage, and its place
        "dense": best.hit.dense_score if best.hit.dense_score is not None else 0.0,
        "rank": math.log1p(best.hit.rank),
    }


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


class _HubNet:
    """A Hugging Face QA model behind the reader network's call shape (no passage head)."""

    def __init__(self, model) -> None:
        self.model = model
        self.accepts_types = "token_type_ids" in model.forward.__code__.co_varnames

    def eval(self):
        self.model.eval()
        return self

    def __call__(self, input_ids, attention_mask, token_type_ids):
        extra = {"token_type_ids": token_type_ids} if self.accepts_types else {}
        output = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra)
        return output.start_logits, output.end_logits, None


def _hub_model(name: str):
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name)
    return _HubNet(AutoModelForQuestionAnswering.from_pretrained(name)), tokenizer
