"""The intake wing: news in. Sources (files, feeds, pages), fetching them safely, spotting copies,
cutting articles into passages, ingesting them, and polling the configured sources. The names
below load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index import lazy_names

_HOMES = {
    "Chunker": "index.intake.chunk",
    "FetchError": "index.intake.fetch",
    "Fetcher": "index.intake.fetch",
    "Ingester": "index.intake.ingest",
    "MAX_OPML_BYTES": "index.intake.opml",
    "PollReport": "index.intake.poller",
    "Poller": "index.intake.poller",
    "Progress": "index.intake.ingest",
    "check_url": "index.intake.fetch",
    "import_opml": "index.intake.opml",
    "near_duplicate": "index.intake.dedup",
    "page_found": "index.intake.poller",
    "read_articles": "index.intake.sources",
    "refuse_oversized": "index.intake.opml",
    "write_opml": "index.intake.opml",
}

__all__ = [
    "Chunker",
    "FetchError",
    "Fetcher",
    "Ingester",
    "MAX_OPML_BYTES",
    "PollReport",
    "Poller",
    "Progress",
    "check_url",
    "import_opml",
    "near_duplicate",
    "page_found",
    "read_articles",
    "refuse_oversized",
    "write_opml",
]

if TYPE_CHECKING:
    from index.intake.chunk import Chunker
    from index.intake.dedup import near_duplicate
    from index.intake.fetch import Fetcher, FetchError, check_url
    from index.intake.ingest import Ingester, Progress
    from index.intake.opml import MAX_OPML_BYTES, import_opml, refuse_oversized, write_opml
    from index.intake.poller import Poller, PollReport, page_found
    from index.intake.sources import read_articles


__getattr__ = lazy_names(__name__, _HOMES)
