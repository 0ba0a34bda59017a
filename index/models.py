"""The vocabulary of the project: articles, their passages, search hits and answers, and the rows
an application reads back from the library (sources, follows, events)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from index.errors import Notice
from index.text import hide_credentials


@dataclass(frozen=True)
class Article:
    """One news story as a source delivers it."""

    url: str
    text: str
    title: str = ""
    published: str | None = None  # ISO-8601 date, or datetime with the offset it was published with
    source: str = ""
    author: str = ""
    summary_only: bool = False  # the page could not be read; `text` is the feed's summary
    image: str | None = None  # an https URL of its picture, as the feed or page named it (never fetched)
    source_id: int | None = None  # the configured source that brought it (none for files ingested by hand)


@dataclass(frozen=True)
class Passage:
    """A run of whole sentences from one article; `start`/`end` are offsets in the article text."""

    text: str
    start: int
    end: int
    ordinal: int


@dataclass(frozen=True)
class Story:
    """An article as the reader of a list of stories sees it: no body text."""

    title: str
    url: str
    published: str | None
    source: str
    image: str | None = None  # an https URL Discord shows; None for a story without one

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "url": self.url,
            "published": self.published,
            "source": self.source,
            "image": self.image,
        }


@dataclass(frozen=True)
class Headline:
    """A story as a post or a line of a brief shows it: its headline, source and date, and lead."""

    article_id: int
    story: Story
    lead: str  # its first sentence or so
    source_id: int | None = None  # the configured source that brought it


@dataclass(frozen=True)
class Hit:
    """A passage returned by search, with its story and how it ranked."""

    passage_id: int
    text: str
    story: Story
    score: float  # fused retrieval score, higher is better
    rank: int  # 0-based position in the fused ranking
    dense_score: float | None = None  # cosine similarity, when dense search found it
    lexical_rank: int | None = None  # position in the BM25 ranking, when lexical search found it
    article_id: int | None = None  # the story's row in the store, when it came from one


@dataclass(frozen=True)
class Citation:
    """Another story that says the same: its sentence that names the answer."""

    story: Story
    quote: str
    article_id: int | None = field(default=None, compare=False)

    def as_dict(self) -> dict:
        return {**self.story.as_dict(), "quote": self.quote}


@dataclass(frozen=True)
class Proposal:
    """An answer the reader is not sure of, offered as such: its words, the sentence that says so
    (`answer_start`/`answer_end` locate the words in it), its story, and the confidence it would
    have as the answer."""

    text: str
    score: float
    quote: str
    answer_start: int
    answer_end: int
    story: Story

    def as_dict(self) -> dict:
        return {"answer": self.text, "score": round(self.score, 4), "quote": self.quote, **self.story.as_dict()}


@dataclass(frozen=True)
class Answer:
    """What the reader concludes. An empty `text` is an abstention: either nothing read answers
    the question, or (`candidates` not empty) the reader is not sure enough of what it found.

    `quote` is the article's own sentence(s); `answer_start`/`answer_end` locate `text` in it;
    `agreeing` are the other stories that give the same answer.
    """

    question: str
    text: str
    score: float  # calibrated confidence in 0..1
    quote: str = ""
    answer_start: int = -1
    answer_end: int = -1
    story: Story | None = None
    evidence: list[Hit] = field(default_factory=list)
    closest: list[Story] = field(default_factory=list)
    agreeing: list[Citation] = field(default_factory=list)
    candidates: list[Proposal] = field(default_factory=list)  # only when abstaining
    as_of: str | None = None  # the moment the question was answered as of, when not now

    @property
    def abstained(self) -> bool:
        return not self.text

    def as_dict(self) -> dict:
        story = self.story
        return {
            "question": self.question,
            "answer": self.text,
            "score": round(self.score, 4),
            "quote": self.quote,
            "answer_start": self.answer_start,
            "answer_end": self.answer_end,
            "title": story.title if story else None,
            "url": story.url if story else None,
            "published": story.published if story else None,
            "source": story.source if story else None,
            "image": story.image if story else None,
            "agreeing": [c.as_dict() for c in self.agreeing],
            "candidates": [c.as_dict() for c in self.candidates],
            "closest": [s.as_dict() for s in self.closest],
            "as_of": self.as_of,
        }


@dataclass
class IngestReport:
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    passages: int = 0
    problems: list[str] = field(default_factory=list)  # input that could not be read: skipped
    warnings: list[Notice] = field(default_factory=list)  # input read, but not all of it (an article cut short)
    # seconds per stage: split (sentences), embed, sqlite (rows + FTS), vectors (FAISS update + save)
    seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


@dataclass(frozen=True)
class Event:
    """One happening and the stories that report it, the clearest first (the story nearest the
    event's centre)."""

    stories: list[Headline]

    @property
    def headline(self) -> Headline:
        return self.stories[0]

    @property
    def sources(self) -> int:
        return len({item.story.source or item.story.url for item in self.stories})

    @property
    def newest(self) -> str:
        return max(item.story.published or "" for item in self.stories)


@dataclass(frozen=True)
class Source:
    """A place the library ingests news from, as configured by an admin, and how its polls go."""

    id: int
    location: str
    name: str
    kind: str = "file"  # "file" (JSONL or folder) or "web" (a feed or one article URL: told apart when read)
    interval_minutes: float | None = None  # None: the default poll interval
    last_polled_at: str | None = None
    last_error: str | None = None
    failures: int = 0  # consecutive failed polls
    next_poll_at: float = 0.0  # Unix time
    etag: str | None = None
    last_modified: str | None = None

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def shown(self) -> Source:
        """The source as it may be shown to anyone: credentials in its URL and last error masked."""
        return replace(
            self,
            location=hide_credentials(self.location),
            last_error=hide_credentials(self.last_error) if self.last_error else self.last_error,
        )


@dataclass(frozen=True)
class Follow:
    """A channel of a guild that receives the new stories about a topic, of a source, or both."""

    id: int
    guild_id: int
    channel_id: int
    topic: str
    created_by: int
    created_at: str
    cursor: int  # the newest article id dealt with
    last_delivery_at: str | None = None
    paused: str | None = None  # why delivery stopped (a deleted channel, a lost permission); None = delivering
    source_id: int | None = None  # a follow of a source: its stories (those about `topic`, unless "")
    source_name: str | None = None  # that source's name; None once the source is removed

    @property
    def subject(self) -> str:
        """What it follows, in words: its topic, its source, or the topic in its source."""
        if self.source_id is None:
            return self.topic
        source = self.source_name or f"source {self.source_id} (removed)"
        return f"{self.topic} in {source}" if self.topic else f"everything from {source}"
