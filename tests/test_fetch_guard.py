"""The fetcher cannot be steered inward, held open, or stopped by one bad entry (issue 13, items 2-4)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from index.config import FetchLimits
from index.intake import Fetcher, FetchError
from index.intake.fetch import is_public, resolve_url
from tests.newsserver import Handler, NewsServer

PUBLIC = "93.184.216.34"  # a public address; nothing here can reach it, which is the point


@pytest.fixture
def server():
    with NewsServer() as running:
        yield running


@pytest.fixture
def fake_dns(monkeypatch):
    """Names under .test resolve to what the test says, answer after answer; others resolve as usual."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".test"):
            queue = answers[host]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_dns_rebinding_cannot_reach_loopback(server, fake_dns):
    # Public when checked, loopback when asked again: the connection must go to the checked address.
    fake_dns["rebind.test"] = [PUBLIC, "127.0.0.1"]
    fetcher = Fetcher(FetchLimits(connect_timeout=1, read_timeout=1, total_seconds=2))
    port = server.server.server_port
    with pytest.raises(FetchError):
        fetcher.get(f"http://rebind.test:{port}/rss.xml")
    assert Handler.hits.get("/rss.xml") is None


def test_redirect_to_a_rebinding_host_is_checked_and_pinned(server, fake_dns):
    fake_dns["hop.test"] = [PUBLIC, "127.0.0.1"]
    limits = FetchLimits(connect_timeout=1, read_timeout=1, total_seconds=3, allowed_hosts=frozenset({"127.0.0.1"}))
    port = server.server.server_port
    Handler.redirect_to = f"http://hop.test:{port}/rss.xml"
    with pytest.raises(FetchError):
        Fetcher(limits).get(f"{server.base}/redirect-away")
    assert Handler.hits.get("/redirect-away") == 1 and Handler.hits.get("/rss.xml") is None


def test_pinned_connection_keeps_the_host_name(server, fake_dns):
    fake_dns["herald.test"] = ["127.0.0.1"]
    limits = FetchLimits(total_seconds=5, allowed_hosts=frozenset({"herald.test"}))
    port = server.server.server_port
    fetched = Fetcher(limits).get(f"http://herald.test:{port}/rss.xml")
    assert fetched.status == 200 and b"<rss" in fetched.body
    assert Handler.hosts == [f"herald.test:{port}"]


@pytest.mark.parametrize(
    "address",
    ["::ffff:127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:7f00:1::1", "2002:c0a8:101::1", "::127.0.0.1"],
)
def test_ipv4_wrapped_in_ipv6_is_judged_by_the_inner_address(address, fake_dns):
    assert not is_public(ipaddress.ip_address(address))
    fake_dns["wrapped.test"] = [address]
    with pytest.raises(FetchError, match="non-public address"):
        resolve_url("http://wrapped.test/feed.xml")


def test_public_ipv6_and_wrapped_public_ipv4_pass():
    assert is_public(ipaddress.ip_address("2606:4700::6810:84e5"))
    assert is_public(ipaddress.ip_address("64:ff9b::5db8:d822"))  # NAT64 of 93.184.216.34


def test_refusal_names_the_setting_that_allows_local_hosts(server):
    with pytest.raises(FetchError, match="allowed_hosts"):
        resolve_url(f"{server.base}/rss.xml")


@pytest.mark.parametrize("url", ["http://" + "x" * 70 + ".example.org/a", "http://news.example.org:99999/a"])
def test_malformed_urls_are_a_clear_error(url):
    with pytest.raises(FetchError, match="not a valid URL"):
        resolve_url(url)


def test_trickled_headers_hit_the_whole_request_deadline(server):
    limits = FetchLimits(connect_timeout=2, read_timeout=2, total_seconds=2, allowed_hosts=frozenset({"127.0.0.1"}))
    # "too slow" is the deadline's own error: without the deadline the 20 s trickle ends in a response
    with pytest.raises(FetchError, match="too slow"):
        Fetcher(limits).get(f"{server.base}/trickle-headers")
