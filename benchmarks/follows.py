"""Follow delivery at scale: the library's work in one delivery pass over 1,000 follows (40
servers x 25) when 50 new stories have come, on a SQLite library of 100k passages; 200 of the
follows are of a feed (a source), every other one of those with a topic too. Half the new stories
are short (their first passage only, as a feed's summary), so the pass also embeds every topic's
tuned vector (index/retrieval/topic_encoder.py) once, as a new process's first pass does.

    python benchmarks/follows.py [--cache benchmarks/cache/realtimeqa] [--passages 100000]
                                 [--follows 1000] [--feed-follows 200] [--feeds 20] [--stories 50]
                                 [--short 25] [--folder DIR]

The library is assembled from the realtimeqa benchmark's cached weekly indexes
(`python benchmarks/realtimeqa.py` builds them), their passages and vectors written through the
store's own write path; where the cache holds fewer than --passages, its stories are written again
under other addresses until it does. The follows' topics are the short topics of
`benchmarks/data/topic_set.json` and each of them joined with one of 25 places ("wildfires in
Spain"), so each server's 25 differ. The 50 new stories are cached stories not yet in the
library, written the same way (ingesting is not part of a pass), each of one of --feeds sources, as
a poll stores them.

A pass does what `bot/cogs/follows.py` asks of the library: the news of every follow at once, then
for each story to post the channel's earlier post of its event, the post's mark in flight and its
record, and each follow's cursor moved. Prints the seconds of the pass with 50 new stories, and of the next
pass (nothing new), and how many posts the pass made.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from parts import StoreParts
from speed import CACHE, cached_articles

from index import Library, LibraryConfig

ROOT = Path(__file__).resolve().parent.parent

PLACES = [
    *("Spain", "Japan", "Brazil", "Kenya", "Canada", "India", "Texas", "Australia", "Germany", "Mexico"),
    *("France", "Italy", "Nigeria", "Egypt", "Chile", "Peru", "Ohio", "Florida", "Scotland", "Ireland"),
    *("Korea", "Turkey", "Poland", "Greece", "Norway"),
]


def topics(count: int) -> list[str]:
    topic_set = json.loads((ROOT / "benchmarks" / "data" / "topic_set.json").read_text(encoding="utf-8"))
    short = [entry["topic"] for entry in topic_set["topics"]]
    found = list(short)
    for place in PLACES:
        found += [f"{topic} in {place}" for topic in short]
    return found[:count]


def write(library: Library, stories: list[tuple]) -> None:
    StoreParts(library.config).write(stories)


def assemble(library: Library, source: list[tuple], passages: int) -> int:
    """Write `source` stories, again and again under other addresses, until `passages`."""
    written, copy, batch = 0, 0, []
    while written < passages:
        for article, article_passages, vectors in source:
            url = article.url if copy == 0 else f"{article.url}#copy-{copy}"
            batch.append((replace(article, url=url), article_passages, vectors))
            written += len(article_passages)
            if len(batch) >= 500 or written >= passages:
                write(library, batch)
                batch = []
            if written >= passages:
                break
        copy += 1
    return written


def delivery_pass(library: Library, follows: list) -> tuple[float, int]:
    """The library's side of one pass (`bot/cogs/follows.py`); seconds and posts made."""
    started, posts = time.perf_counter(), 0
    news = library.following.news_of(follows)
    for follow in follows:
        items, newest = news[follow.id]
        for item in items:
            earlier = library.following.earlier_post(follow.channel_id, item.article_id)
            posts += earlier is None
            if earlier is None:
                library.following.sending(follow, item.article_id, None)
            library.following.posted(follow, item.article_id, earlier if earlier is not None else 10**9 + posts)
        if newest > follow.cursor:
            library.following.dealt_with(follow, newest)
    return time.perf_counter() - started, posts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--follows", type=int, default=1000)
    parser.add_argument("--stories", type=int, default=50)
    parser.add_argument("--feed-follows", type=int, default=200, help="of --follows, how many follow a feed")
    parser.add_argument("--feeds", type=int, default=20, help="the sources the new stories come from")
    parser.add_argument("--short", type=int, default=25, help="of --stories, how many are one passage long")
    parser.add_argument("--folder", type=Path, help="where the library is built (default: a temporary folder)")
    args = parser.parse_args()
    source = list(cached_articles(10**9, args.cache))
    if len(source) <= args.stories:
        print(f"skipped: no cached weekly indexes under {args.cache} (run benchmarks/realtimeqa.py first)")
        return 0
    fresh, kept = source[: args.stories], source[args.stories :]
    fresh = [(a, p[:1], v[:1]) if n < args.short else (a, p, v) for n, (a, p, v) in enumerate(fresh)]
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.folder or Path(temporary)
        library = Library(LibraryConfig(data_dir=folder / "library"))
        started = time.perf_counter()
        written = assemble(library, kept, args.passages)
        took = time.perf_counter() - started
        print(f"library: {written:,} passages from {len(kept):,} cached stories ({took:.0f} s)")
        started = time.perf_counter()
        feeds = []
        for n in range(args.feeds):
            (folder / f"feed-{n}").mkdir(parents=True, exist_ok=True)
            feeds.append(library.add_source(str(folder / f"feed-{n}"), f"Feed {n}"))
        per_guild = 25
        names = topics(args.follows)
        feed_from = args.follows - args.feed_follows  # the last follow a feed, every other one a topic in it
        follows = [
            library.following.add(
                1 + n // per_guild,
                1000 + n // 5,
                names[n] if n < feed_from or n % 2 else None,
                7,
                str(feeds[n % len(feeds)].id) if n >= feed_from else None,
            )
            for n in range(args.follows)
        ]
        made = time.perf_counter() - started
        print(f"{len(follows)} follows made ({args.feed_follows} of a feed), topics embedded once ({made:.0f} s)")
        write(library, [(replace(a, source_id=feeds[i % len(feeds)].id), p, v) for i, (a, p, v) in enumerate(fresh)])
        follows = library.following.all()
        seconds, posts = delivery_pass(library, follows)
        print(f"pass with {len(fresh)} new stories: {seconds:.2f} s of library work, {posts} posts")
        seconds, posts = delivery_pass(library, library.following.all())
        print(f"next pass, nothing new: {seconds:.2f} s, {posts} posts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
