"""Events: the stories that report one happening (several outlets, rewrites, updates), grouped so a
channel gets one post per event and a brief one line per event.

Two stories report the same event when the cosine of their vectors (the mean of a story's passage
vectors) is at least EVENT_SIMILARITY and they appeared within EVENT_HOURS of each other; an
event is a chain of such pairs. `benchmarks/events.py` on 6 weeks of 2024 (two stories linked from
the same quiz question as the same event, 125k pairs): precision / recall of "same event" 0.81 /
0.28 at 0.60, 0.86 / 0.23 at 0.65, 0.88 / 0.17 at 0.70; the first passage alone (headline and
lead) did worse at each precision (0.87 / 0.18 at 0.60). 0.65: two events merged hide one of
them, two posts of one event only repeat it. The labels are broad (a question's articles cover its
subject, not always its one event), so recall is understated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.models import Event, Headline

EVENT_SIMILARITY = 0.65
EVENT_HOURS = 48


def story_vector(passages: np.ndarray) -> np.ndarray:
    """A story's vector: the mean of its passages' vectors, at unit length."""
    mean = passages.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else mean


def same_event(a: np.ndarray, b: np.ndarray) -> bool:
    return float(a @ b) >= EVENT_SIMILARITY


def group_events(stories: Sequence[Headline], vectors: dict[int, np.ndarray]) -> list[Event]:
    """`stories` (all within EVENT_HOURS of each other, or the caller's window) grouped into events:
    chains of same-event pairs. Stories without vectors stand alone."""
    parent = list(range(len(stories)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    known = [i for i, item in enumerate(stories) if item.article_id in vectors]
    if known:
        matrix = np.vstack([vectors[stories[i].article_id] for i in known])
        close = matrix @ matrix.T >= EVENT_SIMILARITY
        for x, y in zip(*np.nonzero(np.triu(close, k=1)), strict=True):
            parent[root(known[x])] = root(known[y])
    groups: dict[int, list[int]] = {}
    for i in range(len(stories)):
        groups.setdefault(root(i), []).append(i)
    events = []
    for members in groups.values():
        with_vectors = [i for i in members if stories[i].article_id in vectors]
        if len(with_vectors) > 1:
            centre = story_vector(np.vstack([vectors[stories[i].article_id] for i in with_vectors]))
            members.sort(key=lambda i: -float(vectors[stories[i].article_id] @ centre) if i in with_vectors else 1.0)
        events.append(Event([stories[i] for i in members]))
    return events
