"""RSS / Atom feeds and article pages into Articles: feedparser for feeds, trafilatura for pages."""

from __future__ import annotations

import calendar
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from index.dates import normalise_published
from index.errors import NewsbotError
from index.intake.images import entry_image, image_url
from index.intake.sources import html_to_article_text
from index.models import Article

log = logging.getLogger(__name__)


class FeedError(NewsbotError):
    """The body is not a feed we can read."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str
    summary: str  # plain text
    published: str | None
    signature: str  # changes when the feed says the entry changed
    image: str | None = None  # the https URL of the picture the entry names (`images.entry_image`)


def _entry_published(raw) -> str | None:
    """The entry's date with the offset the feed gave it (RFC 822 in RSS, ISO 8601 in Atom)."""
    for key in ("published", "updated"):
        text = (raw.get(key) or "").strip()
        if not text:
            continue
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            try:
                return normalise_published(text)
            except ValueError:
                continue
        if moment is not None:
            try:
                return normalise_published(moment.isoformat())
            except ValueError:  # a date that cannot be placed in UTC (year 1 at +14:00): as if undated
                continue
    stamp = raw.get("published_parsed") or raw.get("updated_parsed")  # feedparser's UTC reading of odd formats
    try:
        return datetime.fromtimestamp(calendar.timegm(stamp), UTC).isoformat(timespec="seconds") if stamp else None
    except (ValueError, OverflowError, OSError):  # past year 9999 in UTC: as if undated, not a broken feed
        return None


def parse_feed(body: bytes, feed_url: str, max_entries: int) -> tuple[str, list[FeedEntry], int]:
    """(feed title, the first `max_entries` entries with absolute links, how many entries the feed
    holds); raises FeedError for anything that is no feed."""
    import feedparser

    parsed = feedparser.parse(body, response_headers={"content-location": feed_url})
    entries = []
    for raw in parsed.entries[:max_entries]:
        link = raw.get("link") or ""
        if not link:
            continue
        url = urljoin(feed_url, link)
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        summary_html = raw.get("summary") or ""
        if not summary_html and raw.get("content"):
            summary_html = raw["content"][0].get("value", "")
        summary = html_to_article_text(summary_html)[1] if "<" in summary_html else " ".join(summary_html.split())
        published = _entry_published(raw)
        signature_source = "\x1f".join([raw.get("updated", "") or "", raw.get("title", "") or "", summary])
        entries.append(
            FeedEntry(
                url=url,
                title=" ".join((raw.get("title") or "").split()),
                summary=summary,
                published=published,
                signature=hashlib.sha256(signature_source.encode()).hexdigest()[:32],
                image=entry_image(raw, feed_url),
            )
        )
    if not entries and (parsed.bozo or not parsed.version):
        # An empty but well-formed feed is fine; anything else with nothing to read is not a feed.
        problem = getattr(parsed, "bozo_exception", None)
        reason = f"malformed ({type(problem).__name__})" if parsed.bozo and problem else "not a feed format"
        raise FeedError(f"{feed_url} is not a readable RSS or Atom feed: {reason}")
    return " ".join((parsed.feed.get("title") or "").split()), entries, len(parsed.entries)


def extract_article(html: bytes | str, url: str, source: str, fallback: FeedEntry | None = None) -> Article | None:
    """The page's main text, title, author and date; None when nothing readable is on it."""
    import trafilatura

    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    try:
        document = trafilatura.bare_extraction(html, url=url, with_metadata=True, favor_recall=True)
    except Exception as exc:  # the extractor raises many kinds on hostile markup
        log.info("could not extract %s: %s", url, exc)
        document = None
    text = getattr(document, "text", None) if document is not None else None
    if not text or len(text.split()) < 20:
        return None
    title = getattr(document, "title", None) or (fallback.title if fallback else "")
    # Trafilatura repeats the headline as the text's first line; the title field already has it.
    lines = text.splitlines()
    if title and lines and lines[0].strip() == title.strip():
        text = "\n".join(lines[1:])
    try:
        published = normalise_published(getattr(document, "date", None)) or (fallback.published if fallback else None)
    except ValueError:
        published = fallback.published if fallback else None
    return Article(
        url=url,
        text=text.strip(),
        title=" ".join(title.split()),
        published=published,
        source=source,
        author=getattr(document, "author", None) or "",
        image=(fallback.image if fallback else None) or image_url(getattr(document, "image", None), url),
    )


def summary_article(entry: FeedEntry, source: str) -> Article | None:
    """The feed's own summary as the article, marked so, when the page cannot be read."""
    if not entry.summary.strip():
        return None
    return Article(
        url=entry.url,
        text=entry.summary.strip(),
        title=entry.title,
        published=entry.published,
        source=source,
        summary_only=True,
        image=entry.image,
    )
