"""An optional reader for users who can load a Hugging Face extractive-QA model (SQuAD-style
start/end heads); it plugs in where the offline candidate reader sits."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from index.errors import NewsbotError
from index.models import Answer, Hit
from index.reader import closest_stories

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


def sentence_around(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence of `text` holding [start, end), and its offset in `text`."""
    begin = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() <= start:
            begin = match.end()
        elif match.start() >= end:
            return text[begin : match.start() + 1].strip(), begin
    return text[begin:].strip(), begin


class TransformersReader:
    def __init__(
        self, model_name: str, threshold: float = 0.35, passages: int = 8, max_answer_tokens: int = 30
    ) -> None:
        self.model_name = model_name
        self.threshold = threshold
        self.passages = passages
        self.max_answer_tokens = max_answer_tokens
        self._model = None
        self._tokenizer = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        try:
            from transformers import AutoModelForQuestionAnswering, AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.model_name)
            self._model = AutoModelForQuestionAnswering.from_pretrained(self.model_name).eval()
        except Exception as exc:  # hub, file and format errors all land here
            raise NewsbotError(f"cannot load reader model {self.model_name!r} ({type(exc).__name__})") from exc

    def read(self, question: str, hits: Sequence[Hit]) -> Answer:
        import torch

        self.warm_up()
        hits = list(hits[: self.passages])
        closest = closest_stories(hits)
        if not hits:
            return Answer(question=question, text="", score=0.0, closest=closest)
        encoded = self._tokenizer(
            [question] * len(hits),
            [h.text for h in hits],
            truncation="only_second",
            max_length=384,
            padding=True,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = encoded.pop("offset_mapping")
        with torch.no_grad():
            output = self._model(
                **{k: v for k, v in encoded.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
            )
        best = (-math.inf, 0, 0, 0, 0.0)
        for row in range(len(hits)):
            context = [i == 1 for i in encoded.sequence_ids(row)]
            start_logits = output.start_logits[row]
            end_logits = output.end_logits[row]
            probs_start = torch.softmax(start_logits, -1)
            probs_end = torch.softmax(end_logits, -1)
            for s in torch.topk(start_logits, min(20, len(context))).indices.tolist():
                if not context[s]:
                    continue
                for e in torch.topk(end_logits, min(20, len(context))).indices.tolist():
                    if not context[e] or e < s or e - s >= self.max_answer_tokens:
                        continue
                    value = float(start_logits[s] + end_logits[e])
                    if value > best[0]:
                        best = (value, row, s, e, float(probs_start[s] * probs_end[e]))
        value, row, s, e, probability = best
        if value == -math.inf or probability < self.threshold:
            return Answer(
                question=question,
                text="",
                score=probability if value > -math.inf else 0.0,
                evidence=hits,
                closest=closest,
            )
        hit = hits[row]
        char_start, char_end = int(offsets[row][s][0]), int(offsets[row][e][1])
        quote, offset = sentence_around(hit.text, char_start, char_end)
        answer = hit.text[char_start:char_end]
        start_in_quote = quote.find(answer) if answer else -1
        return Answer(
            question=question,
            text=answer,
            score=probability,
            quote=quote,
            answer_start=start_in_quote,
            answer_end=start_in_quote + len(answer) if start_in_quote >= 0 else -1,
            story=hit.story,
            evidence=hits,
        )
