"""The facade applications call: ingest, ask, latest, reindex, stats. Everything else is detail."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from index.articles import ArticleStore
from index.chunk import Chunker
from index.config import LibraryConfig
from index.dates import as_of_moment
from index.dedup import near_duplicate
from index.embed import Embedder
from index.errors import NewsbotError, NothingIndexedError, StoreUnavailableError
from index.events import Event, group_events, story_vector
from index.fetch import Fetcher, FetchError, check_url
from index.follows import Follow, Following
from index.ingest import Ingester, Progress
from index.models import Answer, Article, Citation, Headline, IngestReport, Story
from index.poller import Poller, PollReport, read_page
from index.reader import ExtractiveReader, Reader
from index.registry import Source, SourceRegistry
from index.search import HybridSearch, SearchWeights
from index.sources import read_articles
from index.store import open_store
from index.text import without_surrogates
from index.topics import TopicMatcher

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
        self.db, self.vectors = open_store(config)
        self.articles = ArticleStore(self.db, self.vectors)
        self.registry = SourceRegistry(self.db)
        self.embedder = embedder or Embedder(config.embedding_model, batch_size=config.embed_batch_size)
        self.chunker = chunker or Chunker(config.passage_words)
        self.search = HybridSearch(
            self.articles,
            self.vectors,
            self.embedder,
            SearchWeights(recency=config.recency, recency_days=config.recency_days),
        )
        self.reader: Reader = reader or _make_reader(config)
        self.topics = TopicMatcher(self.articles, self.vectors, self.embedder)
        self.following = Following(self.db, self.articles, self.topics, config.max_follows_per_guild)
        self.ingester = Ingester(config, self.db, self.articles, self.embedder, self.chunker)
        self._warm = threading.Lock()
        self._poll_lock = threading.Lock()
        self._fetcher: Fetcher | None = None

    @property
    def location(self) -> str:
        """Where the library lives, fit to show an operator (a folder, or a database URL without its
        password)."""
        return self.db.location

    def has_news(self) -> bool:
        """Whether any passage is indexed yet."""
        return self.articles.has_passages()

    def warm_up(self) -> None:
        """Load the models now rather than on the first question: the embedder and the reader side
        by side (each spends part of its loading outside the interpreter's lock), the vector index
        meanwhile."""
        with self._warm, ThreadPoolExecutor(2, thread_name_prefix="newsbot-load") as loader:
            loads = [loader.submit(self.embedder.warm_up), loader.submit(self.reader.warm_up)]
            try:
                if self.articles.has_passages():
                    self.vectors.current()
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
        self, articles: Iterable[Article], progress: Progress | None = None, report: IngestReport | None = None
    ) -> IngestReport:
        """Index articles given in memory (a poll's entries, an application's own feed)."""
        return self.ingester.ingest(articles, progress, report)

    def reindex(self, progress: Progress | None = None) -> int:
        """Re-embed every passage with the configured model (questions read the old vectors until
        the new ones are committed); returns how many."""
        return self.ingester.reindex(progress)

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
        """Remember a feed, an article URL, or a JSONL file or folder to ingest from. `web_only`
        (chat commands) accepts http(s) URLs only: a path would read files on the bot's machine.
        `resolve=False` adds a URL whose host does not resolve yet (every fetch checks it again)."""
        location = location.strip()
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
            kind, default_name = "web", location.split("://", 1)[1].split("/", 1)[0]
        else:
            path = Path(location).expanduser()
            if not path.exists():
                raise NewsbotError(f"no such file or folder: {location}")
            location, kind, default_name = str(path.resolve()), "file", path.name
        self.db.ensure_writable()
        return self.registry.add(location, (name or default_name).strip(), kind, interval_minutes)

    def probe_source(self, url: str) -> str:
        """Read a web source once, before it is added: what was found ("a feed of 12 entries", "an
        article: HEADLINE"); NewsbotError for a typo, a dead feed, a page that is neither."""
        url = url.strip()
        check_url(url, self.config.fetch_limits.allowed_hosts)
        entries, article = read_page(self.fetcher.get(url), url, "", self.config.max_entries_per_poll)
        if article is not None:
            return f"an article: {article.title[:100]}"
        return f"a feed of {len(entries)} {'entry' if len(entries) == 1 else 'entries'}"

    def remove_source(self, source_id: int) -> Source:
        return self.registry.remove(source_id)

    def sources(self) -> list[Source]:
        return self.registry.all()

    def poll(
        self, *, only_due: bool = True, source_ids: list[int] | None = None, progress: Progress | None = None
    ) -> PollReport:
        """One pass over the sources (those due, or all), then the retention cut. Never raises for
        one broken source: its error is recorded and counted."""
        with self._poll_lock:
            poller = Poller(
                self.registry,
                self.articles,
                self.fetcher,
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
        if not self.db.exists:
            return 0
        with self.db.writing():
            return self.articles.remove_older_than(cutoff)

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            self._fetcher = Fetcher(self.config.fetch_limits)
        return self._fetcher

    # -- follows and events: new stories about a topic for a channel, the day's top events --------

    def follow(self, guild_id: int, channel_id: int, topic: str, created_by: int) -> Follow:
        """Post the new stories about `topic` in a channel from the next one ingested on (the
        application posts: `follow_news`, `follow_posted`); at most `max_follows_per_guild` a guild."""
        return self.following.add(guild_id, channel_id, topic, created_by)

    def unfollow(self, follow_id: int, guild_id: int | None = None) -> Follow:
        return self.following.remove(follow_id, guild_id)

    def follows(self, guild_id: int | None = None) -> list[Follow]:
        return self.following.all(guild_id)

    def follow_news(self, follows: Iterable[Follow], limit: int = 500) -> dict[int, tuple[list[Headline], int]]:
        return self.following.news_of(list(follows), limit)  # each follow's news and cursor, in one pass

    def earlier_post(self, channel_id: int, article_id: int) -> int | None:
        return self.following.earlier_post(channel_id, article_id)

    def follow_posted(self, follow: Follow, article_id: int, message_id: int | None) -> None:
        self.following.posted(follow, article_id, message_id)

    def follow_dealt_with(self, follow: Follow, cursor: int) -> None:
        self.following.dealt_with(follow, cursor)

    def pause_follow(self, follow_id: int, reason: str) -> None:
        self.following.pause(follow_id, reason)

    def resume_follow(self, follow_id: int) -> None:
        self.following.resume(follow_id)

    def brief(self, hours: float = 24.0, topic: str | None = None, count: int = 10) -> list[Event]:
        """The top events of the last `hours`: stories grouped by event, ranked by how many sources
        carry each, then by recency; with a `topic`, only events a follow of it would be shown."""
        if not math.isfinite(hours) or hours <= 0 or count < 1:
            raise NewsbotError("the hours and the number of events must be positive numbers")
        if count > MOST_LISTED:
            raise NewsbotError(f"at most {MOST_LISTED:,} events at a time")
        since = (datetime.now(UTC) - timedelta(hours=min(hours, LONGEST_BRIEF_HOURS))).isoformat(timespec="seconds")
        stories = self.articles.headlines_since(since, limit=2000)
        passages = self.articles.passage_vectors([h.article_id for h in stories])
        events = group_events(stories, {i: story_vector(v) for i, v in passages.items()})
        if topic and topic.strip():
            matching = self.topics.about(topic, stories, passages)
            events = [e for e in events if any(h.article_id in matching for h in e.stories)]
        events.sort(key=lambda e: e.newest, reverse=True)
        events.sort(key=lambda e: -e.sources)  # stable: the newest first among as many sources
        return events[:count]

    # -- reading -----------------------------------------------------------------------------

    def ask(
        self, question: str, timings: dict[str, float] | None = None, as_of: str | date | datetime | None = None
    ) -> Answer:
        """The answer to one question; `as_of` (a date, or a datetime) answers as the library would
        have then: recency counted from that moment, stories published after it left out. `timings`,
        when given, receives seconds per stage (embed_question, dense_search, lexical_search,
        fusion, reading) for benchmarks."""
        question = self.check_question(question)
        moment = as_of_moment(as_of)
        self.check_ready()
        hits = self.search.search(question, self.config.top_k, timings, as_of=moment)
        started = time.perf_counter()
        answer = self.reader.answer(question, hits)
        if timings is not None:
            timings["reading"] = timings.get("reading", 0.0) + time.perf_counter() - started
        return replace(
            answer,
            agreeing=self._distinct_stories(answer),
            as_of=moment.isoformat(timespec="seconds") if moment else None,
        )

    def _distinct_stories(self, answer: Answer) -> list[Citation]:
        """The agreeing stories less copies: a story re-published under another URL (the same
        near-duplicate test the poller applies to new entries) counts once."""
        if not answer.agreeing or answer.story is None:
            return answer.agreeing
        quoted = next((h.article_id for h in answer.evidence if h.story.url == answer.story.url), None)
        ids = [c.article_id for c in answer.agreeing if c.article_id is not None]
        prints = self.articles.fingerprints_of([*ids, *([quoted] if quoted is not None else [])])
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
        if not self.articles.has_passages():
            raise NothingIndexedError(self.db.location)
        self.articles.check_model(self.embedder.model_name)

    def latest(self, count: int = 10, topic: str | None = None) -> list[Story]:
        """The newest stories; with a `topic`, those about it (as a follow of it would be shown)."""
        if count < 1:
            raise NewsbotError("the number of stories must be at least 1")
        if count > MOST_LISTED:
            raise NewsbotError(f"at most {MOST_LISTED:,} stories at a time")
        topic = " ".join(without_surrogates(topic).split()) if topic else ""
        if not topic:
            return self.articles.latest(count)
        return self.articles.latest(count, self.topics.stories_about(topic))

    def stats(self) -> dict:
        stats = self.articles.stats()
        stats["configured_model"] = self.embedder.model_name
        # Which FAISS index serves questions: exact, or IVF-SQ8 past IndexPolicy.exact_below.
        stats["vector_index"] = self.vectors.current().kind if self.articles.has_passages() else "exact"
        sources = self.sources()
        stats["sources"] = len(sources)
        stats["failing_sources"] = sum(1 for s in sources if s.failing)
        stats["data_dir"] = self.db.location
        return stats


def _make_reader(config: LibraryConfig) -> Reader:
    return ExtractiveReader(
        config.reader_model or None,
        threshold=config.answer_threshold,
        passages=config.reader_passages,
        bfloat16=config.reader_bfloat16,
    )
