"""A real HTTP server on 127.0.0.1 serving feeds and pages, good and hostile, for the feed tests."""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def page(title: str, body: str) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n"))
    return (
        f"<html><head><title>{title} | Test Herald</title>"
        f'<meta name="author" content="Dana Reporter"><meta property="article:published_time" '
        f'content="2025-11-02T09:00:00Z"></head><body><nav>Home World Sport</nav>'
        f"<article><h1>{title}</h1>{paragraphs}</article><footer>Copyright Test Herald</footer></body></html>"
    ).encode()


FERRY = (
    "A passenger ferry ran aground off the island of Kelmar on Saturday evening, the coast guard said.\n"
    "All 212 passengers and crew were taken ashore by lifeboats before midnight, and nobody was badly hurt.\n"
    "Investigators from the maritime safety board will examine why the vessel left the marked channel."
)
BRIDGE = (
    "The new Harlow river bridge opened to traffic on Monday after four years of construction work.\n"
    "City engineers said the crossing will carry about 30,000 vehicles a day and cut journey times.\n"
    "The project cost 410 million dollars, somewhat more than the original budget approved by the council."
)
ORCHESTRA = (
    "The Northfield Youth Orchestra won the national championship in the capital on Sunday afternoon.\n"
    "Conductor Mira Castellane said the ninety young musicians had rehearsed every weekend since spring.\n"
    "The orchestra will perform its winning programme again at the city hall next month for local schools."
)


def rss(base: str) -> bytes:
    items = [
        ("Ferry runs aground off Kelmar", f"{base}/articles/ferry.html?utm_source=rss&utm_medium=feed", "ferry"),
        ("Harlow bridge opens", "/articles/bridge.html", "bridge"),  # a relative link
        # On another host name, so its 503 backs off that host only.
        (
            "Orchestra wins title",
            base.replace("127.0.0.1", "localhost") + "/articles/broken.html",
            "The Northfield Youth Orchestra won the "
            "national youth championship on Sunday, its conductor Mira Castellane said after the final.",
        ),
    ]
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><description>{d}</description>"
        f"<pubDate>Sun, 02 Nov 2025 09:00:00 GMT</pubDate></item>"
        for t, link, d in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test Herald</title>'
        f"<link>{base}/</link>{body}</channel></rss>"
    ).encode()


def atom(base: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Other Wire</title>'
        "<entry><title>Ferry aground, all safe</title>"
        f'<link href="{base}/wire/ferry-copy.html?utm_campaign=syndication"/>'
        "<id>urn:wire:1</id><updated>2025-11-02T10:00:00Z</updated><summary>Ferry story.</summary></entry>"
        f'<entry><title>Ferry story again</title><link href="{base}/articles/ferry.html#comments"/>'
        "<id>urn:wire:2</id><updated>2025-11-02T10:00:00Z</updated><summary>Same URL.</summary></entry>"
        "</feed>"
    ).encode()


def bad_entries(base: str) -> bytes:
    """A feed whose first two links cannot even be parsed (a 70-character DNS label, port 99999)."""
    label = "x" * 70
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Rough Feed</title>'
        f"<item><title>Long label</title><link>http://{label}.example.org/story</link></item>"
        "<item><title>Bad port</title><link>http://news.example.org:99999/story</link></item>"
        f"<item><title>Harlow bridge opens</title><link>{base}/articles/bridge.html</link></item>"
        "</channel></rss>"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}
    hosts: list[str] = []  # the Host header of every request
    redirect_to = ""  # where /redirect-away sends the client

    def log_message(self, *args):  # keep test output clean
        pass

    def send(self, status: int, body: bytes, content_type: str = "text/html", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: C901 - one route a branch is the clearest here
        path = self.path.split("?")[0].split("#")[0]
        Handler.hits[path] = Handler.hits.get(path, 0) + 1
        Handler.hosts.append(self.headers.get("Host", ""))
        base = f"http://127.0.0.1:{self.server.server_port}"
        if path == "/rss.xml":
            if self.headers.get("If-None-Match") == '"rss-v1"':
                self.send_response(304)
                self.end_headers()
                return
            self.send(200, rss(base), "application/rss+xml", {"ETag": '"rss-v1"'})
        elif path == "/atom.xml":
            self.send(200, atom(base), "application/atom+xml")
        elif path in ("/articles/ferry.html", "/wire/ferry-copy.html"):
            extra = "\nThis report was distributed by Other Wire." if "wire" in path else ""
            self.send(200, page("Ferry runs aground off Kelmar", FERRY + extra))
        elif path == "/articles/bridge.html":
            self.send(200, page("Harlow bridge opens", BRIDGE))
        elif path == "/articles/broken.html":
            self.send(503, b"busy", headers={"Retry-After": "120"})
        elif path == "/redirect":
            self.send(302, b"", headers={"Location": "/rss.xml"})
        elif path == "/redirect-away":
            self.send(302, b"", headers={"Location": Handler.redirect_to})
        elif path == "/loop":
            self.send(302, b"", headers={"Location": "/loop"})
        elif path == "/malformed.xml":
            self.send(200, b"<?xml version='1.0'?><rss><channel><item><title>broken", "application/rss+xml")
        elif path == "/not-a-feed":
            self.send(200, b"<html><body><p>Welcome to our homepage.</p></body></html>")
        elif path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(50_000_000))
            self.end_headers()
            self.wfile.write(b"<rss>" + b" " * 100_000)
        elif path == "/huge-chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()  # no length: read until the cap
            try:
                for _ in range(200):
                    self.wfile.write(b" " * 100_000)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            try:
                for _ in range(20):
                    self.wfile.write(b"<!-- still here -->")
                    self.wfile.flush()
                    time.sleep(0.3)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/trickle-headers":  # headers a byte at a time: never idle, never done
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for byte in b"X-Padding: " + b"a" * 60:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.3)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/bad-entries.xml":
            self.send(200, bad_entries(base), "application/rss+xml")
        elif path == "/bomb":
            self.send(200, gzip.compress(b"\0" * 30_000_000), "application/rss+xml", {"Content-Encoding": "gzip"})
        elif path == "/untitled.xml":  # a feed that gives itself no title
            body = (
                '<?xml version="1.0"?><rss version="2.0"><channel><item><title>Harlow bridge opens</title>'
                f"<link>{base}/articles/bridge.html</link></item></channel></rss>"
            )
            self.send(200, body.encode(), "application/rss+xml")
        elif path == "/long.xml":  # more entries than a poll reads
            items = "".join(
                f"<item><title>Notice {i}</title><link>{base}/notices/{i}</link></item>" for i in range(2000)
            )
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Notices</title>{items}</channel></rss>'
            self.send(200, body.encode(), "application/rss+xml")
        elif path == "/latin1.xml":
            body = (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Café</title><item>'
                f"<title>Caf\xe9 opens</title><link>{base}/articles/bridge.html</link></item></channel></rss>"
            )
            self.send(200, body.encode("latin-1"), "application/rss+xml")
        else:
            self.send(404, b"not found")


class NewsServer:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> NewsServer:
        Handler.hits = {}
        Handler.hosts = []
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
