"""What the reader makes of the network's proposals: answer spans, valued by a prior, pooled by the
answer they name, and the features a calibrated confidence is computed from; and the text helpers
that find a span's sentence, trim it and tell whether it crosses sentences."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from index.models import Citation, Hit, Story
from index.text import content_terms

# How long an answer may be, and how many the network proposes in each window it reads.
MAX_ANSWER_TOKENS = 16
SPANS_PER_WINDOW = 5
# A sentence ends at . ! or ? and the space after it, but not after a.m./p.m. or a title ("11:42 a.m. ET",
# "Mr. Noda"): a quote must not begin with the tail of a dateline.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\b[ap]\.m\.)(?<!\b(?:Mr|Ms|Dr|St|Jr|Sr)\.)(?<!\bMrs\.)[\"'”’)\]]*\s+")
_EDGE_PUNCTUATION = " \t\n\"'“”‘’()[]{},.;:!?—–-"
_NORMALISE = re.compile(r"[^\w\s]")
# A span-length prior: a span's value loses LONG_ANSWER_PENALTY for every word past the first
# FREE_ANSWERWORDS. News answers are names, places, numbers and dates; the network alone sometimes
# prefers a whole clause ("Minoru Kihara said Trump is also expected to meet ..."). Fitted on the
# held-out 2024 weeks (benchmarks/realtimeqa.py --year 2024 --weeks 6): F1 +0.6 at equal EM, flat
# from 0.25 to 1.0.
FREE_ANSWER_WORDS = 3
LONG_ANSWER_PENALTY = 0.5


def normalise(text: str) -> str:
    """The key under which spellings of one answer are pooled: case, punctuation, articles, 's."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"'s\b", "", text)
    text = _NORMALISE.sub(" ", text)
    return " ".join(w for w in text.split() if w not in ("the", "a", "an"))


def sentence_around(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence(s) of `text` holding [start, end), and their offset in `text`. A sentence never
    runs across a line break: a dateline or byline on a line of its own is not part of the quote."""
    begin = text.rfind("\n", 0, start) + 1
    stop = text.find("\n", end)
    stop = len(text) if stop < 0 else stop
    for match in _SENTENCE_END.finditer(text, begin, stop):
        if match.end() <= start:
            begin = match.end()
        elif match.start() >= end:
            return text[begin : match.start() + 1].strip(), begin
    return text[begin:stop].strip(), begin


def closest_stories(hits: Sequence[Hit], candidates: Sequence = (), count: int = 3) -> list[Story]:
    """The stories an abstention points to: first those the reader valued most (the story of each
    candidate answer's spans, strongest span first), then the rest in search order."""
    valued = sorted((span for candidate in candidates for span in candidate.spans), key=lambda span: -span.value)
    stories: dict[str, Story] = {}
    for story in [span.hit.story for span in valued] + [hit.story for hit in hits]:
        stories.setdefault(story.url, story)
        if len(stories) == count:
            break
    return list(stories.values())


@dataclass(frozen=True)
class SpanPrior:
    """What a proposed span is worth beyond the network's own scores (its passage's relevance and
    the span's margin over "no answer" there). Chosen on data the product never reports on: the
    held-out 2024 news weeks and the calibration half of SQuAD's held-out titles
    (`python -m training.tune`)."""

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
    # Loses `staleness` for every week its story is older than the newest story that competes for
    # the answer (`extractive.staled`), up to `stale_weeks`: when the news changed, the latest report
    # wins, unless the question names a time.
    staleness: float = 0.0
    stale_weeks: float = 4.0
    # "Mayor Petra Holm", "the architect Noor Haddad" -> the name alone.
    bare_names: bool = False


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


WORDS = re.compile(r"\w+")
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


def bare_name(text: str, start: int, end: int) -> int:
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


def term_weights(question: str, hits: Sequence[Hit]) -> dict[str, float]:
    """The question's content words, each weighted by how rare it is among the passages read."""
    terms = set(content_terms(question))
    bags = [set(content_terms(f"{h.text}")) for h in hits]
    n = len(bags)
    return {t: math.log(1.0 + (n + 1) / (1 + sum(t in bag for bag in bags))) for t in terms}


def overlap_share(weights: dict[str, float], sentence: str) -> float:
    total = sum(weights.values())
    if not total:
        return 0.0
    present = set(content_terms(sentence))
    return sum(w for t, w in weights.items() if t in present) / total


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding punctuation or a possessive 's."""
    while start < end and text[start] in _EDGE_PUNCTUATION:
        start += 1
    while end > start and text[end - 1] in _EDGE_PUNCTUATION:
        end -= 1
    if text[start:end].endswith(("'s", "’s")) and end - start > 2:
        end -= 2
    return start, end


def pool(spans: list[Span]) -> Reading:
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
    return Reading(candidates[0].best, features(candidates[0], candidates[1:]), candidates)


def features(candidate: Candidate, others: Sequence[Candidate]) -> dict[str, float]:
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
