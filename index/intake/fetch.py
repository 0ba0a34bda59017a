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
from dataclasses import dataclass
from urllib.parse import urljoin

import httpcore
import httpx

from index.config import FetchLimits
from index.errors import FetchError, RefusedURLError
from index.intake.backoff import HostBackoff, retry_after_seconds

USER_AGENT = "newsbot/0.1 (a Discord news bot; polls feeds politely)"


_HTTP_ERRORS = {  # httpx's error names, said in words
    "RemoteProtocolError": "the server broke off or answered in a way HTTP does not allow",
    "ReadError": "the connection broke while reading",
    "WriteError": "the connection broke while sending the request",
    "TooManyRedirects": "too many redirects",
    "UnsupportedProtocol": "not an http(s) address",
    "LocalProtocolError": "the request could not be sent",
}


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


# IPv6 prefixes that carry an IPv4 address in their low bits: NAT64 (well-known and local-use)
# and the deprecated IPv4-compatible form. 6to4 and IPv4-mapped have their own properties.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def inner_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address wraps (mapped, 6to4, NAT64, compatible, Teredo), if any."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if any(address in net for net in _NAT64) or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable unicast address, also for every IPv4 address wrapped inside IPv6."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address) and (inner := inner_ipv4(address)) is not None:
        return is_public(inner)
    return True


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host as sent on the wire (IDNA, lower case), port); FetchError for a malformed URL."""
    try:
        parsed = httpx.URL(url)
        scheme, host, port = parsed.scheme, parsed.raw_host.decode("ascii").lower(), parsed.port
    except (httpx.InvalidURL, UnicodeError, ValueError, TypeError) as exc:
        raise RefusedURLError(f"not a valid URL: {url[:200]!r} ({exc})") from None
    if scheme not in ("http", "https"):
        raise RefusedURLError(f"only http and https URLs can be fetched, not {scheme or 'a bare path'!r}")
    if not host:
        raise RefusedURLError(f"{url[:200]!r} has no host")
    if not host.startswith("[") and (len(host) > 253 or any(len(label) > 63 for label in host.split("."))):
        raise RefusedURLError(f"not a valid URL: {url[:200]!r} (a host name label is over 63 characters)")
    if port is not None and not 0 < port < 65536:
        raise RefusedURLError(f"not a valid URL: {url[:200]!r} (port {port} is out of range)")
    return scheme, host, port or (443 if scheme == "https" else 80)


def resolve_url(url: str, allowed_hosts: frozenset[str] = frozenset()) -> tuple[str, str]:
    """(host, the address to connect to) if the URL may be fetched; raises FetchError otherwise.

    The fetcher connects to exactly this address, so a name that resolves somewhere else a moment
    later (DNS rebinding) cannot steer the connection inward."""
    _, host, port = split_url(url)
    literal = host.strip("[]")
    try:
        infos = socket.getaddrinfo(literal, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise FetchError(f"cannot resolve {host}")
    if host not in allowed_hosts:
        for address in addresses:
            if not is_public(address):
                raise RefusedURLError(
                    f"{host} resolves to a non-public address ({address}); refusing to fetch it"
                    " (for local testing only, name the host in fetch_allowed_hosts)",
                    parameters=("fetch_allowed_hosts",),
                )
    return host, str(addresses[0])


def check_url(url: str, allowed_hosts: frozenset[str] = frozenset()) -> str:
    """The URL's host if it may be fetched; raises FetchError otherwise."""
    return resolve_url(url, allowed_hosts)[0]


class _RequestGuard(threading.local):
    """Per thread, for the request in flight: the address each host was pinned to, and the deadline."""

    def __init__(self) -> None:
        self.pins: dict[str, str] = {}
        self.deadline: float | None = None

    def timeout(self, timeout: float | None) -> float | None:
        """The operation's own timeout, shortened to what is left of the whole request's deadline."""
        if self.deadline is None:
            return timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the download deadline passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read, write and TLS handshake ends by the request's deadline,
    so a server trickling its headers a byte at a time cannot hold a fetch open."""

    def __init__(self, stream: httpcore.NetworkStream, guard: _RequestGuard) -> None:
        self._stream = stream
        self._guard = guard

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._guard.timeout(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._guard.timeout(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        stream = self._stream.start_tls(ssl_context, server_hostname, self._guard.timeout(timeout))
        return _DeadlineStream(stream, self._guard)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _PinnedBackend(httpcore.SyncBackend):
    """Connects to the address `resolve_url` checked, never to a fresh DNS answer. TLS still
    verifies the certificate against the host name (httpcore passes it as the server name)."""

    def __init__(self, guard: _RequestGuard) -> None:
        self._guard = guard

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        address = self._guard.pins.get(host.lower())
        if address is None:
            raise httpcore.ConnectError(f"{host} was not checked before connecting; refusing")
        stream = super().connect_tcp(address, port, self._guard.timeout(timeout), local_address, socket_options)
        return _DeadlineStream(stream, self._guard)

    def connect_unix_socket(self, *args, **kwargs):
        raise httpcore.ConnectError("unix sockets are never fetched")


class _PinnedTransport(httpx.HTTPTransport):
    def __init__(self, guard: _RequestGuard) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=_PinnedBackend(guard),
        )


class Fetcher:
    def __init__(self, limits: FetchLimits | None = None, backoff: HostBackoff | None = None) -> None:
        self.limits = limits or FetchLimits()
        self.backoff = backoff or HostBackoff()
        timeout = httpx.Timeout(self.limits.read_timeout, connect=self.limits.connect_timeout)
        self._guard = _RequestGuard()
        self._client = httpx.Client(
            transport=_PinnedTransport(self._guard),
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"},
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """The page at `url`; every hop checked and pinned, the whole of it within `total_seconds`."""
        deadline = time.monotonic() + self.limits.total_seconds
        self._guard.deadline = deadline
        try:
            return self._get(url, etag, last_modified, deadline)
        except httpx.TimeoutException:
            if time.monotonic() >= deadline - 0.05:
                raise FetchError(f"{url}: too slow (over {self.limits.total_seconds:.0f} s)") from None
            raise FetchError(f"{url}: timed out") from None
        except httpx.ConnectError:
            raise FetchError(f"{url}: the server refused or did not answer the connection") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {_HTTP_ERRORS.get(type(exc).__name__, type(exc).__name__)}") from None
        finally:
            self._guard.deadline = None
            self._guard.pins.clear()

    def _get(self, url: str, etag: str | None, last_modified: str | None, deadline: float) -> Fetched:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _ in range(self.limits.max_redirects + 1):
            host, address = resolve_url(url, self.limits.allowed_hosts)
            wait = self.backoff.wait_for(host)
            if wait:
                raise FetchError(f"{host} asked us to back off; next try in {wait:.0f} s", retry_after=wait)
            self._guard.pins[host] = address
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
                    raise FetchError(
                        f"{url}: HTTP {response.status_code}; backing off {host} for {delay:.0f} s", retry_after=delay
                    )
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
