"""Following a feed (every new story of one source, or those of it about a topic) and story images
(the picture a feed entry or a page names, kept as an https URL only): the real bot in SimCord over
a library polling a real feed on 127.0.0.1; the image checks; the upgrade of an older store."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import discord
import pytest

from bot.app import create_bot
from bot.embeds import answer_embed, stories_embed
from index import Answer, Article, NewsbotError, Story
from index.intake.feeds import parse_feed
from index.intake.images import MAX_IMAGE_URL_CHARS, image_url
from index.store import open_store
from tests.conftest import SAMPLE_NEWS, stored, write_jsonl
from tests.test_feeds import TEST_FETCH
from tests.test_follows import CUP_FINAL, ERUPTION, LAVA_UPDATE, SECOND_OUTLET, VOLCANO, bot_settings, posts

pytestmark = pytest.mark.simcord(shard_count=1)

LAVA_RETURNS = replace(
    ERUPTION,
    url="https://x.test/grindavik-lava-returns",
    title="Lava returns to the edge of Grindavik",
    text="A fresh fissure sent lava towards the defensive walls outside Grindavik on Thursday morning, the"
    " Icelandic Met Office said. Road crews had raised the earth barriers by two metres over the summer.",
)
CUP_PARADE = replace(
    CUP_FINAL,
    url="https://x.test/cup-parade",
    title="Cup winners parade along the harbour front",
    text="Thousands of supporters lined the harbour front on Sunday as the Harbour United squad showed off the"
    " trophy from an open-top bus. The club's captain thanked the fans for a season of long away trips.",
)
FERRY_IMAGE = "https://img.example.org/eruption.jpg"
PAGE_IMAGE = "https://img.example.org/lava-from-the-page.png"


class Feed:
    """A feed on 127.0.0.1 whose stories a test adds: each a page of its own; an entry's picture as
    media:content, a page's as og:image."""

    def __init__(self) -> None:
        self.items: list[tuple[Article, str, str]] = []  # (story, the entry's media XML, the page's og:image)
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/feed.xml":
                    body, kind = feed.xml().encode(), "application/rss+xml"
                else:
                    found = [item for item in feed.items if item[0].url.endswith(self.path)]
                    if not found:
                        self.send_response(404)
                        self.end_headers()
                        return
                    body, kind = feed.page(*found[0]).encode(), "text/html"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def add(self, story: Article, media: str = "", og_image: str = "") -> Article:
        story = replace(story, url=f"{self.base}/{story.url.rsplit('/', 1)[-1]}")
        self.items.append((story, media, og_image))
        return story

    def xml(self) -> str:
        entries = "".join(
            f"<item><title>{s.title}</title><link>{s.url}</link><description>{s.text[:80]}</description>"
            f"<pubDate>Sun, 06 Dec 2026 09:00:00 GMT</pubDate>{media}</item>"
            for s, media, _ in self.items
        )
        return (
            '<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
            f"<title>Harbour Gazette</title>{entries}</channel></rss>"
        )

    def page(self, story: Article, media: str, og_image: str) -> str:
        meta = f'<meta property="og:image" content="{og_image}">' if og_image else ""
        return (
            f"<html><head><title>{story.title}</title>{meta}</head><body><article><h1>{story.title}</h1>"
            f"<p>{story.text}</p></article></body></html>"
        )


@pytest.fixture
def feed():
    running = Feed()
    yield running
    running.server.shutdown()


@pytest.fixture
def feed_library(make_library, tmp_path, feed):
    library = make_library(tmp_path / "followdata", **TEST_FETCH)
    library.ingest([SAMPLE_NEWS])
    library.add_source(f"{feed.base}/feed.xml", "Harbour Gazette")
    return library


@pytest.fixture
def simcord_bot(feed_library, tmp_path):
    return create_bot(bot_settings(tmp_path), library=feed_library)


@pytest.fixture
def server(simcord_env):
    guild = simcord_env.create_guild()
    everything, volcanoes = guild.create_text_channel("gazette"), guild.create_text_channel("volcanoes")
    editors = guild.create_role("Editors", permissions=discord.Permissions(manage_channels=True))
    editor = guild.add_member(simcord_env.create_user("editor"), roles=[editors])
    return simcord_env, guild, everything, volcanoes, editor


