"""How long one poll of a 50-entry feed takes locally, and how much of it is fetching, extraction
and embedding. Serves a generated feed and pages from 127.0.0.1.

    python benchmarks/poll.py [--entries 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from functools import wraps
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import index.intake.poller as poller_module
from index import Library, LibraryConfig
from index.intake import Chunker, Fetcher
from index.retrieval import Embedder

ROOT = Path(__file__).resolve().parent.parent

WORDS = (
    "council mayor budget school road river bridge museum festival railway station harbour vote court "
    "judge police market farmer storm flood rescue hospital doctor nurse teacher student minister party "
    "election campaign contract company factory worker strike union price energy grid solar wind coast "
    "island village city district county province nation border treaty summit league match player coach"
).split()


def article_html(number: int) -> bytes:
    """A distinct story per number: random sentences, so dedup does not fold them together."""
    rng = random.Random(number)
    sentences = [" ".join(rng.choice(WORDS) for _ in range(22)).capitalize() + "." for _ in range(25)]
    paragraphs = "".join(f"<p>{s}</p>" for s in sentences)
    return (
        f"<html><head><title>Story {number}</title></head><body><article><h1>Update {number}</h1>"
        f"{paragraphs}</article></body></html>"
    ).encode()


def make_handler(entries: int):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            base = f"http://127.0.0.1:{self.server.server_port}"
            if self.path.startswith("/feed"):
                run = self.path.split("=")[-1]
                items = "".join(
                    f"<item><title>Story {i}</title><link>{base}/story/{run}/{i}</link>"
                    f"<description>Summary {i}</description></item>"
                    for i in range(entries)
                )
                body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>{items}</channel></rss>'
                body = body.encode()
            else:
                body = article_html(int(self.path.rsplit("/", 1)[-1]) + 1000 * int(self.path.split("/")[2]))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def timed(totals: dict, key: str, function):
    @wraps(function)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[key] = totals.get(key, 0.0) + time.perf_counter() - started

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.entries))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        totals: dict[str, float] = {}
        # The stages timed from outside: the library is given an embedder and a chunker whose work
        # is clocked, and the fetcher's and extractor's functions are wrapped where they live.
        embedder, chunker = Embedder(), Chunker()
        embedder.encode = timed(totals, "embed", embedder.encode)
        chunker.split = timed(totals, "split", chunker.split)
        poller_module.extract_article = timed(totals, "extract", poller_module.extract_article)
        Fetcher.get = timed(totals, "fetch", Fetcher.get)
        config = LibraryConfig(
            data_dir=Path(folder), fetch_allowed_hosts=("127.0.0.1",), max_entries_per_poll=args.entries
        )
        library = Library(config, embedder=embedder, chunker=chunker)
        library.warm_up()
        for run in range(args.runs):
            totals.clear()
            source = library.add_source(f"http://127.0.0.1:{server.server_port}/feed?run={run}", f"bench {run}")
            started = time.perf_counter()
            report = library.poll(source_ids=[source.id])
            total = time.perf_counter() - started
            rows.append(replace_totals(totals, total, report.new))
    server.shutdown()
    for key in ("total", "fetch", "extract", "split", "embed"):
        values = [r[key] for r in rows]
        share = statistics.median(r[key] / r["total"] for r in rows) * 100
        print(
            f"{key:<8} median {statistics.median(values):6.2f} s  range {min(values):.2f}-{max(values):.2f} s"
            f"  {share:5.1f}% of the poll"
        )
    print(f"articles per poll: {rows[0]['new']}")


def replace_totals(totals: dict, total: float, new: int) -> dict:
    return {"total": total, "new": new, **{k: totals.get(k, 0.0) for k in ("fetch", "extract", "split", "embed")}}


if __name__ == "__main__":
    main()
