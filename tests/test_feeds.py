"""Live sources against a real HTTP server on 127.0.0.1: feeds, pages, dedup, and hostile servers."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from index import NewsbotError
from index.config import LibraryConfig
from index.intake import Fetcher, FetchError, check_url
from index.intake.dedup import canonical_url
from index.models import Article
from index.store import open_store
from tests.conftest import stored
from tests.newsserver import Handler, NewsServer

# The library's fetch parameters for a server on 127.0.0.1 that answers at once.
TEST_FETCH = {
    "fetch_timeout_seconds": 2,
    "fetch_total_seconds": 2,
    "fetch_max_bytes": 1_000_000,
    "fetch_allowed_hosts": ("127.0.0.1", "localhost"),
}


@pytest.fixture
def server():
    with NewsServer() as running:
        yield running


@pytest.fixture
def feed_library(make_library, tmp_path):
    return make_library(tmp_path / "feeds", **TEST_FETCH)


def test_rss_and_atom_land_once_with_pages_extracted(feed_library, server):
    rss = feed_library.add_source(f"{server.base}/rss.xml", "herald")
    atom = feed_library.add_source(f"{server.base}/atom.xml", "wire")
    report = feed_library.poll(only_due=False)
    assert report.failures == []
    # ferry, bridge, orchestra (from its summary); the wire's syndicated ferry copy is a near-duplicate,
    # and its second entry is the herald's ferry URL with a fragment: each stored once.
    assert report.new == 3 and report.duplicates == 2 and report.summaries == 1
    stats = feed_library.stats()
    assert stats["articles"] == 3 and stats["sources"] == 2 and stats["failing_sources"] == 0
    urls = {s.url for s in feed_library.latest(10)}
    assert f"{server.base}/articles/ferry.html" in urls  # tracking parameters gone
    assert f"{server.base}/articles/bridge.html" in urls  # relative link resolved
    top = feed_library.search("How many passengers were on the ferry that ran aground?", 3)[0]
    assert "212" in top.text and top.story.title == "Ferry runs aground off Kelmar"  # the page's text, indexed
    ferry = stored(feed_library, "SELECT author, summary_only, published FROM articles WHERE url LIKE '%ferry.html'")
    assert ferry == [("Dana Reporter", 0, "2025-11-02")]
    orchestra = stored(feed_library, "SELECT summary_only FROM articles WHERE url LIKE '%broken.html'")
    assert orchestra == [(1,)]  # the page said 503: kept from the feed's summary, and marked so
    assert rss.kind == atom.kind == "web"


def test_a_poll_fingerprints_each_new_story_once_and_reads_the_stored_ones_once(feed_library, server, monkeypatch):
    """The poller fingerprints an entry to spot a copy and hands that fingerprint to ingest with the
    story, and a pass reads the stored fingerprints once, not once a source."""
    from index.store import ArticleStore

    handed: dict[str, tuple[str, bytes]] = {}
    ingested: list[str] = []
    ingest_articles = feed_library.ingest_articles

    def recording(articles, *args, fingerprints=None, **kwargs):
        articles = list(articles)
        ingested.extend(a.url for a in articles)
        handed.update(fingerprints or {})
        return ingest_articles(articles, *args, fingerprints=fingerprints, **kwargs)

    reads: list[int] = []
    read_all = ArticleStore.fingerprints
    monkeypatch.setattr(feed_library, "ingest_articles", recording)
    monkeypatch.setattr(ArticleStore, "fingerprints", lambda self: reads.append(1) or read_all(self))
    feed_library.add_source(f"{server.base}/rss.xml", "herald")
    feed_library.add_source(f"{server.base}/atom.xml", "wire")
    report = feed_library.poll(only_due=False)
    assert report.new == 3 and report.duplicates == 2 and len(ingested) == 3
    # Every story ingested came with the fingerprint the poller made of its text, and that one is kept.
    assert set(handed) == set(ingested)
    for url in ingested:
        kept = stored(feed_library, "SELECT fingerprint FROM articles WHERE url = ?", (url,))
        assert [bytes(row[0]) for row in kept] == [handed[url][1]]
    assert reads == [1]


def test_ingest_keeps_a_fingerprint_handed_to_it_for_the_same_text_only(feed_library):
    """A fingerprint a poll made is kept as given (so it is not made twice); one made of another text
    (the page changed since) is not: ingest fingerprints the text it stores."""
    text = "The river ferry resumed its crossings on Monday after a week of repairs to the landing."
    given = bytes(range(256))  # no text fingerprints to this
    same = Article(url="https://ferry.example/same", title="Ferry back", text=text, published="2025-05-05")
    other = Article(
        url="https://ferry.example/other", title="Ferry again", text=text + " More.", published="2025-05-05"
    )
    feed_library.ingest_articles([same, other], fingerprints={same.url: (text, given), other.url: (text, given)})
    kept = dict(stored(feed_library, "SELECT url, fingerprint FROM articles"))
    assert bytes(kept[same.url]) == given
    assert bytes(kept[other.url]) not in (given, b"") and len(kept[other.url]) == len(given)


def test_second_poll_is_conditional_and_fetches_nothing_new(feed_library, server):
    feed_library.add_source(f"{server.base}/rss.xml")
    feed_library.poll(only_due=False)
    pages_before = Handler.hits.get("/articles/bridge.html", 0)
    report = feed_library.poll(only_due=False)
    assert report.new == 0 and report.failures == []
    assert report.unchanged == 3  # a 304 leaves the feed's 3 entries as they were, and says so
    assert Handler.hits["/rss.xml"] == 2  # asked again, answered 304 Not Modified
    assert Handler.hits.get("/articles/bridge.html", 0) == pages_before
    assert feed_library.poll().sources == 0  # nothing due before the interval


def test_redirect_is_followed_and_checked(feed_library, server):
    feed_library.add_source(f"{server.base}/redirect")
    assert feed_library.poll(only_due=False).new == 3


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/loop", "more than 5 redirects"),
        ("/malformed.xml", "not a readable RSS or Atom feed"),
        ("/not-a-feed", "neither a feed nor a readable article"),
        ("/huge", "too large"),
        ("/huge-chunked", "too large"),
        ("/slow", "too slow"),
        ("/bomb", "too large once decompressed"),
        ("/missing.xml", "HTTP 404"),
    ],
)
def test_broken_sources_are_recorded_and_never_stop_the_others(feed_library, server, path, message):
    bad = feed_library.add_source(f"{server.base}{path}", "bad")
    feed_library.add_source(f"{server.base}/rss.xml", "good")
    report = feed_library.poll(only_due=False)  # it returns: no broken source holds the pass up
    assert len(report.failures) == 1 and message in report.failures[0]
    assert report.new == 3  # the good feed still landed
    failing = feed_library.source(bad.id)
    assert failing.failing and message in failing.last_error and failing.next_poll_at > time.time()
    assert feed_library.stats()["failing_sources"] == 1


def test_wrongly_encoded_feed_is_read(feed_library, server):
    feed_library.add_source(f"{server.base}/latin1.xml")
    report = feed_library.poll(only_due=False)
    assert report.failures == [] and report.new == 1


def test_host_backoff_after_503_with_retry_after(server):
    fetcher = Fetcher(LibraryConfig(data_dir=Path("."), **TEST_FETCH).fetch_limits)
    with pytest.raises(FetchError, match="HTTP 503; backing off 127.0.0.1 for 120 s"):
        fetcher.get(f"{server.base}/articles/broken.html")
    with pytest.raises(FetchError, match="back off"):
        fetcher.get(f"{server.base}/rss.xml")  # same host: not asked until the pause is over
    assert Handler.hits.get("/rss.xml", 0) == 0
    assert fetcher.get(server.base.replace("127.0.0.1", "localhost") + "/rss.xml").status == 200


def test_private_addresses_refused_without_the_test_allowance(make_library, tmp_path, server):
    library = make_library(tmp_path / "strict", **{**TEST_FETCH, "fetch_allowed_hosts": ()})
    with pytest.raises(NewsbotError, match="non-public address"):
        library.add_source(f"{server.base}/rss.xml")
    for url in (
        "http://localhost/",
        "http://10.0.0.8/feed",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://192.168.1.1/",
    ):
        with pytest.raises(FetchError, match="non-public address"):
            check_url(url)
    for url in ("file:///etc/passwd", "ftp://example.org/feed", "gopher://x"):
        with pytest.raises(FetchError, match="only http and https"):
            check_url(url)
    # A redirect to a private address is refused at the hop, not followed.
    fetcher = Fetcher(LibraryConfig(data_dir=Path("."), **{**TEST_FETCH, "fetch_allowed_hosts": ()}).fetch_limits)
    with pytest.raises(FetchError, match="non-public address"):
        fetcher.get(f"{server.base}/redirect")


def test_retention_removes_old_articles_atomically(feed_library, server):
    feed_library.add_source(f"{server.base}/rss.xml")
    feed_library.poll(only_due=False)
    assert feed_library.remove_old(days=100_000) == 0
    removed = feed_library.remove_old(days=1)  # the stories are dated November 2025
    assert removed == 3
    stats = feed_library.stats()
    assert stats["articles"] == 0 and stats["passages"] == 0
    assert feed_library.stats()["vectors"] == 0


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://WWW.Example.com/a/b/?utm_source=x&id=7#top", "https://www.example.com/a/b?id=7"),
        ("https://amp.example.com/story.amp.html", "https://example.com/story.html"),
        ("https://example.com/story/amp/", "https://example.com/story"),
        ("http://example.com:80/x?b=2&a=1&fbclid=zz", "http://example.com/x?a=1&b=2"),
    ],
)
def test_canonical_urls(url, canonical):
    assert canonical_url(url) == canonical


def test_single_article_url_source(feed_library, server):
    feed_library.add_source(f"{server.base}/articles/bridge.html?utm_source=share", "bridge page")
    report = feed_library.poll(only_due=False)
    assert report.new == 1 and report.failures == []
    [story] = feed_library.latest(5)
    assert story.title == "Harlow bridge opens" and story.url == f"{server.base}/articles/bridge.html"


def test_adding_a_feed_longer_than_a_poll_reads_says_how_long_it_is_and_how_much_is_read(server, tmp_path):
    from tests.test_cli import newsbot

    env = {"NEWSBOT_FETCH_ALLOWED_HOSTS": "127.0.0.1", "NEWSBOT_MAX_ENTRIES_PER_POLL": "40"}
    added = newsbot("sources", "add", f"{server.base}/long.xml", data_dir=tmp_path / "long", env_extra=env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip().endswith(
        ": a feed of 2,000 entries; each poll reads the first 40 (NEWSBOT_MAX_ENTRIES_PER_POLL is 40)"
    )


def test_cli_sources_and_poll(server, tmp_path):
    from tests.test_cli import newsbot

    env = {"NEWSBOT_FETCH_ALLOWED_HOSTS": "127.0.0.1,localhost"}  # as people type a list
    data = tmp_path / "cli-feeds"
    added = newsbot("sources", "add", f"{server.base}/rss.xml", "--name", "herald", data_dir=data, env_extra=env)
    assert added.returncode == 0 and "added source 1 (web): herald" in added.stdout
    assert added.stdout.strip().endswith(": a feed of 3 entries")  # what was found, said at add time
    page = newsbot("sources", "add", f"{server.base}/not-a-feed", data_dir=data, env_extra=env)
    assert page.returncode == 1 and "neither a feed nor a readable article" in page.stderr
    polled = newsbot("poll", data_dir=data, env_extra=env)
    assert polled.returncode == 0, polled.stderr
    assert polled.stdout.splitlines() == [
        "source 1 (herald): 3 new, 0 updated, 0 unchanged, 0 duplicates",
        "polled 1 source: 3 new, 0 updated, 0 unchanged, 0 duplicates, 0 failures; 1 stored from feed summaries",
    ]
    assert "HTTP Request" not in polled.stderr
    gone = newsbot("sources", "add", f"{server.base}/missing.xml", "--name", "gone", data_dir=data, env_extra=env)
    assert gone.returncode == 1 and "HTTP 404" in gone.stderr and "not added" in gone.stderr  # read once at add time
    added = newsbot(
        "sources", "add", f"{server.base}/missing.xml", "--name", "gone", "--no-check", data_dir=data, env_extra=env
    )
    assert added.returncode == 0 and "added source 2 (web): gone" in added.stdout
    failing = newsbot("poll", data_dir=data, env_extra=env)
    assert failing.returncode == 1
    assert "source 2 (gone): FAILED: " in failing.stdout and "HTTP 404" in failing.stdout
    assert "HTTP 404" not in failing.stderr  # reported once, on its own line
    assert failing.stdout.splitlines()[-1].startswith("polled 2 sources:")
    listed = json.loads(newsbot("sources", "list", "--json", data_dir=data, env_extra=env).stdout)
    assert listed[0]["name"] == "herald" and listed[0]["failures"] == 0 and listed[0]["etag"] == '"rss-v1"'
    refused = newsbot("sources", "add", f"{server.base}/atom.xml", data_dir=data)  # no test allowance
    assert refused.returncode == 1 and "non-public address" in refused.stderr
    assert "NEWSBOT_FETCH_ALLOWED_HOSTS" in refused.stderr
    assert "--no-check" not in refused.stderr  # it would be refused just the same
    unchecked = newsbot("sources", "add", f"{server.base}/atom.xml", "--no-check", data_dir=data)
    assert unchecked.returncode == 1 and "NEWSBOT_FETCH_ALLOWED_HOSTS" in unchecked.stderr
    removed = newsbot("sources", "remove", "1", data_dir=data)
    assert removed.returncode == 0 and "removed source 1: herald" in removed.stdout
    assert "no source with id 1" in newsbot("sources", "remove", "1", data_dir=data).stderr


def test_one_bad_entry_never_stops_the_poll(feed_library, server):
    rough = feed_library.add_source(f"{server.base}/bad-entries.xml", "rough")
    good = feed_library.add_source(f"{server.base}/atom.xml", "wire")
    report = feed_library.poll(only_due=False)
    assert report.sources == 2
    # The long label's page cannot be fetched and it has no summary: skipped. The bad port cannot even
    # be made canonical: that entry is a recorded failure. Neither stops the pass.
    assert len(report.failures) == 1 and "1 entry failed" in report.failures[0]
    assert "Port out of range" in report.failures[0]
    assert any(s.url.endswith("/articles/bridge.html") for s in feed_library.latest(10))  # the good entry landed
    recorded = feed_library.source(rough.id)
    assert recorded.failing and "1 entry failed" in recorded.last_error and recorded.last_polled_at
    assert not feed_library.source(good.id).failing and feed_library.source(good.id).last_polled_at


def test_any_exception_from_a_source_is_recorded_and_the_pass_goes_on(feed_library, server, tmp_path, monkeypatch):
    folder = tmp_path / "drop"
    folder.mkdir()
    local = feed_library.add_source(str(folder), "drop folder")
    feed_library.add_source(f"{server.base}/rss.xml", "herald")

    walk = os.walk

    def unreadable(top, *args, **kwargs):
        if os.fspath(top) == str(folder):
            raise PermissionError(13, "Permission denied", str(folder))
        return walk(top, *args, **kwargs)

    monkeypatch.setattr(os, "walk", unreadable)  # root reads everything: simulate the folder failing
    report = feed_library.poll(only_due=False)
    assert report.new == 3 and len(report.failures) == 1 and "PermissionError" in report.failures[0]
    assert feed_library.source(local.id).failing
    assert "Permission denied" in feed_library.source(local.id).last_error


def test_poll_budget_leaves_the_rest_for_the_next_pass(make_library, tmp_path, server):
    library = make_library(tmp_path / "budget", **TEST_FETCH, poll_budget_seconds=0.5)
    slow = library.add_source(f"{server.base}/slow", "slow")
    herald = library.add_source(f"{server.base}/rss.xml", "herald")
    report = library.poll(only_due=False, source_ids=[slow.id, herald.id])
    assert report.sources == 1 and report.postponed == 1 and "1 sources left for the next pass" in report.line()
    assert library.source(herald.id).last_polled_at is None  # still due
    assert [s.id for s in library.sources() if s.next_poll_at <= time.time()] == [herald.id]


def test_feed_credentials_are_masked_in_everything_shown_and_kept_for_fetching(server, tmp_path):
    """A source URL with `user:pass@` or `?apikey=`: `sources add`, `poll`'s failure line, `sources
    list` and its JSON show it masked; the feed is still read with the credentials."""
    from tests.test_cli import newsbot

    env = {"NEWSBOT_FETCH_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    data = tmp_path / "secret-feeds"
    host = server.base.split("://", 1)[1]
    keyed = f"http://{host}/rss.xml?apikey=s3cr3tkey&lang=en"
    added = newsbot("sources", "add", keyed, "--name", "keyed", data_dir=data, env_extra=env)
    assert added.returncode == 0 and "apikey=***&lang=en" in added.stdout
    hidden = f"http://reader:hunter2pass@{host}/missing.xml?token=t0ken"
    newsbot("sources", "add", hidden, "--name", "gone", "--no-check", data_dir=data, env_extra=env)
    polled = newsbot("poll", data_dir=data, env_extra=env)
    assert "source 1 (keyed): 3 new" in polled.stdout  # fetched with the real key
    assert "source 2 (gone): FAILED: " in polled.stdout
    refused = newsbot("sources", "add", hidden, "--name", "again", "--no-check", data_dir=data, env_extra=env)
    assert refused.returncode == 1 and "already a source" in refused.stderr
    listed = newsbot("sources", "list", data_dir=data, env_extra=env)
    as_json = newsbot("sources", "list", "--json", data_dir=data, env_extra=env)
    shown = "\n".join(r.stdout + r.stderr for r in (added, polled, refused, listed, as_json))
    for secret in ("s3cr3tkey", "hunter2pass", "t0ken"):
        assert secret not in shown
    assert "reader:***@" in listed.stdout and json.loads(as_json.stdout)[1]["location"].endswith("token=***")


def test_retry_after_is_remembered_by_the_next_process(make_library, tmp_path, server):
    """A 503 with Retry-After: 120 on a source polled every 30 s: the source's next poll is put off
    at least 120 s in the store, so another process's `poll --due` does not ask again minutes later."""
    folder = tmp_path / "retry"
    first = make_library(folder, **TEST_FETCH)
    source = first.add_source(f"{server.base}/articles/broken.html", "busy", interval_minutes=0.5)
    before = time.time()
    report = first.poll(only_due=False)
    assert len(report.failures) == 1 and "HTTP 503" in report.failures[0]
    assert first.source(source.id).next_poll_at >= before + 120
    asked = Handler.hits.get("/articles/broken.html", 0)
    later = make_library(folder, **TEST_FETCH)  # a new process: a fresh in-memory backoff
    assert later.poll(only_due=True).sources == 0
    assert Handler.hits.get("/articles/broken.html", 0) == asked


def test_a_refused_connection_is_said_in_words():
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match="the server refused or did not answer the connection"):
        Fetcher(LibraryConfig(data_dir=Path("."), **TEST_FETCH).fetch_limits).get(f"http://127.0.0.1:{port}/rss.xml")


def test_no_check_adds_a_source_whose_host_does_not_resolve_yet(tmp_path):
    from tests.test_cli import newsbot

    data = tmp_path / "unresolved"
    checked = newsbot("sources", "add", "https://no-such-host.invalid/feed.xml", data_dir=data)
    assert checked.returncode == 1 and "`--no-check` adds it anyway" in checked.stderr
    added = newsbot("sources", "add", "https://no-such-host.invalid/feed.xml", "--no-check", data_dir=data)
    assert added.returncode == 0 and "added source 1 (web)" in added.stdout
    private = newsbot("sources", "add", "http://127.0.0.1/feed.xml", "--no-check", data_dir=data)
    assert private.returncode == 1 and "non-public address" in private.stderr  # still refused


# -- a source's name is shown to everyone: never the credentials of its URL -------------------------


def test_an_unnamed_feed_is_named_by_its_title_never_by_the_password_in_its_url(feed_library, server):
    secret = f"http://reader:hunter2pass@{server.base.split('://', 1)[1]}"
    herald = feed_library.add_source(f"{secret}/rss.xml")
    untitled = feed_library.add_source(f"{secret}/untitled.xml")
    assert herald.name == untitled.name == "127.0.0.1"  # the host alone (no user, password, port) until read
    report = feed_library.poll(only_due=False)
    assert report.failures == [] and report.new == 3
    assert feed_library.source(herald.id).name == "Test Herald"  # the feed's own title, as feed readers name it
    assert feed_library.source(untitled.id).name == "127.0.0.1"  # no title: the host
    assert report.outcomes[0].startswith(f"source {herald.id} (Test Herald): 3 new")
    assert {story.source for story in feed_library.latest(10)} == {"Test Herald"}
    shown = repr([[s.shown() for s in feed_library.sources()], report.outcomes, feed_library.latest(10)])
    assert "hunter2pass" not in shown and "reader:***@127.0.0.1" in shown  # the location, masked
    for name in (f"{secret}/atom.xml", "reader:hunter2pass@127.0.0.1", "wire?apikey=hunter2pass"):
        with pytest.raises(NewsbotError, match="shown to everyone") as refused:
            feed_library.add_source(f"{server.base}/atom.xml", name)
        assert "hunter2pass" not in str(refused.value)
    named = feed_library.add_source(f"{server.base}/atom.xml", "wire")  # a name given is kept
    feed_library.poll(only_due=False)
    assert feed_library.source(named.id).name == "wire"


def test_cli_names_a_feed_with_credentials_by_its_title_when_it_checks_it(server, tmp_path):
    from tests.test_cli import newsbot

    env = {"NEWSBOT_FETCH_ALLOWED_HOSTS": "127.0.0.1,localhost"}
    data = tmp_path / "named-feeds"
    secret = f"http://reader:hunter2pass@{server.base.split('://', 1)[1]}"
    added = newsbot("sources", "add", f"{secret}/rss.xml", data_dir=data, env_extra=env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added source 1 (web): Test Herald http://reader:***@127.0.0.1:")
    unchecked = newsbot("sources", "add", f"{secret}/atom.xml", "--no-check", data_dir=data, env_extra=env)
    assert "added source 2 (web): 127.0.0.1 http://reader:***@" in unchecked.stdout  # its first poll names it
    refused = newsbot("sources", "add", f"{secret}/untitled.xml", "--name", f"{secret}/x", data_dir=data, env_extra=env)
    assert refused.returncode == 1 and "shown to everyone" in refused.stderr
    listed = newsbot("sources", "list", "--json", data_dir=data, env_extra=env)
    assert [source["name"] for source in json.loads(listed.stdout)] == ["Test Herald", "127.0.0.1"]
    for result in (added, unchecked, refused, listed):
        assert "hunter2pass" not in result.stdout + result.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_source_named_by_its_credentials_is_renamed_on_upgrade(backend, request, make_library, tmp_path):
    """Before 2026-12 a source added without a name was named `user:password@host:port`, and every
    story it brought carried that name into /latest and follow posts: opening such a store renames
    the source and its stories by the host alone, and leaves every other name as it was."""
    url = request.getfixturevalue("postgres").new_database() if backend == "postgres" else None
    folder, old_name = tmp_path / "old", "reader:hunter2pass@127.0.0.1:8080"
    library = make_library(folder, database_url=url, **TEST_FETCH)
    source = library.add_source(f"http://{old_name}/rss.xml", "placeholder")
    user_only = library.add_source("http://reader@127.0.0.1:8081/rss.xml", "placeholder")
    kept = library.add_source("http://127.0.0.1:8080/atom.xml", "wire")
    text = "The harbour master of Kelmar said on Monday that the ferry pier will reopen after repairs next week."
    library.ingest_articles(
        [
            Article(url="https://x.test/pier", title="Kelmar pier to reopen", text=text, source=old_name),
            Article(url="https://x.test/pier-wire", title="Pier reopens", text=text + " Wire copy.", source="wire"),
        ]
    )
    library.close()
    db = open_store(library.config).backend
    with db.transaction() as conn:  # as newsbot left it before the rename
        conn.execute("UPDATE sources SET name = ? WHERE id = ?", (old_name, source.id))
        conn.execute("UPDATE sources SET name = ? WHERE id = ?", ("reader@127.0.0.1:8081", user_only.id))
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", ("5" if url is None else "3",))
    db.close()
    reopened = make_library(folder, database_url=url, **TEST_FETCH)
    names = {s.id: s.name for s in reopened.sources()}
    assert names == {source.id: "127.0.0.1", user_only.id: "127.0.0.1", kept.id: "wire"}
    assert sorted(story.source for story in reopened.latest(5)) == ["127.0.0.1", "wire"]
    assert stored(reopened, "SELECT count(*) FROM articles WHERE source LIKE '%hunter2pass%'") == [(0,)]


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("https://reader:hunter2@feeds.example.org/rss", "https://reader:***@feeds.example.org/rss"),
        ("https://glpat-abc123@gitlab.example.org/feed.atom", "https://***@gitlab.example.org/feed.atom"),
        (
            "https://gitlab.example.org/a.atom?feed_token=abc123&x=1",
            "https://gitlab.example.org/a.atom?feed_token=***&x=1",
        ),
        ("https://s3.example.org/f.xml?X-Amz-Signature=abc123", "https://s3.example.org/f.xml?X-Amz-Signature=***"),
        ("https://api.example.org/f?private_token=abc&lang=en", "https://api.example.org/f?private_token=***&lang=en"),
        ("https://feeds.example.org/rss?lang=en&page=2", "https://feeds.example.org/rss?lang=en&page=2"),
    ],
)
def test_credentials_in_an_address_are_masked_wherever_it_is_shown(address, shown):
    """A password, a token given as the user name, and key-like query parameters (GitLab's
    feed_token, S3's signature) never reach a message, an OPML export for Discord or a log."""
    from index.text import hide_credentials

    assert hide_credentials(address) == shown
