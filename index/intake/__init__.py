"""The intake wing: news in. Sources (files, feeds, pages), fetching them safely, spotting copies,
cutting articles into passages, ingesting them, and polling the configured sources. The names
below load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index import lazy_names

_HOMES = {
    "Chunker": "index.intake.chunk",
    "FINGERPRINT_CHARS": "index.intake.dedup",
    "FetchError": "index.intake.fetch",
    "Fetcher": "index.intake.fetch",
    "Ingester": "index.intake.ingest",
    "MAX_OPML_BYTES": "index.intake.opml",
    "OPMLError": "index.intake.opml",
    "PollReport": "index.intake.poller",
    "Poller": "index.intake.poller",
    "RefusedURLError": "index.intake.fetch",
    "Progress": "index.intake.ingest",
    "article_from_record": "index.intake.sources",
    "canonical_url": "index.intake.dedup",
    "check_url": "index.intake.fetch",
    "fingerprint": "index.intake.dedup",
    "import_opml": "index.intake.opml",
    "html_to_article_text": "index.intake.sources",
    "is_public": "index.intake.fetch",
    "near_duplicate": "index.intake.dedup",
    "normalise_published": "index.intake.sources",
    "page_found": "index.intake.poller",
    "parse_feed": "index.intake.feeds",
    "passage_input": "index.intake.ingest",
    "read_articles": "index.intake.sources",
    "read_page": "index.intake.poller",
    "refuse_oversized": "index.intake.opml",
    "resolve_url": "index.intake.fetch",
    "write_opml": "index.intake.opml",
}

__all__ = [
    "Chunker",
    "FINGERPRINT_CHARS",
    "FetchError",
    "Fetcher",
    "Ingester",
    "MAX_OPML_BYTES",
    "OPMLError",
    "PollReport",
    "Poller",
    "RefusedURLError",
    "Progress",
    "article_from_record",
    "canonical_url",
    "check_url",
    "fingerprint",
    "import_opml",
    "html_to_article_text",
    "is_public",
    "near_duplicate",
    "normalise_published",
    "page_found",
    "parse_feed",
    "passage_input",
    "read_articles",
    "read_page",
    "refuse_oversized",
    "resolve_url",
    "write_opml",
]

if TYPE_CHECKING:
    from index.intake.chunk import Chunker
    from index.intake.dedup import FINGERPRINT_CHARS, canonical_url, fingerprint, near_duplicate
    from index.intake.fetch import Fetcher, FetchError, RefusedURLError, check_url, is_public, resolve_url
    from index.intake.ingest import Ingester, Progress, passage_input
    from index.intake.opml import MAX_OPML_BYTES, OPMLError, import_opml, refuse_oversized, write_opml
    from index.intake.poller import Poller, PollReport, page_found, read_page
    from index.intake.sources import article_from_record, html_to_article_text, normalise_published, read_articles


__getattr__ = lazy_names(__name__, _HOMES)