def shown(channel) -> list[tuple[str, str | None]]:
    return [(m.embeds[0].title, m.embeds[0].image.url) for m in posts(channel)]


async def test_a_feed_followed_into_a_channel_posts_each_new_story_once_with_its_image(
    server, feed_library, feed, tmp_path
):
    env, guild, everything, volcanoes, editor = server
    result = await editor.slash(everything, "follow", source="harbour gazette")
    assert "Following **everything from Harbour Gazette**" in result.response.content
    (source,) = feed_library.sources()
    result = await editor.slash(volcanoes, "follow", source=str(source.id), topic=VOLCANO)
    assert f"**{VOLCANO} in Harbour Gazette**" in result.response.content
    eruption = feed.add(ERUPTION, f'<media:content url="{FERRY_IMAGE}" medium="image"/>')
    cup = feed.add(CUP_FINAL, '<media:thumbnail url="http://img.example.org/plain-http.jpg"/>')  # refused: http
    lava = feed.add(LAVA_UPDATE, og_image=PAGE_IMAGE)  # none in the feed: the page's own
    assert feed_library.poll(only_due=False).new == 3
    feed_library.ingest_articles([SECOND_OUTLET])  # of no source followed: in neither channel
    await env.advance_time(61)
    await env.advance_time(61)
    assert shown(everything) == [(eruption.title, FERRY_IMAGE), (cup.title, None), (lava.title, PAGE_IMAGE)]
    assert shown(volcanoes) == [(eruption.title, FERRY_IMAGE), (lava.title, PAGE_IMAGE)]  # about the topic only
    assert posts(everything)[0].embeds[0].footer.text == "Following: everything from Harbour Gazette (follow 1)"
    listed = await editor.slash(everything, "follows")
    assert "everything from Harbour Gazette" in listed.response.embeds[0].description

    await env.restart_bot(create_bot(bot_settings(tmp_path), library=feed_library))
    await env.advance_time(61)
    assert len(posts(everything)) == 3 and len(posts(volcanoes)) == 2  # a new bot reposts nothing
    again = feed.add(LAVA_RETURNS)
    feed.add(CUP_PARADE)
    assert feed_library.poll(only_due=False).new == 2
    await env.advance_time(61)
    await env.advance_time(61)
    assert shown(everything)[3:] == [(CUP_PARADE.title, None)]  # no image named: the post looks as before
    also = {f.name: f.value for f in posts(everything)[0].embeds[0].fields}["Also reported by"]
    assert also.count(again.url) == 1  # the same eruption again: it joins the channel's post of it
    assert len(posts(volcanoes)) == 2  # the parade is not about the volcano (and the eruption was posted)


async def test_a_picture_discord_refuses_does_not_hold_the_follow(server, feed_library, feed):
    """Discord answers 400 to a post whose picture address it will not take: the story is posted
    without its picture at once, not retried (and refused) every pass while the follow stands still."""
    env, guild, everything, volcanoes, editor = server
    await editor.slash(everything, "follow", source="harbour gazette")
    eruption = feed.add(ERUPTION, f'<media:content url="{FERRY_IMAGE}" medium="image"/>')
    lava = feed.add(LAVA_UPDATE)
    assert feed_library.poll(only_due=False).new == 2
    env.inject_error("POST", f"/channels/{everything.id}/messages", status=400, code=50035, message="Invalid Form Body")
    await env.advance_time(61)
    await env.advance_time(61)
    assert env.backend.faults == []  # the refusal was served
    assert shown(everything) == [(eruption.title, None), (lava.title, None)]  # each once, the first bare


def test_a_feed_story_ingested_again_by_hand_keeps_its_source(feed_library, feed):
    """`newsbot ingest` of a story a feed brought (no source of its own) updates it and leaves it
    its feed's source, so the follows of that source keep it."""
    eruption = feed.add(ERUPTION)
    assert feed_library.poll(only_due=False).new == 1
    (source,) = feed_library.sources()
    edited = replace(ERUPTION, url=eruption.url, text=ERUPTION.text + " The ash cloud drifted east overnight.")
    assert feed_library.ingest_articles([edited]).updated == 1
    assert stored(feed_library, "SELECT source_id FROM articles WHERE url = ?", (eruption.url,)) == [(source.id,)]


