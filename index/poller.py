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

from index.dedup import canonical_url, fingerprint, near_duplicate
from index.errors import NewsbotError
from index.feeds import FeedEntry, FeedError, extract_article, parse_feed, summary_article
from index.fetch import Fetcher
from index.models import Article
from index.store import Source

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

    def line(self) -> str:
        text = (
            f"polled {self.sources} sources: {self.new} new, {self.updated} updated, {self.unchanged} unchanged,"
            f" {self.duplicates} duplicates, {len(self.failures)} failures"
        )
        if self.summaries:
            text += f"; {self.summaries} stored from feed summaries"
        if self.removed:
            text += f"; {self.removed} old articles removed"
        return text


class Poller:
    def __init__(
        self, library, fetcher: Fetcher, *, interval_minutes: float, max_entries: int, jitter: float = 0.1
    ) -> None:
        self.library = library
        self.store = library.store
        self.fetcher = fetcher
        self.interval_minutes = interval_minutes
        self.max_entries = max_entries
        self.jitter = jitter

    def due(self, now: float | None = None) -> list[Source]:
        now = time.time() if now is None else now
        return [s for s in self.store.sources() if s.next_poll_at <= now]

    def poll(self, sources: list[Source], progress: Callable[[int, int | None], None] | None = None) -> PollReport:
        report = PollReport()
        for done, source in enumerate(sources, start=1):
            report.sources += 1
            try:
                etag, last_modified = self._poll_source(source, report)
            except NewsbotError as exc:
                log.warning("source %s (%s) failed: %s", source.id, source.location, exc)
                report.failures.append(f"source {source.id} ({source.name}): {exc}")
                self.store.record_poll(source.id, error=str(exc), next_poll_at=self._next(source, failed=True))
            else:
                self.store.record_poll(
                    source.id,
                    error=None,
                    next_poll_at=self._next(source, failed=False),
                    etag=etag,
                    last_modified=last_modified,
                )
            if progress:
                progress(done, len(sources))
        return report

    def _next(self, source: Source, *, failed: bool) -> float:
        interval = (source.interval_minutes or self.interval_minutes) * 60
        if failed:
            interval = min(interval * 2**source.failures, MAX_BACKOFF_SECONDS)
        return time.time() + interval * random.uniform(1 - self.jitter, 1 + self.jitter)

    def _poll_source(self, source: Source, report: PollReport) -> tuple[str | None, str | None]:
        if source.kind == "file":
            ingested = self.library.ingest([source.location])
            report.new += ingested.added
            report.updated += ingested.updated
            report.unchanged += ingested.unchanged
            if ingested.problems:
                raise NewsbotError(f"{len(ingested.problems)} problems, first: {ingested.problems[0]}")
            return None, None
        fetched = self.fetcher.get(source.location, source.etag, source.last_modified)
        if fetched.not_modified:
            return fetched.etag, fetched.last_modified
        try:
            _, entries = parse_feed(fetched.body, fetched.url, self.max_entries)
        except FeedError:
            looks_html = "html" in fetched.content_type.lower() or fetched.body.lstrip()[:15].lower().startswith(
                (b"<!doctype html", b"<html")
            )
            if not looks_html:
                raise
            # Not a feed but a page: a single-article source.
            article = extract_article(fetched.body, canonical_url(fetched.url), source.name)
            if article is None:
                raise FeedError(f"{source.location} is neither a feed nor a readable article") from None
            self._store([article], source, report, {})
            return fetched.etag, fetched.last_modified
        articles, signatures = [], {}
        for entry in entries:
            url = canonical_url(entry.url)
            seen = self.store.feed_entry(url)
            if seen and seen[1] == entry.signature:
                report.unchanged += 1
                continue
            if seen and seen[0] != source.id:  # another source already carries this story
                report.duplicates += 1
                continue
            article = self._read_entry(entry, url, source, report)
            if article is not None:
                articles.append(article)
                signatures[url] = entry.signature
        self._store(articles, source, report, signatures)
        return fetched.etag, fetched.last_modified

    def _read_entry(self, entry: FeedEntry, url: str, source: Source, report: PollReport) -> Article | None:
        try:
            page = self.fetcher.get(entry.url)
            article = extract_article(page.body, url, source.name, fallback=entry)
        except NewsbotError as exc:
            log.info("page %s unreadable (%s); using the feed summary", entry.url, exc)
            article = None
        if article is None:
            article = summary_article(entry, source.name)
            if article is not None:
                article = replace(article, url=url)
                report.summaries += 1
        return article

    def _store(self, articles: list[Article], source: Source, report: PollReport, signatures: dict) -> None:
        known_urls = self.store.article_digests([a.url for a in articles])
        known = self.store.fingerprints()
        fresh = []
        for article in articles:
            if article.url not in known_urls:
                value = fingerprint(article.text)
                if near_duplicate(value, known) is not None:
                    report.duplicates += 1
                    self.store.remember_feed_entry(article.url, source.id, signatures.get(article.url, ""), "duplicate")
                    continue
                known.append((-1, value))  # a story twice in one poll counts once too
            fresh.append(article)
        ingested = self.library.ingest_articles(fresh)
        report.new += ingested.added
        report.updated += ingested.updated
        report.unchanged += ingested.unchanged
        # Remembered only after the articles are committed: a crash before this refetches, never loses.
        for article in fresh:
            self.store.remember_feed_entry(article.url, source.id, signatures.get(article.url, ""), "stored")
