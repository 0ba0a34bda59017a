"""Fetching feeds and pages from the web, defensively.

Only http(s); hosts that resolve to loopback, private, link-local, multicast, reserved or cloud
metadata addresses are refused unless named in `allowed_hosts` (so an admin cannot make the bot
read internal services), checked again on every redirect hop. Connect and read timeouts, a total
deadline (a slow-loris server cannot hold a poll), a cap on the decoded body size (a gzip bomb
stops at the cap), a redirect limit, conditional GET, and per-host backoff after 429/5xx.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from index.errors import NewsbotError

USER_AGENT = "newsbot/0.1 (a Discord news bot; polls feeds politely)"


class FetchError(NewsbotError):
    """A URL could not be fetched; the message says why in one line."""


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_seconds: float = 30.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allowed_hosts: frozenset[str] = frozenset()  # hosts allowed even on private addresses (tests)


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 when not modified
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def check_url(url: str, allowed_hosts: frozenset[str] = frozenset()) -> str:
    """The URL's host if it may be fetched; raises FetchError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs can be fetched, not {parts.scheme or 'a bare path'!r}")
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchError(f"{url!r} has no host")
    if host in allowed_hosts:
        return host
    try:
        infos = socket.getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise FetchError(f"{host} resolves to a non-public address ({address}); refusing to fetch it")
    return host


@dataclass
class HostBackoff:
    """When each host may be asked again after it said 429 or failed with a 5xx."""

    base_seconds: float = 60.0
    max_seconds: float = 3600.0
    _until: dict[str, float] = field(default_factory=dict)
    _strikes: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, host: str) -> float:
        with self._lock:
            return max(0.0, self._until.get(host, 0.0) - time.monotonic())

    def penalise(self, host: str, retry_after: float | None) -> float:
        with self._lock:
            strikes = self._strikes.get(host, 0) + 1
            self._strikes[host] = strikes
            delay = retry_after if retry_after is not None else self.base_seconds * 2 ** (strikes - 1)
            delay = min(max(delay, 1.0), self.max_seconds)
            self._until[host] = time.monotonic() + delay
            return delay

    def forgive(self, host: str) -> None:
        with self._lock:
            self._strikes.pop(host, None)
            self._until.pop(host, None)


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class Fetcher:
    def __init__(self, limits: FetchLimits | None = None, backoff: HostBackoff | None = None) -> None:
        self.limits = limits or FetchLimits()
        self.backoff = backoff or HostBackoff()
        timeout = httpx.Timeout(self.limits.read_timeout, connect=self.limits.connect_timeout)
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"},
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        deadline = time.monotonic() + self.limits.total_seconds
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _ in range(self.limits.max_redirects + 1):
            host = check_url(url, self.limits.allowed_hosts)
            wait = self.backoff.wait_for(host)
            if wait:
                raise FetchError(f"{host} asked us to back off; next try in {wait:.0f} s")
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    if response.status_code == 304:
                        self.backoff.forgive(host)
                        return Fetched(url, 304, etag=etag, last_modified=last_modified)
                    if response.status_code in (301, 302, 303, 307, 308):
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(f"{url}: redirect without a Location")
                        url = urljoin(url, location)
                        continue
                    if response.status_code == 429 or response.status_code >= 500:
                        delay = self.backoff.penalise(host, retry_after_seconds(response.headers.get("retry-after")))
                        raise FetchError(f"{url}: HTTP {response.status_code}; backing off {host} for {delay:.0f} s")
                    if response.status_code >= 400:
                        raise FetchError(f"{url}: HTTP {response.status_code}")
                    body = self._read_body(response, url, deadline)
                    self.backoff.forgive(host)
                    return Fetched(
                        url,
                        response.status_code,
                        body,
                        etag=response.headers.get("etag"),
                        last_modified=response.headers.get("last-modified"),
                        content_type=response.headers.get("content-type", ""),
                    )
            except httpx.TimeoutException:
                raise FetchError(f"{url}: timed out") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {type(exc).__name__}") from None
        raise FetchError(f"{url}: more than {self.limits.max_redirects} redirects")

    def _read_body(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        """The decoded body, never more than max_bytes of it, within the total deadline."""
        limit = self.limits.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{url}: too large ({int(declared):,} bytes; at most {limit:,})")
        encoding = response.headers.get("content-encoding", "").lower().strip()
        decoder = None
        if encoding in ("gzip", "x-gzip"):
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            decoder = zlib.decompressobj()
        elif encoding not in ("", "identity"):
            raise FetchError(f"{url}: unsupported content encoding {encoding!r}")
        parts: list[bytes] = []
        size = 0
        for raw in response.iter_raw():
            if time.monotonic() > deadline:
                raise FetchError(f"{url}: too slow (over {self.limits.total_seconds:.0f} s)")
            chunk = raw
            if decoder is not None:
                try:
                    # max_length bounds the memory one compressed chunk can expand into.
                    chunk = decoder.decompress(raw, limit - size + 1)
                except zlib.error:
                    raise FetchError(f"{url}: corrupt compressed body") from None
                if decoder.unconsumed_tail:
                    raise FetchError(f"{url}: too large once decompressed (over {limit:,} bytes)")
            size += len(chunk)
            if size > limit:
                raise FetchError(f"{url}: too large (over {limit:,} bytes)")
            parts.append(chunk)
        return b"".join(parts)
