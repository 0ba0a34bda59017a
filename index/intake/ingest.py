"""Ingest: articles cut to the library's limits, split into passages, embedded and written one
batch per transaction, so a crash loses at most the batch in flight; and the re-embedding of every
passage after a model change."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from index.config import LibraryConfig
from index.dates import published_moment
from index.errors import NothingIndexedError, Notice
from index.intake.chunk import Chunker
from index.intake.dedup import fingerprint
from index.intake.images import image_url
from index.intake.sources import not_news
from index.models import Article, IngestReport, Passage
from index.retrieval import Embedder
from index.store import ArticleStore, PreparedArticle, Store, content_hash

Progress = Callable[[int, int | None], None]  # (done so far, total if known)
FUTURE_SKEW = timedelta(days=1)  # how far ahead of its ingest a story's date is still believed (time zones, clocks)


class Ingester:
    """Writes articles into one library's store; one writer at a time (the store's write lock)."""

    def __init__(
        self, config: LibraryConfig, db: Store, articles: ArticleStore, embedder: Embedder, chunker: Chunker
    ) -> None:
        self.config = config
        self.db = db
        self.articles = articles
        self.embedder = embedder
        self.chunker = chunker

    def ingest(
        self,
        articles: Iterable[Article],
        progress: Progress | None = None,
        report: IngestReport | None = None,
        fingerprints: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> IngestReport:
        """Index `articles`, a batch per transaction. Pipelined: while the encoder embeds one batch, a
        worker thread reads, cuts and splits the next (the encoder is the slowest stage, so the
        others hide behind it). `fingerprints` (url -> (text, fingerprint)), the ones a poll already
        made: an article whose text is still that text is not fingerprinted again."""
        made = fingerprints or {}
        report = report or IngestReport()
        self.db.ensure_writable()
        if self.db.exists:  # check before spending minutes embedding with the wrong model
            self.articles.check_model(self.embedder.model_name)
        batches = _batches((self._capped(a, report) for a in articles), self.config.ingest_batch_articles)
        queued: dict[str, str] = {}  # url -> digest of what earlier batches of this run will write
        with ThreadPoolExecutor(1, thread_name_prefix="newsbot-split") as splitter:

            def prepare_next() -> tuple[int, list[tuple[Article, str, list[Passage]]]] | None:
                batch = next(batches, None)  # files are read here too, while the encoder runs
                return None if batch is None else self._split(batch, queued, report)

            try:
                ahead = splitter.submit(prepare_next)
                while (ready := ahead.result()) is not None:
                    ahead = splitter.submit(prepare_next)  # the next batch is split while this one is embedded
                    count, split = ready
                    if split:
                        self._embed_and_write(split, report, made)
                    if progress:
                        progress(count, None)
            finally:
                splitter.submit(self.db.close)  # the worker's own connection
        return report

    def _split(
        self, batch: list[Article], queued: dict[str, str], report: IngestReport
    ) -> tuple[int, list[tuple[Article, str, list[Passage]]]]:
        """The articles of a batch that are new or changed, split into passages (on the worker)."""
        report.read += len(batch)
        unique = list({a.url: a for a in batch}.values())  # a URL twice in a batch: last one wins
        report.unchanged += len(batch) - len(unique)
        known = self.articles.article_digests([a.url for a in unique if a.url not in queued])
        known.update({a.url: queued[a.url] for a in unique if a.url in queued})
        changed = [(a, d) for a in unique if known.get(a.url) != (d := content_hash(a))]
        report.unchanged += len(unique) - len(changed)
        queued.update({a.url: d for a, d in changed})
        started = time.perf_counter()
        split = [(article, digest, self.chunker.split(article)) for article, digest in changed]
        report.timed("split", time.perf_counter() - started)
        return len(batch), split

    def _embed_and_write(
        self,
        split: list[tuple[Article, str, list[Passage]]],
        report: IngestReport,
        fingerprints: Mapping[str, tuple[str, bytes]],
    ) -> None:
        started = time.perf_counter()
        texts = [passage_input(a.title, p.text) for a, _, passages in split for p in passages]
        vectors = self.embedder.encode(texts)
        report.timed("embed", time.perf_counter() - started)
        prepared, at = [], 0
        for article, digest, passages in split:
            known = fingerprints.get(article.url)
            value = known[1] if known is not None and known[0] == article.text else fingerprint(article.text)
            prepared.append(PreparedArticle(article, passages, vectors[at : at + len(passages)], digest, value))
            at += len(passages)
        started = time.perf_counter()
        with self.db.writing():
            summary = self.articles.write(prepared, self.embedder.model_name)
        report.timed("sqlite", time.perf_counter() - started - summary.vector_seconds)
        report.timed("vectors", summary.vector_seconds)
        report.added += summary.added
        report.updated += summary.updated
        report.unchanged += summary.unchanged
        report.passages += summary.passages

    def _capped(self, article: Article, report: IngestReport) -> Article:
        """The article, its headline cut at a word before `max_title_chars`, its text at a
        paragraph or sentence end before `max_article_chars`, and a date more than `FUTURE_SKEW`
        ahead of now (a story from 2099 would head `latest` and every brief for ever) replaced by
        the day it is ingested, each with a warning; an image that is no plain https URL left out."""
        if article.image and image_url(article.image) != article.image:
            article = replace(article, image=image_url(article.image))
        most = self.config.max_title_chars
        if len(article.title) > most:
            cut = article.title[: most - 1]
            cut = cut[: cut.rfind(" ")] if cut.rfind(" ") > most // 2 else cut
            report.warnings.append(
                Notice(
                    f"{article.url[:200]}: a headline of {len(article.title):,} characters; kept the first"
                    f" {len(cut):,} (max_title_chars is {most:,})",
                    ("max_title_chars",),
                )
            )
            article = replace(article, title=cut.rstrip() + "…")
        moment = published_moment(article.published)
        if moment is not None and moment > datetime.now(UTC) + FUTURE_SKEW:
            today = datetime.now(UTC).date().isoformat()
            report.warnings.append(
                Notice(
                    f"{article.url[:200]}: dated {article.published}, more than a day after it was ingested;"
                    f" dated {today}, the day it was ingested, instead"
                )
            )
            article = replace(article, published=today)
        if article.url.startswith("file:") and (doubt := not_news(article.text)):  # `newsbot ingest README.md`
            report.warnings.append(
                Notice(f"{article.url[:200]}: {doubt}; indexed all the same (`newsbot remove` takes it out)")
            )
        limit = self.config.max_article_chars
        if len(article.text) <= limit:
            return article
        cut = article.text[:limit]
        for boundary in ("\n", ". "):
            at = cut.rfind(boundary)
            if at > limit // 2:
                cut = cut[: at + 1]
                break
        report.warnings.append(
            Notice(
                f"{article.url[:200]}: {len(article.text):,} characters; indexed the first {len(cut):,}"
                f" (max_article_chars is {limit:,})",
                ("max_article_chars",),
            )
        )
        return replace(article, text=cut.strip())

    def reindex(self, progress: Progress | None = None) -> int:
        """Re-embed every passage with the configured model; questions keep using the old vectors
        until the new ones are committed. Returns the number of passages re-embedded."""
        with self.db.writing():
            rows = self.articles.passages_to_embed()
            if not rows:
                raise NothingIndexedError(self.db.location)
            total = len(rows)
            done = 0

            def step(count: int) -> None:
                nonlocal done
                done += count
                if progress:
                    progress(done, total)

            vectors = self.embedder.encode([passage_input(title, text) for _, title, text in rows], step)
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=total)
            self.articles.replace_vectors(ids, vectors, self.embedder.model_name)
        return total


def passage_input(title: str, text: str) -> str:
    """What the embedder sees for a passage: the headline gives it the story's subject."""
    return f"{title}\n{text}" if title else text


def _batches(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
