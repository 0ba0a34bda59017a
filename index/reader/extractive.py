"""Extractive reading: the network reads each of the top passages, scores it and points at
the answer span inside it; the answer's sentence is the quote, and a calibrated confidence
decides between answering and abstaining.

The default network is the one this project trains (`training/reader.py`, weights in
`index/weights/`); `model` may instead name any Hugging Face extractive-QA model (start/end
heads, no passage head) for users who can reach the hub.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from index.config import READ_PASSAGES, READER_BFLOAT16
from index.dates import published_moment
from index.errors import NewsbotError
from index.models import Answer, Hit, Proposal
from index.reader.calibration import TITLE_READ, WEIGHTS_FILE, Calibration
from index.reader.spans import (
    MAX_ANSWER_TOKENS,
    SPANS_PER_WINDOW,
    WORDS,
    Candidate,
    Reading,
    Span,
    SpanPrior,
    agreeing,
    bare_name,
    closest_stories,
    crosses_sentences,
    features,
    names_a_time,
    overlap_share,
    pool,
    quoted,
    sentence_around,
    term_weights,
    trim,
)
from index.text import content_terms

__all__ = ["Calibration", "Candidate", "ExtractiveReader", "Reader", "Reading", "Span", "SpanPrior"]

log = logging.getLogger(__name__)

CANDIDATES = 3  # unconfirmed answers offered when the reader is unsure


class Reader(Protocol):
    """Anything that turns a question and its search hits into an Answer."""

    def warm_up(self) -> None: ...

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer: ...


class ExtractiveReader:
    """Reads the top `passages` hits and answers from them, or abstains.

    Two public ways in: `answer(question, hits)` gives the reply; `reading(question, hits)` shows
    what the reply is made from (every proposed answer, valued and pooled, and the features of the
    best; `propose` and `weigh` are its two halves, for benchmarks that re-weigh cached readings).
    """

    def __init__(
        self,
        model: str | None = None,
        threshold: float | None = None,
        passages: int = READ_PASSAGES,
        *,
        calibration: Calibration | None = None,
        prior: SpanPrior | None = None,
        quantize: bool = True,
        bfloat16: bool = READER_BFLOAT16,
        max_answer_tokens: int = MAX_ANSWER_TOKENS,
        weights: Path = WEIGHTS_FILE,
        network: tuple[Any, Any] | None = None,
        headline_chars: int | None = None,
    ) -> None:
        """`model`: None reads with the bundled network (`weights`); a Hugging Face extractive-QA
        model name or folder reads with that one (the hub must be reachable for a name).

        `calibration`: None loads the calibration shipped beside the bundled weights
        (`index/weights/reader.json`) for the bundled network, and the neutral `Calibration()` for a
        named model (the shipped one was fitted on the bundled network's scores, not another's).
        `threshold`: None takes the calibration's; `prior`: None the calibration's span prior (for
        a named model, none).

        `quantize`: int8 attention layers (as shipped and calibrated); with `bfloat16`, the
        feed-forward layers in bfloat16 where the CPU has bfloat16 instructions
        (`network.as_shipped`). Each window is read alone,
        unpadded: with int8 layers a batch changes how each passage is read (`network.run_windows`).
        `network`: an already loaded (network, tokenizer), as another reader's `network` gives it.
        `headline_chars`: how much of each story's headline is read before its passage; None takes
        the calibration's."""
        self.model = model
        self.weights = weights
        self.passages = passages
        self.max_answer_tokens = max_answer_tokens
        self.quantize = quantize
        self.bfloat16 = bfloat16
        if calibration is None:
            calibration = Calibration.load() if model is None else Calibration()
        self.calibration = calibration
        self.threshold = calibration.threshold if threshold is None else threshold
        if prior is None:
            prior = calibration.prior if model is None else SpanPrior()
        self.prior = prior
        self.headline_chars = calibration.headline_chars if headline_chars is None else headline_chars
        # The network and its tokenizer: loaded on first use, or another reader's (`network`).
        loaded: tuple[Any, Any] = network if network is not None else (None, None)
        self._net, self._tokenizer = loaded
        self._lock = threading.Lock()

    @property
    def network(self) -> tuple[Any, Any]:
        """The loaded network and its tokenizer (loading them now if need be): another reader given
        them as `network` reads with the same weights without loading them again."""
        self.warm_up()
        return self._net, self._tokenizer

    def warm_up(self) -> None:
        with self._lock:
            if self._net is not None:
                return
            from index.reader.network import HubNet, as_shipped, hub_model, load_net  # torch: loaded here

            try:
                if self.model is None:
                    net, tokenizer = load_net(self.weights)
                else:
                    net, tokenizer = hub_model(self.model)
            except Exception as exc:  # missing files, hub errors and format errors all land here
                name = self.model or "the bundled reader"
                raise NewsbotError(f"cannot load reader model {name!r} ({type(exc).__name__}: {exc})") from exc
            if self.quantize:
                with warnings.catch_warnings():  # torch announces a future API change on every call
                    warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
                    if isinstance(net, HubNet):
                        net.model = as_shipped(net.model, self.bfloat16)
                    else:
                        net = as_shipped(net, self.bfloat16)
            self._net, self._tokenizer = net.eval(), tokenizer

    def answer(self, question: str, hits: Sequence[Hit], reading: Reading | None = None) -> Answer:
        """The reply to `question` from `hits` (given `reading`, from that reading of them): the best
        span, its sentence and the other stories that agree; or, below the threshold, an abstention
        with up to CANDIDATES unconfirmed answers."""
        if reading is None:
            reading = self.reading(question, hits)
        closest = closest_stories(hits, reading.candidates)
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
            score = self.calibration.confidence(
                features(candidate, [c for i, c in enumerate(reading.candidates) if i != rank])
            )
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
        """What the answer is made from: every span the network proposes in the top hits, valued by
        the prior and pooled by answer, strongest first, with the features of the best."""
        return self.weigh(question, self.propose(question, hits))

    def propose(self, question: str, hits: Sequence[Hit]) -> list[Span]:
        """Every span the network proposes in the top hits, with what the prior weighs (its value
        not yet set)."""
        import torch

        from index.reader.network import best_spans, encode, run_windows  # torch: loaded on first use

        hits = list(hits[: self.passages])
        if not hits:
            return []
        if self._net is None:
            self.warm_up()
        # The headline (as much as the calibration says) goes before every passage; one stored before
        # headlines were capped at ingest must not make every question crawl.
        read = min(self.headline_chars, TITLE_READ)
        windows = encode(self._tokenizer, question, [(h.story.title[:read], h.text) for h in hits])
        with torch.inference_mode():
            start, end, relevance = run_windows(self._net, windows, one_by_one=True)
        weights = term_weights(question, hits)
        asked = set(content_terms(question)) | {w.lower() for w in WORDS.findall(question)}
        spans: list[Span] = []
        for row in range(len(windows.passage)):
            hit = hits[windows.passage[row]]
            rel = float(relevance[row]) if relevance is not None else 0.0
            null = float(start[row, 0] + end[row, 0])
            for guess in best_spans(start, end, windows, row, top=SPANS_PER_WINDOW, max_tokens=self.max_answer_tokens):
                a, b = trim(hit.text, guess.start, guess.end)
                if b > a and "\n" not in hit.text[a:b]:  # an answer never runs across paragraphs
                    sentence = sentence_around(hit.text, a, b)[0]
                    words = {w.lower() for w in WORDS.findall(hit.text[a:b])}
                    spans.append(
                        Span(
                            hit,
                            a,
                            b,
                            0.0,
                            rel,
                            margin=guess.score - null,
                            overlap=overlap_share(weights, sentence),
                            echo=bool(words) and words <= asked,
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
            start = bare_name(span.hit.text, span.start, span.end) if prior.bare_names else span.start
            extra_words = max(0, len(span.hit.text[start : span.end].split()) - prior.free_words)
            value = (
                span.relevance
                + span.margin
                - prior.long_answer * extra_words
                + prior.overlap * span.overlap
                - prior.echo * span.echo
            )
            valued.append(replace(span, start=start, value=value))
        if stale and valued:
            valued = staled(valued, stale, prior.stale_weeks)
        return pool(valued) if valued else Reading(None, {})


def staled(spans: list[Span], per_week: float, most_weeks: float) -> list[Span]:
    """Spans less `per_week` for every week (up to `most_weeks`) their story is older than the newest
    story that competes for the answer: one that holds a span the network rates above "no answer"
    in its passage and worth at least the best span less the most staleness can take (so that the
    prior could change which answer wins). When the news changed, the latest report wins; a newer
    story with nothing to say on the question (a volcano story among the readings of a vote)
    counts against nothing."""
    top = max(span.value for span in spans)
    floor = top - per_week * most_weeks
    moments = {span.story_key: published_moment(span.hit.story.published) for span in spans}
    competing = [m for s in spans if s.margin > 0 and s.value >= floor and (m := moments[s.story_key]) is not None]
    newest = max(competing, default=None)
    if newest is None:
        return spans
    out = []
    for span in spans:
        moment = moments[span.story_key]
        weeks = max(0.0, (newest - moment).total_seconds() / 604800) if moment else 0.0
        out.append(replace(span, value=span.value - per_week * min(weeks, most_weeks)) if weeks else span)
    return out
