"""Answers scored as SQuAD scores them: lower case, punctuation and articles dropped; exact match
and word-overlap F1; and how often answers are right by confidence. Shared by the reader's
training, its calibration and the benchmarks."""

from __future__ import annotations

import collections
import re
import string


def normalise_answer(text: str) -> str:
    """SQuAD: lower-case, drop punctuation and articles, collapse white space."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def f1(prediction: str, gold: str) -> float:
    pred, ref = normalise_answer(prediction).split(), normalise_answer(gold).split()
    common = collections.Counter(pred) & collections.Counter(ref)
    same = sum(common.values())
    if not pred or not ref or same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains(text: str, gold: str) -> bool:
    norm = normalise_answer(gold)
    return bool(norm) and f" {norm} " in f" {normalise_answer(text)} "


def is_excluded(question: str) -> bool:
    """The protocol skips questions ending in "except ..." (they need the choices)."""
    return re.search(r"\bexcept\b[^?]*\??$", question.strip().lower()) is not None


def reliability(confidence, right) -> list[str]:
    """How often answers are right in each band of confidence (numpy arrays in)."""
    import numpy as np

    lines = []
    for low in np.arange(0.0, 1.0, 0.2):
        inside = (confidence >= low) & (confidence < low + 0.2 + (1e-9 if low >= 0.8 else 0))
        if inside.any():
            lines.append(
                f"  confidence {low:.1f}-{low + 0.2:.1f}: {inside.sum():4d} questions, "
                f"mean {confidence[inside].mean():.2f}, right {right[inside].mean():.2f}"
            )
    return lines
