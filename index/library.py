"""The facade applications call: ingest, ask, search, latest, brief, poll, sources, following, reindex,
stats. Everything else is detail."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from index.config import LibraryConfig, SearchWeights
from index.dates import as_of_moment
from index.errors import NewsbotError, NothingIndexedError, Notice, StoreUnavailableError
from index.events import group_events, story_vector
from index.follows import Following, checked_topic
from index.intake import (
    Chunker,
    Fetcher,
    FetchError,
    Ingester,
    Poller,
    PollReport,
    Progress,
    check_url,
    near_duplicate,
    page_found,
    read_articles,
)
from index.models import Answer, Article, Citation, Event, Hit, IngestReport, Source, Story
from index.reader import ExtractiveReader, Reader
from index.retrieval import Embedder, HybridSearch, TopicMatcher
from index.store import open_store
from index.text import holds_credentials, site_name, without_surrogates

log = logging.getLogger(__name__)


MOST_LISTED = 1000  # stories or events one `latest` or `brief` lists
LONGEST_BRIEF_HOURS = 24 * 365 * 100  # a brief reaching further back reads everything anyway


class Library:
    """One news library over one data folder (or one PostgreSQL database). Thread-safe: many `ask`s
    may run while one write does; several processes may share the library."""

    def __init__(
        self,
        config: LibraryConfig,
        *,
        embedder: Embedder | None = None,
        reader: Reader | None = None,
        chunker: Chunker | None = None,
    ) -> None:
        """`embedder`, `reader` and `chunker` may be shared between libraries (they hold the models)."""
        self.config = config
        # The rooms: a database (SQLite files in data_dir, or PostgreSQL), the vector index at its
        # generation (FAISS files, or an in-memory replica), the articles, the polled sources.
        storage = open_store(config)
        self._db, self._vectors = storage.backend, storage.vectors
        self._articles, self._registry = storage.articles, storage.sources
        self._embedder = embedder or Embedder(config.embedding_model, batch_size=config.embed_batch_size)
        self._chunker = chunker or Chunker(config.passage_words)
        self._search = HybridSearch(
            self._articles,
            self._vectors,
            self._embedder,
            SearchWeights(recency=config.recency, recency_days=config.recency_days),
        )
        self._reader: Reader = reader or _make_reader(config)
        self._topics = TopicMatcher(self._articles, self._vectors, self._embedder)
        self._following = Following(storage.follows, self._articles, self._topics, config.max_follows_per_guild)
        self._ingester = Ingester(config, self._db, self._articles, self._embedder, self._chunker)
        self._warm = threading.Lock()
        self._poll_lock = threading.Lock()
        self._fetcher: Fetcher | None = None
        self._fetcher_made = threading.Lock()

    @property
    def location(self) -> str:
        """Where the library lives, fit to show an operator (a folder, a database URL without password)."""
        return self._db.location

    def has_news(self) -> bool:
        """Whether any passage is indexed yet."""
        return self._articles.has_passages()

    def close(self) -> None:
        """Let go of this thread's connection to the store."""
        self._db.close()

    @property
    def generation(self) -> int:
        """The store's last committed generation: it moves once per write that changed something."""
        return self._db.generation

    def warm_up(self) -> None:
        """Load the models now rather than on the first question: the embedder and the reader side
        by side (each spends part of its loading outside the interpreter's lock), the vector index
        meanwhile."""
        with self._warm, ThreadPoolExecutor(2, thread_name_prefix="newsbot-load") as loader:
            loads = [loader.submit(self._embedder.warm_up), loader.submit(self._reader.warm_up)]
            try:
                if self._articles.has_passages():
                    self._vectors.current()
            except StoreUnavailableError as exc:  # the database away for now: vectors load on first use
                log.warning("the vector index is not loaded yet: %s", exc)
            for load in loads:
                load.result()

    # -- writing -----------------------------------------------------------------------------

    def ingest(
        self, paths: Iterable[str | Path], progress: Progress | None = None, report: IngestReport | None = None
    ) -> IngestReport:
        """Read articles from files or folders and index them; by URL, so a rerun changes nothing."""
        report = report or IngestReport()
        articles = read_articles(paths, report.problems.append)
        return self.ingest_articles(articles, progress, report)

    def ingest_articles(
        self,
        articles: Iterable[Article],
        progress: Progress | None = None,
        report: IngestReport | None = None,
        fingerprints: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> IngestReport:
        """Index articles given in memory (a poll's entries, an application's own feed); a poll
        passes the `fingerprints` it made (url -> (text, MinHash)) so they are not made twice."""
        return self._ingester.ingest(articles, progress, report, fingerprints)

    def reindex(self, progress: Progress | None = None) -> int:
        """Re-embed every passage with the configured model (questions read the old vectors till then); how many."""
        return self._ingester.reindex(progress)

    # -- configured sources ----------------------------------------------------------------

    def add_source(
        self,
        location: str,
        name: str | None = None,
        interval_minutes: float | None = None,
        *,
        web_only: bool = False,
        resolve: bool = True,
    ) -> Source:
        """Remember a feed, an article URL, or a JSONL file or folder to ingest from (unnamed: a URL by its
        host until a poll reads its feed's title). `web_only` (chat commands): http(s) URLs only, a path would
        read files on the bot's machine. `resolve=False`: a host that does not resolve yet (fetches check it)."""
        location, name = location.strip(), (name or "").strip()
        if holds_credentials(name):  # a name is shown to everyone: in /latest, follow posts, /sources
            raise NewsbotError("a source's name is shown to everyone: give one without a password or key")
        if web_only and not location.lower().startswith(("http://", "https://")):
            raise NewsbotError(
                "only http(s) feed or article URLs can be added here; files and folders are added on "
                "the bot's machine with `newsbot sources add PATH`"
            )
        if interval_minutes is not None and interval_minutes <= 0:
            raise NewsbotError("the poll interval must be positive")
        if "://" in location:
            try:
                check_url(location, self.config.fetch_limits.allowed_hosts)
            except FetchError as exc:
                if resolve or not str(exc).startswith("cannot resolve"):
                    raise
            kind, default_name = "web", site_name(location)
        else:
            path = Path(location).expanduser()
            if not path.exists():
                raise NewsbotError(f"no such file or folder: {location}")
            location, kind, default_name = str(path.resolve()), "file", path.name
        self._db.ensure_writable()
        return self._registry.add(location, name or default_name, kind, interval_minutes)

    def probe_source(self, url: str) -> tuple[Notice, str]:
        """Read a web source once before it is added: what was found ("a feed of 12 entries", "an article: X")
        and a feed's title as its name; NewsbotError for a typo, a dead feed, a page that is neither."""
        url = url.strip()
        check_url(url, self.config.fetch_limits.allowed_hosts)
        return page_found(self._web().get(url), url, self.config.max_entries_per_poll)

    def remove_source(self, source_id: int) -> Source:
        return self._registry.remove(source_id)

    def sources(self) -> list[Source]:
        return self._registry.all()

    def source(self, source_id: int) -> Source:
        """One configured source, with its poll state; NewsbotError when there is none by that id."""
        return self._registry.get(source_id)

    def poll(
        self, *, only_due: bool = True, source_ids: list[int] | None = None, progress: Progress | None = None
    ) -> PollReport:
        """One pass over the sources (due, or all), then the retention cut; a broken source is counted, not raised."""
        with self._poll_lock:
            poller = Poller(
                self._registry,
                self._articles,
                self._web(),
                self.ingest_articles,
                interval_minutes=self.config.poll_interval_minutes,
                max_entries=self.config.max_entries_per_poll,
            )
            if source_ids is not None:
                sources = [s for s in self.sources() if s.id in source_ids]
            else:
                sources = poller.due() if only_due else self.sources()
            report = poller.poll(sources, progress, self.config.poll_budget_seconds)
            if self.config.retention_days is not None:
                report.removed = self.remove_old(self.config.retention_days)
        return report

    def remove_old(self, days: float) -> int:
        """Drop articles older than `days` (by publication date, else ingestion), atomically."""
        cutoff = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
        if not self._db.exists:
            return 0
        with self._db.writing():
            return self._articles.remove_older_than(cutoff)

    def remove(self, references: Sequence[str]) -> tuple[list[tuple[int, Story]], list[str]]:
        """Take articles out by URL or id, atomically: ((id, story) removed, the references naming none)."""
        with self._db.writing():
            return self._articles.remove(references)

    def _web(self) -> Fetcher:
        """The one fetcher, made once however many threads ask (OPML checks); its backoff is shared by every poll."""
        with self._fetcher_made:
            self._fetcher = self._fetcher or Fetcher(self.config.fetch_limits)
        return self._fetcher

    # -- follows and events: new stories about a topic for a channel, the day's top events --------

    @property
    def following(self) -> Following:
        """The follows: `add`, `remove`, `all`, `pause`, `resume`; and for the application that posts
        them, each follow's new stories (`news_of`), the earlier post of a story's event
        (`earlier_post`) and what was posted or passed over (`posted`, `dealt_with`). At most
        `max_follows_per_guild` follows a guild."""
        return self._following

    def brief(self, hours: float = 24.0, topic: str | None = None, count: int = 10) -> list[Event]:
        """The top events of the last `hours`: stories grouped by event, ranked by how many sources
        carry each, then by recency; with a `topic`, only events a follow of it would be shown."""
        if not math.isfinite(hours) or hours <= 0 or count < 1:
            raise NewsbotError("the hours and the number of events must be positive numbers")
        if count > MOST_LISTED:
            raise NewsbotError(f"at most {MOST_LISTED:,} events at a time")
        since = (datetime.now(UTC) - timedelta(hours=min(hours, LONGEST_BRIEF_HOURS))).isoformat(timespec="seconds")
        stories = self._articles.headlines_since(since, limit=2000)
        passages = self._articles.passage_vectors([h.article_id for h in stories])
        events = group_events(stories, {i: story_vector(v) for i, v in passages.items()})
        if topic := checked_topic(topic):
            matching = self._topics.about(topic, stories, passages)
            events = [e for e in events if any(h.article_id in matching for h in e.stories)]
        events.sort(key=lambda e: e.newest, reverse=True)
        events.sort(key=lambda e: -e.sources)  # stable: the newest first among as many sources
        return events[:count]

    # -- reading -----------------------------------------------------------------------------

    def ask(self, question: str, as_of: str | date | datetime | None = None) -> Answer:
        """The answer to one question; `as_of` (a date, or a datetime) answers as the library would
        have then: recency counted from that moment, stories published after it left out."""
        question = self.check_question(question)
        moment = as_of_moment(as_of)
        answer = self._reader.answer(question, self.search(question, as_of=moment))
        return replace(
            answer,
            agreeing=self._distinct_stories(answer),
            as_of=moment.isoformat(timespec="seconds") if moment else None,
        )

    def search(self, question: str, k: int | None = None, as_of: str | date | datetime | None = None) -> list[Hit]:
        """The passages `ask` reads, best first (`k`: how many; default `top_k`), as the library
        would have found them at `as_of`."""
        question = self.check_question(question)
        self.check_ready()
        return self._search.search(question, k or self.config.top_k, as_of=as_of_moment(as_of))

    def _distinct_stories(self, answer: Answer) -> list[Citation]:
        """The agreeing stories less copies: a story re-published under another URL (the same
        near-duplicate test the poller applies to new entries) counts once."""
        if not answer.agreeing or answer.story is None:
            return answer.agreeing
        quoted = next((h.article_id for h in answer.evidence if h.story.url == answer.story.url), None)
        ids = [c.article_id for c in answer.agreeing if c.article_id is not None]
        prints = self._articles.fingerprints_of([*ids, *([quoted] if quoted is not None else [])])
        kept: list[tuple[int, bytes]] = [(quoted, prints[quoted])] if quoted in prints else []
        stories = []
        for citation in answer.agreeing:
            value = prints.get(citation.article_id or -1)  # -1: no article (ids start at 1)
            if value is not None:
                if near_duplicate(value, kept) is not None:
                    continue
                kept.append((citation.article_id or -1, value))
            stories.append(citation)
        return stories

    def check_question(self, question: str) -> str:
        question = " ".join(without_surrogates(question or "").split())
        if not question:
            raise NewsbotError("the question is empty")
        if len(question) > self.config.max_question_chars:
            raise NewsbotError(
                f"the question is too long ({len(question):,} characters; at most {self.config.max_question_chars:,})"
            )
        return question

    def check_ready(self) -> None:
        if not self._articles.has_passages():
            raise NothingIndexedError(self._db.location)
        self._articles.check_model(self._embedder.model_name)

    def latest(self, count: int = 10, topic: str | None = None) -> list[Story]:
        """The newest stories; with a `topic`, those about it (as a follow of it would be shown)."""
        if count < 1:
            raise NewsbotError("the number of stories must be at least 1")
        if count > MOST_LISTED:
            raise NewsbotError(f"at most {MOST_LISTED:,} stories at a time")
        topic = checked_topic(topic)
        if not topic:
            return self._articles.latest(count)
        return self._articles.latest(count, self._topics.stories_about(topic))

    def stats(self) -> dict:
        stats = self._articles.stats()
        stats["configured_model"] = self._embedder.model_name
        # Which FAISS index serves questions: exact, or IVF-SQ8 past IndexPolicy.exact_below.
        index = self._vectors.current() if self._articles.has_passages() else None
        stats["vector_index"] = index.kind if index is not None else "exact"
        stats["vectors"] = len(index) if index is not None else 0  # what questions search now
        sources = self.sources()
        stats["sources"] = len(sources)
        stats["failing_sources"] = sum(1 for s in sources if s.failing)
        stats["data_dir"] = self._db.location
        return stats


def _make_reader(config: LibraryConfig) -> Reader:
    return ExtractiveReader(
        config.reader_model or None,
        threshold=config.answer_threshold,
        passages=config.reader_passages,
        bfloat16=config.reader_bfloat16,
    )
