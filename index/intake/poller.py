"""One polling pass over the configured sources: fetch what is due, dedupe, ingest, remember.

Each source is polled when due (its interval, with jitter; longer after failures). A feed entry is
fetched again only when the feed says it changed; a story reached by a second URL (tracking
parameters, AMP, syndication) is stored once. A broken source is recorded with its error and never
stops the others.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from index.errors import NewsbotError, Notice
from index.intake.dedup import canonical_url, fingerprint, near_duplicate
from index.intake.feeds import FeedEntry, FeedError, extract_article, parse_feed, summary_article
from index.intake.fetch import Fetcher
from index.intake.sources import read_articles
from index.models import Article, IngestReport, Source
from index.store import ArticleStore, SourceRegistry
from index.text import hide_credentials, holds_credentials, site_name

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 24 * 3600


@dataclass
class PollReport:
    sources: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    summaries: int = 0  # pages that could not be read, stored from the feed's summary
    failures: list[str] = field(default_factory=list)
    removed: int = 0  # old articles dropped by the retention setting
    postponed: int = 0  # sources left for the next pass when the poll budget ran out
    outcomes: list[str] = field(default_factory=list)  # one line per source read, in order

    def count(self, ingested: IngestReport) -> None:
        """Add what one ingest did to this poll's counts."""
        self.new += ingested.added
        self.updated += ingested.updated
        self.unchanged += ingested.unchanged

    def counts(self) -> tuple[int, int, int, int]:
        return self.new, self.updated, self.unchanged, self.duplicates

    def counts_since(self, before: tuple[int, int, int, int]) -> str:
        new, updated, unchanged, duplicates = (now - then for now, then in zip(self.counts(), before, strict=True))
        return f"{new} new, {updated} updated, {unchanged} unchanged, {duplicates} duplicates"

    def line(self) -> str:
        sources = "1 source" if self.sources == 1 else f"{self.sources} sources"
        failures = "1 failure" if len(self.failures) == 1 else f"{len(self.failures)} failures"
        text = f"polled {sources}: {self.counts_since((0, 0, 0, 0))}, {failures}"
        if self.summaries:
            text += f"; {self.summaries} stored from feed summaries"
        if self.removed:
            text += f"; {self.removed} old articles removed"
        if self.postponed:
            text += f"; time budget spent, {self.postponed} sources left for the next pass"
        return text


def _describe(exc: BaseException) -> str:
    """One line for a source's health: our own errors say it all; others also name their type."""
    if isinstance(exc, NewsbotError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:500]


NAME_CHARS = 100  # the most of a feed's title a source's name keeps


def feed_name(title: str) -> str:
    """A feed's title as its source's name, as feed readers name a feed: one line, cut short; ""
    when there is none, or when it holds what looks like credentials (the host names it then)."""
    title = " ".join(title.split())[:NAME_CHARS].strip()
    return "" if holds_credentials(title) else title


def named_by_host(source: Source) -> bool:
    """True when the source still has the name it was given for want of a title: its host (before
    2026-12, its host and port)."""
    netloc = source.location.split("://", 1)[-1].split("/", 1)[0]
    return source.kind == "web" and source.name in (site_name(source.location), netloc)


def read_page(fetched, location: str, name: str, max_entries: int) -> tuple[str, list[FeedEntry], Article | None, int]:
    """What a fetched source holds: a feed's name (`feed_name` of its title), its first `max_entries`
    entries and how many it holds, or (not a feed but an HTML page) one article; FeedError when it is
    neither."""
    try:
        title, entries, held = parse_feed(fetched.body, fetched.url, max_entries)
        return feed_name(title), entries, None, held
    except FeedError:
        looks_html = "html" in fetched.content_type.lower() or fetched.body.lstrip()[:15].lower().startswith(
            (b"<!doctype html", b"<html")
        )
        if not looks_html:
            raise
        article = extract_article(fetched.body, canonical_url(fetched.url), name)
        if article is None:
            raise FeedError(f"{location} is neither a feed nor a readable article") from None
        return "", [], article, 0