async def test_follow_refuses_an_unknown_source_or_nothing_to_follow(server, feed_library):
    env, guild, everything, volcanoes, editor = server
    unknown = await editor.slash(everything, "follow", source="Nowhere Times")
    assert "No source is named 'Nowhere Times'" in unknown.response.content
    empty = await editor.slash(everything, "follow")
    assert "the topic is empty" in empty.response.content.lower()
    assert feed_library.following.all() == []
    twin = feed_library.add_source(str(SAMPLE_NEWS), "harbour gazette")  # two sources of one name (any case)
    with pytest.raises(NewsbotError, match="name one by its id"):
        feed_library.following.add(guild.id, everything.id, None, 1, "Harbour Gazette")
    followed = feed_library.following.add(guild.id, everything.id, "", 1, f"#{twin.id}")
    kept = feed_library.following.add(guild.id, everything.id, VOLCANO, 1)
    feed_library.remove_source(twin.id)  # its follows stop with it (a later source may get its id)
    assert [f.id for f in feed_library.following.all()] == [kept.id] != [followed.id]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://img.example.org/a.jpg", "https://img.example.org/a.jpg"),
        ("HTTPS://img.example.org/a.jpg", "https://img.example.org/a.jpg"),  # the scheme as Discord takes it
        ("  https://img.example.org/a.jpg?w=800&h=450 ", "https://img.example.org/a.jpg?w=800&h=450"),
        ("/media/a.png", "https://news.example.org/media/a.png"),  # relative to the page: resolved
        ("https://img.example.org/café.jpg", "https://img.example.org/caf%C3%A9.jpg"),
        ("http://img.example.org/a.jpg", None),
        ("data:image/png;base64,iVBORw0KGgo=", None),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)//.jpg", None),
        ("https://user:secret@img.example.org/a.jpg", None),
        ("https://token@img.example.org/a.jpg", None),
        ("https:///a.jpg", None),
        ("https://img.example.org/a b.jpg", None),
        ("https://img.example.org/a\u202e.jpg", None),
        ("https://img.example.org:99999/a.jpg", None),
        ("ftp://img.example.org/a.jpg", None),
        ("https://img.example.org/" + "a" * MAX_IMAGE_URL_CHARS, None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_only_a_plain_https_image_url_is_kept(given, kept):
    assert image_url(given, "https://news.example.org/2026/story.html") == kept


def test_a_feed_entry_names_its_image_by_media_content_thumbnail_or_enclosure():
    base = "https://news.example.org"
    items = [
        '<media:content url="https://x.test/v.mp4" type="video/mp4"/><media:content url="/a.jpg" medium="image"/>',
        '<media:thumbnail url="https://x.test/b.jpg"/>',
        '<enclosure url="https://x.test/c.mp3" type="audio/mpeg" length="1"/>'
        '<enclosure url="https://x.test/c.png" type="image/png" length="1"/>',
        '<media:content url="data:image/png;base64,AAAA" medium="image"/><media:thumbnail url="https://x.test/d.jpg"/>',
        '<media:content url="http://x.test/e.jpg" medium="image"/>',
        "",
    ]
    body = "".join(f"<item><title>{n}</title><link>{base}/{n}</link>{m}</item>" for n, m in enumerate(items))
    xml = f'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>{body}</channel></rss>'
    _, entries, _ = parse_feed(xml.encode(), f"{base}/feed.xml", 50)
    assert [e.image for e in entries] == [
        f"{base}/a.jpg",
        "https://x.test/b.jpg",
        "https://x.test/c.png",
        "https://x.test/d.jpg",
        None,
        None,
    ]


def test_images_are_kept_at_ingest_and_shown_in_latest_and_answers(make_library, tmp_path):
    from tests.test_cli import newsbot

    folder = tmp_path / "images"
    records = [
        {**record, "image": image}
        for record, image in zip(
            [json.loads(line) for line in SAMPLE_NEWS.read_text(encoding="utf-8").splitlines()[:3]],
            ["https://img.example.org/1.jpg", "javascript:alert(1)", None],
            strict=True,
        )
    ]
    library = make_library(folder)
    library.ingest([write_jsonl(tmp_path / "pictured.jsonl", records)])
    listed = json.loads(newsbot("latest", "-n", "10", "--json", data_dir=folder).stdout)
    assert {story["url"]: story["image"] for story in listed} == {
        records[0]["url"]: "https://img.example.org/1.jpg",
        records[1]["url"]: None,  # refused at ingest
        records[2]["url"]: None,
    }
    stories = library.latest(10)
    embed = stories_embed(stories, "Latest stories")
    assert embed.thumbnail.url == "https://img.example.org/1.jpg"
    assert stories_embed([s for s in stories if s.image is None], "Latest").thumbnail.url is None
    story = next(s for s in stories if s.image)
    answered = Answer("q", "Anna Berg", 0.9, quote="Anna Berg won.", answer_start=0, answer_end=9, story=story)
    assert answer_embed(answered).thumbnail.url == story.image
    plain = replace(answered, story=Story(story.title, story.url, story.published, story.source))
    assert answer_embed(plain).thumbnail.url is None and answer_embed(plain).image.url is None


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_store_of_the_previous_version_upgrades_and_its_stories_know_their_source(
    backend, request, make_library, tmp_path
):
    """A store made before images, sources' ids and posts in flight were kept gains the columns on
    open; its stories get the id of the source that brought them (by feed entry, else by name),
    its topic follows deliver as before, and a follow of a source can be made."""
    url = request.getfixturevalue("postgres").new_database() if backend == "postgres" else None
    folder = tmp_path / "previous"
    library = make_library(folder, database_url=url)
    library.ingest([SAMPLE_NEWS])
    gazette = library.add_source(str(SAMPLE_NEWS), "Test Wire")
    follow = library.following.add(1, 10, VOLCANO, created_by=7)
    library.ingest_articles([ERUPTION])  # "Test Wire": gazette's name
    library.close()
    db = open_store(library.config).backend
    with db.transaction() as conn:  # as the previous version left it
        for table, column in [
            ("articles", "image"),
            ("articles", "source_id"),
            ("follows", "source_id"),
            ("channel_posts", "sending_after"),
        ]:
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", ("6" if url is None else "4",))
    db.close()
    reopened = make_library(folder, database_url=url)
    assert stored(reopened, "SELECT value FROM meta WHERE key = 'schema_version'") == [("7" if url is None else "5",)]
    assert stored(reopened, "SELECT source_id FROM articles WHERE url = ?", (ERUPTION.url,)) == [(gazette.id,)]
    (kept,) = reopened.following.all()
    assert [h.story.url for h in reopened.following.news_of([kept])[kept.id][0]] == [ERUPTION.url]
    assert kept.id == follow.id and kept.source_id is None and reopened.latest(1)[0].image is None
    feed_follow = reopened.following.add(1, 11, None, 7, "test wire")
    assert (feed_follow.source_id, feed_follow.subject) == (gazette.id, "everything from Test Wire")


def test_follows_of_a_source_from_the_command_line(make_library, tmp_path):
    from tests.test_cli import newsbot

    folder = tmp_path / "cli"
    library = make_library(folder)
    library.ingest([SAMPLE_NEWS])
    wire = library.add_source(str(SAMPLE_NEWS), "Test Wire")
    added = newsbot("follows", "add", "--guild", "5", "--channel", "50", "--source", "test wire", data_dir=folder)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added follow 1: 'everything from Test Wire' into channel 50 of guild 5")
    both = ("--source", str(wire.id), "--topic", VOLCANO)
    assert newsbot("follows", "add", "--guild", "5", "--channel", "51", *both, data_dir=folder).returncode == 0
    listed = json.loads(newsbot("follows", "list", "--json", data_dir=folder).stdout)
    assert [(f["source_id"], f["source_name"], f["topic"]) for f in listed] == [
        (wire.id, "Test Wire", ""),
        (wire.id, "Test Wire", VOLCANO),
    ]
    assert f"'{VOLCANO} in Test Wire'" in newsbot("follows", "list", data_dir=folder).stdout
    neither = newsbot("follows", "add", "--guild", "5", "--channel", "52", data_dir=folder)
    assert neither.returncode == 1 and "topic is empty" in neither.stderr
    unknown = newsbot("follows", "add", "--guild", "5", "--channel", "52", "--source", "Nowhere", data_dir=folder)
    assert unknown.returncode == 1 and "no source is named 'Nowhere'" in unknown.stderr
    removed = newsbot("follows", "remove", "1", data_dir=folder)
    assert removed.returncode == 0 and "removed follow 1: 'everything from Test Wire'" in removed.stdout
    assert [f.id for f in library.following.all()] == [2]
