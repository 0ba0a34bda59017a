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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from index.errors import NewsbotError
from index.models import Answer, Hit, Story

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
class Calibration:
    """A logistic model from a reading's features to the chance its answer is right, and the
    confidence below which the reader abstains. Fitted by `benchmarks/calibrate_reader.py`."""

    bias: float = 0.0
    weights: dict[str, float] = field(default_factory=lambda: {"top": 1.0})
    threshold: float = 0.5

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["bias"], dict(data["weights"]), data["threshold"])

    def confidence(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


@dataclass
class Span:
    """One answer the network proposes: where it lies and how strongly it is backed."""

    hit: Hit
    start: int
    end: int
    value: float  # passage relevance + the span's margin over "no answer" in that passage
    relevance: float

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]


@dataclass
class Reading:
    """Everything the reader concluded before the threshold: the best span and the features the
    confidence is computed from (also what calibration is fitted on)."""

    best: Span | None
    features: dict[str, float]


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
    ) -> None:
        self.model = model
        self.weights = weights
        self.passages = passages
        self.max_answer_tokens = max_answer_tokens
        self.quantize = quantize
        self.calibration = calibration or (Calibration.load() if model is None else Calibration())
        self.threshold = self.calibration.threshold if threshold is None else threshold
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
        """The reply a reading gives: the best span and its sentence, or an abstention."""
        closest = closest_stories(hits)
        confidence = self.calibration.confidence(reading.features) if reading.best else 0.0
        best = reading.best
        if best is None or confidence < self.threshold:
            return Answer(question=question, text="", score=confidence, evidence=list(hits), closest=closest)
        quote, offset = sentence_around(best.hit.text, best.start, best.end)
        start = best.start - offset - (len(best.hit.text[offset:]) - len(best.hit.text[offset:].lstrip()))
        return Answer(
            question=question,
            text=best.text,
            score=confidence,
            quote=quote,
            answer_start=start,
            answer_end=start + len(best.text),
            story=best.hit.story,
            evidence=list(hits),
        )

    def reading(self, question: str, hits: Sequence[Hit]) -> Reading:
        """The network's view of the top hits: every proposed span, pooled by answer."""
        import torch

        from index.reader_model import best_spans, encode, run_windows

        hits = list(hits[: self.passages])
        if not hits:
            return Reading(None, {})
        if self._net is None:
            self.warm_up()
        windows = encode(self._tokenizer, question, [(h.story.title, h.text) for h in hits])
        with torch.inference_mode():
            start, end, relevance = run_windows(self._net, windows, one_by_one=self.quantize)
        spans: list[Span] = []
        for row in range(len(windows.passage)):
            hit = hits[windows.passage[row]]
            rel = float(relevance[row]) if relevance is not None else 0.0
            null = float(start[row, 0] + end[row, 0])
            for guess in best_spans(start, end, windows, row, top=5, max_tokens=self.max_answer_tokens):
                a, b = _trim(hit.text, guess.start, guess.end)
                if b > a and "\n" not in hit.text[a:b]:  # an answer never runs across paragraphs
                    extra_words = max(0, len(hit.text[a:b].split()) - FREE_ANSWER_WORDS)
                    value = rel + guess.score - null - LONG_ANSWER_PENALTY * extra_words
                    spans.append(Span(hit, a, b, value, rel))
        if not spans:
            return Reading(None, {})
        return _pool(spans)


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
    """Pools spans naming the same answer (log-sum-exp of their values), picks the strongest
    answer, and describes how far it stands above the rest and above "no answer"."""
    groups: dict[str, list[Span]] = {}
    for span in spans:
        groups.setdefault(normalise(span.text) or span.text.lower(), []).append(span)
    pooled = {key: _logsumexp([s.value for s in group]) for key, group in groups.items()}
    ranked = sorted(pooled.items(), key=lambda item: -item[1])
    key, top = ranked[0]
    best = max(groups[key], key=lambda s: s.value)
    runner_up = ranked[1][1] if len(ranked) > 1 else top - 10.0
    share = math.exp(top - _logsumexp([*pooled.values(), 0.0]))  # "no answer" stands at 0
    features = {
        "top": top,
        "single": best.value,
        "relevance": best.relevance,
        "margin": min(top - runner_up, 10.0),
        "share": share,
        "support": float(len({s.hit.passage_id for s in groups[key]})),
    }
    return Reading(best, features)


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