def page_found(fetched, location: str, max_entries: int) -> tuple[Notice, str]:
    """What a web source holds, as adding it says ("a feed of 12 entries", "an article: X"), and a
    feed's name; a feed longer than a poll reads says how much of it each poll reads."""
    title, entries, article, held = read_page(fetched, location, "", max_entries)
    if article is not None:
        return Notice(f"an article: {article.title[:100]}"), ""
    if held > max_entries:
        return Notice(
            f"a feed of {held:,} entries; each poll reads the first {max_entries:,} (max_entries_per_poll is"
            f" {max_entries:,})",
            ("max_entries_per_poll",),
        ), title
    return Notice(f"a feed of {len(entries)} {'entry' if len(entries) == 1 else 'entries'}"), title


class Poller:
    def __init__(
        self,
        registry: SourceRegistry,
        articles: ArticleStore,
        fetcher: Fetcher,
        ingest: Callable[..., IngestReport],
        *,
        interval_minutes: float,
        max_entries: int,
        jitter: float = 0.1,
    ) -> None:
        """`ingest` indexes articles (the library's `ingest_articles`, given the fingerprints the
        poller made so they are not made again); the poller reads the registry and the articles'
        digests and fingerprints itself, and writes nothing else."""
        self.registry = registry
        self.articles = articles
        self.ingest = ingest
        self.fetcher = fetcher
        self.interval_minutes = interval_minutes
        self.max_entries = max_entries
        self.jitter = jitter
        self._deadline: float | None = None
        self._known: list[tuple[int, bytes]] | None = None  # the stored fingerprints, read once a pass

    def due(self, now: float | None = None) -> list[Source]:
        now = time.time() if now is None else now
        return [s for s in self.registry.all() if s.next_poll_at <= now]

    def poll(
        self,
        sources: list[Source],
        progress: Callable[[int, int | None], None] | None = None,
        budget_seconds: float | None = None,
    ) -> PollReport:
        """Read each source; whatever one source or entry raises is recorded on that source and the
        pass goes on. Past `budget_seconds`, the sources not yet read stay due for the next pass."""
        report = PollReport()
        self._known = None
        self._deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        for done, source in enumerate(sources, start=1):
            if self._out_of_time():
                report.postponed = len(sources) - done + 1
                log.info(
                    "poll budget of %.0f s spent; %d sources left for the next pass", budget_seconds, report.postponed
                )
                break
            report.sources += 1
            entry_problems: list[str] = []  # entries that failed; the rest of the source is still read
            before = report.counts()
            try:
                source, etag, last_modified = self._poll_source(source, report, entry_problems)
                if entry_problems:
                    count = len(entry_problems)
                    raise NewsbotError(
                        f"{count} {'entry' if count == 1 else 'entries'} failed, first: {entry_problems[0]}"
                    )
            except Exception as exc:  # one broken source (or a bug it triggers) never stops the pass
                message = hide_credentials(_describe(exc))
                log.debug("source %s (%s) failed", source.id, source.location, exc_info=True)
                report.failures.append(f"source {source.id} ({source.name}): {message}")
                report.outcomes.append(f"source {source.id} ({source.name}): FAILED: {message}")
                next_poll_at = self._next(source, failed=True)
                retry_after = getattr(exc, "retry_after", None)
                if retry_after:  # the server's own word, kept for the next process too (`poll --due`)
                    next_poll_at = max(next_poll_at, time.time() + retry_after)
                self.registry.record_poll(source.id, error=message, next_poll_at=next_poll_at)
            else:
                report.outcomes.append(f"source {source.id} ({source.name}): {report.counts_since(before)}")
                self.registry.record_poll(
                    source.id,
                    error=None,
                    next_poll_at=self._next(source, failed=False),
                    etag=etag,
                    last_modified=last_modified,
                )
            if progress:
                progress(done, len(sources))
        return report

    def _out_of_time(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _next(self, source: Source, *, failed: bool) -> float:
        interval = (source.interval_minutes or self.interval_minutes) * 60
        if failed:
            interval = min(interval * 2**source.failures, MAX_BACKOFF_SECONDS)
        return time.time() + interval * random.uniform(1 - self.jitter, 1 + self.jitter)

    def _poll_source(
        self, source: Source, report: PollReport, entry_problems: list[str]
    ) -> tuple[Source, str | None, str | None]:
        """Read one source: (the source, renamed when its feed first gave a title; its validators)."""
        if source.kind == "file":
            problems: list[str] = []
            read = (replace(a, source_id=source.id) for a in read_articles([source.location], problems.append))
            report.count(self.ingest(read))
            if problems:
                raise NewsbotError(f"{len(problems)} problems, first: {problems[0]}")
            return source, None, None
        fetched = self.fetcher.get(source.location, source.etag, source.last_modified)
        if fetched.not_modified:  # the feed says nothing changed: every entry it had stays as it was
            report.unchanged += min(self.registry.feed_entry_count(source.id), self.max_entries)
            return source, fetched.etag, fetched.last_modified
        name, entries, article, _ = read_page(fetched, source.location, source.name, self.max_entries)
        if article is not None:  # not a feed but a page: a single-article source
            self._store([article], source, report, {})
            return source, fetched.etag, fetched.last_modified
        if name and name != source.name and named_by_host(source):  # named by its title from now on
            source = self.registry.rename(source.id, name)
        articles, signatures = [], {}
        for entry in entries:
            if self._out_of_time():  # entries not read now are not remembered: the next pass reads them
                break
            try:
                url = canonical_url(entry.url)
                seen = self.registry.feed_entry(url)
                if seen and seen[1] == entry.signature:
                    report.unchanged += 1
                    continue
                if seen and seen[0] != source.id:  # another source already carries this story
                    report.duplicates += 1
                    continue
                article = self._read_entry(entry, url, source, report)
            except Exception as exc:  # a malformed link or a page that breaks a parser: skip that entry
                entry_problems.append(f"{entry.url[:200]}: {_describe(exc)}")
                continue
            if article is not None:
                articles.append(article)
                signatures[url] = entry.signature
        self._store(articles, source, report, signatures)
        return source, fetched.etag, fetched.last_modified

    def _read_entry(self, entry: FeedEntry, url: str, source: Source, report: PollReport) -> Article | None:
        try:
            page = self.fetcher.get(entry.url)
            article = extract_article(page.body, url, source.name, fallback=entry)
        except Exception as exc:  # whatever the page did, the feed's own summary may still serve
            log.info("page %s unreadable (%s); using the feed summary", entry.url, exc)
            article = None
        if article is None:
            article = summary_article(entry, source.name)
            if article is not None:
                article = replace(article, url=url)
                report.summaries += 1
        return article

    def _store(self, articles: list[Article], source: Source, report: PollReport, signatures: dict) -> None:
        articles = [replace(article, source_id=source.id) for article in articles]  # what a follow of it posts
        known_urls = self.articles.article_digests([a.url for a in articles])
        if self._known is None:
            self._known = self.articles.fingerprints()
        known = self._known
        fresh, made = [], {}
        for article in articles:
            if article.url not in known_urls:
                value = made[article.url] = fingerprint(article.text)
                if near_duplicate(value, known) is not None:
                    report.duplicates += 1
                    self.registry.remember_feed_entry(
                        article.url, source.id, signatures.get(article.url, ""), "duplicate"
                    )
                    continue
                known.append((-1, value))  # a story twice in one poll, or in two sources, counts once too
            fresh.append(article)
        report.count(self.ingest(fresh, fingerprints={a.url: (a.text, made[a.url]) for a in fresh if a.url in made}))
        # Remembered only after the articles are committed: a crash before this refetches, never loses.
        for article in fresh:
            self.registry.remember_feed_entry(article.url, source.id, signatures.get(article.url, ""), "stored")
