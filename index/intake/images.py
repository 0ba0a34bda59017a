"""Story images: the picture a feed entry (media:content, media:thumbnail, an image enclosure) or a
page (og:image) names, kept as an https URL only. Discord shows it from there: newsbot never fetches it."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from urllib.parse import quote, urljoin, urlsplit

MAX_IMAGE_URL_CHARS = 2000
_IMAGE_ENDINGS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
_UNSAFE = set(' "<>\\^`{|}')  # not allowed unencoded in a URL (RFC 3986)


def image_url(url: object, base: str = "") -> str | None:
    """`url` (a relative one resolved against `base`, the feed's or page's address) when it is an https
    URL Discord can show as it stands, else None: no data:, javascript: or http: URL, none with a user
    or password, one with a host, no space or control character, at most MAX_IMAGE_URL_CHARS."""
    if not isinstance(url, str) or not (url := url.strip()) or len(url) > MAX_IMAGE_URL_CHARS:
        return None
    if base and "://" not in url.split("?", 1)[0]:
        url = urljoin(base, url)
    if any(unicodedata.category(c)[0] in "CZ" or c in _UNSAFE for c in url):
        return None
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError:  # a malformed port or bracketed host
        return None
    if parts.scheme.lower() != "https" or not host or "@" in parts.netloc or not parts.netloc.isascii():
        return None
    url = "https" + url[len(parts.scheme) :]  # "HTTPS://" as Discord expects it
    if not url.isascii():  # words of another script in the path: as a browser sends them
        url = quote(url, safe=":/?#[]@!$&'()*+,;=%~")
    return url if len(url) <= MAX_IMAGE_URL_CHARS else None


def entry_image(raw: Mapping, base: str) -> str | None:
    """The first usable image a feedparser entry names: its media:content pictures, then its
    media:thumbnail, then an image enclosure; None when it names none (or none is an https URL)."""
    candidates = []
    for media in raw.get("media_content") or ():
        kind = str(media.get("medium") or media.get("type") or "")
        path = str(media.get("url") or "").split("?", 1)[0].lower()
        if kind == "image" or kind.startswith("image/") or (not kind and path.endswith(_IMAGE_ENDINGS)):
            candidates.append(media.get("url"))
    candidates += [thumbnail.get("url") for thumbnail in raw.get("media_thumbnail") or ()]
    candidates += [
        enclosure.get("href")
        for enclosure in raw.get("enclosures") or ()
        if str(enclosure.get("type") or "").startswith("image/")
    ]
    return next((found for candidate in candidates if (found := image_url(candidate, base))), None)
