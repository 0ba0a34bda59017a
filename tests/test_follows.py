"""Follows: new stories about a topic posted into a channel, once, by the real bot in SimCord over a
real library; and the library's side of it (matching, the cursor, one post a story a channel)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import discord
import pytest

from bot.app import create_bot
from bot.settings import Settings
from index import Article, NewsbotError
from index.intake.sources import article_from_record
from index.store import open_store
from tests.conftest import ROOT, SAMPLE_NEWS, stored

pytestmark = pytest.mark.simcord(shard_count=1)

VOLCANO = "volcano eruption in Iceland"


# An hour before the tests run: the brief's window counts back from now.
RECENT = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")


def story(slug: str, title: str, text: str, source: str = "Test Wire") -> Article:
    return Article(url=f"https://news.example.org/{slug}", title=title, text=text, published=RECENT, source=source)


ERUPTION = story(
    "grindavik-eruption",
    "Volcano eruption in Iceland forces Grindavik to empty again",
    "Lava broke through a fissure north of Grindavik on Sunday night, the eleventh eruption on the Reykjanes"
    " peninsula in two years. Civil protection officers moved the town's remaining residents out before dawn.",
)
LAVA_UPDATE = story(
    "reykjanes-lava-flow",
    "Lava flow slows near Iceland's Blue Lagoon",
    "The lava from the Reykjanes eruption slowed on Tuesday, geologists at the Icelandic Met Office said, though"
    " the fissure near Grindavik was still active and volcanic gas drifted over the peninsula.",
)
SECOND_OUTLET = story(  # the same event as ERUPTION, in other words, from another outlet
    "iceland-volcano-grindavik",
    "Iceland volcano erupts again and Grindavik is evacuated",
    "A new fissure opened north of Grindavik late on Sunday, sending lava across the Reykjanes peninsula for the"
    " eleventh time in two years. Police cleared the last residents from the town overnight.",
    source="Second Wire",
)
CUP_FINAL = story(
    "harbour-cup-final",
    "Harbour United win the cup final on penalties",
    "Harbour United beat Castle Rovers on penalties in the cup final on Saturday after a goalless two hours."
    " Their goalkeeper saved three spot kicks in front of a crowd of forty thousand.",
)


@pytest.fixture
def bot_library(make_library, tmp_path):
    library = make_library(tmp_path / "followdata")
    library.ingest([SAMPLE_NEWS])
    return library


def bot_settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "followdata", question_cooldown_seconds=0, follow_seconds=60, _env_file=None)


@pytest.fixture
def simcord_bot(bot_library, tmp_path):
    return create_bot(bot_settings(tmp_path), library=bot_library)


@pytest.fixture
def server(simcord_env):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("volcanoes")
    editors = guild.create_role("Editors", permissions=discord.Permissions(manage_channels=True))
    editor = guild.add_member(simcord_env.create_user("editor"), roles=[editors])
    reader = guild.add_member(simcord_env.create_user("reader"))
    return simcord_env, guild, channel, editor, reader


def posts(channel) -> list[discord.Message]:
    """The stories the bot posted in a channel (embeds), oldest first."""
    return [m for m in channel.history() if m.author.bot and m.embeds]


# -- the library's side, on both backends ---------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def library_at(request, embedder, reader, chunker, tmp_path):
    """A function making a library over one store (SQLite files in the folder given, or one fresh
    PostgreSQL database), with the sample news in it."""
    from index import Library, LibraryConfig

    url = request.getfixturevalue("postgres").new_database() if request.param == "postgres" else None

    def make(folder, fresh: bool = True, **options):
        library = Library(
            LibraryConfig(data_dir=folder, database_url=url, **options),
            embedder=embedder,
            reader=reader,
            chunker=chunker,
        )
        if fresh:
            library.ingest([SAMPLE_NEWS])
        return library

    make.sqlite = url is None
    return make


def test_a_follow_sees_only_new_matching_stories_and_each_once(library_at, tmp_path):
    bot_library = library_at(tmp_path / "seen")
    follow = bot_library.following.add(1, 10, VOLCANO, created_by=7)
    twin = bot_library.following.add(1, 10, "Iceland lava flows", created_by=7)  # a second follow in the same channel
    assert bot_library.following.news_of([follow])[follow.id][0] == []  # the news already indexed is not posted
    bot_library.ingest_articles([ERUPTION, CUP_FINAL, LAVA_UPDATE])
    assert ERUPTION.url in {item.story.url for item in bot_library.following.news_of([twin])[twin.id][0]}
    news, newest = bot_library.following.news_of([follow])[follow.id]
    assert [item.story.title for item in news] == [ERUPTION.title, LAVA_UPDATE.title]
    assert news[0].lead.startswith("Lava broke through a fissure north of Grindavik")
    bot_library.following.posted(follow, news[0].article_id, message_id=99)
    bot_library.following.dealt_with(follow, newest)
    follow = bot_library.following.all(1)[0]
    assert follow.cursor == newest and follow.last_delivery_at
    assert bot_library.following.news_of([follow])[follow.id][0] == []
    # the twin is not shown what the channel has already seen, and still sees the rest
    assert [item.story.url for item in bot_library.following.news_of([twin])[twin.id][0]] == [LAVA_UPDATE.url]


def test_follows_belong_to_their_guild_and_are_limited(library_at, tmp_path):
    library = library_at(tmp_path / "limits", max_follows_per_guild=2)
    first = library.following.add(1, 10, "baseball", created_by=7)
    library.following.add(1, 11, "Japan", created_by=7)
    with pytest.raises(NewsbotError, match="already has 2 follows"):
        library.following.add(1, 12, "weather", created_by=7)
    library.following.pause(first.id, "its channel was deleted")
    with pytest.raises(NewsbotError, match=rf"already has 2 follows \(1 paused: {first.id}\)"):
        library.following.add(1, 12, "weather", created_by=7)  # the message says which are paused
    library.following.resume(first.id)
    assert library.following.all(1)[0].paused is None
    library.following.add(2, 20, "weather", created_by=8)  # another guild has its own allowance
    with pytest.raises(NewsbotError, match="no follow with id"):
        library.following.remove(first.id, guild_id=2)
    with pytest.raises(NewsbotError, match="the topic is empty"):
        library.following.add(2, 20, "   ", created_by=8)
    assert library.following.remove(first.id, guild_id=1).topic == "baseball"
    assert [f.topic for f in library.following.all(1)] == ["Japan"]


def test_follows_survive_a_new_library_over_the_same_store(library_at, tmp_path):
    library = library_at(tmp_path / "kept")
    follow = library.following.add(1, 10, VOLCANO, created_by=7)
    library.ingest_articles([ERUPTION])
    item = library.following.news_of([follow])[follow.id][0][0]
    library.following.posted(follow, item.article_id, 5)
    reopened = library_at(tmp_path / "kept", fresh=False)
    (kept,) = reopened.following.all()
    assert (kept.topic, kept.cursor) == (VOLCANO, item.article_id)
    assert reopened.following.news_of([kept])[kept.id][0] == []


def test_follows_made_before_topic_vectors_were_kept_are_migrated_and_delivered(library_at, embedder, tmp_path):
    """A store whose follows table predates the topic vector columns gains them on open; its
    follows deliver as before, their topics embedded once and kept."""
    library = library_at(tmp_path / "old")
    library.following.add(1, 10, VOLCANO, created_by=7)
    library.close()
    db = open_store(library.config).backend
    with db.transaction() as conn:  # as newsbot left it before the columns existed
        conn.execute("ALTER TABLE follows DROP COLUMN topic_vector")
        conn.execute("ALTER TABLE follows DROP COLUMN topic_model")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", ("4" if library_at.sqlite else "2",))
    db.close()
    reopened = library_at(tmp_path / "old", fresh=False)
    reopened.ingest_articles([ERUPTION, CUP_FINAL])
    (kept,) = reopened.following.all()
    assert [h.story.url for h in reopened.following.news_of([kept])[kept.id][0]] == [ERUPTION.url]
    assert stored(reopened, "SELECT topic_model FROM follows WHERE id = ?", (kept.id,)) == [(embedder.model_name,)]


# -- the bot --------------------------------------------------------------------------------------


async def test_follow_posts_each_matching_story_once_and_survives_a_restart(server, bot_library, tmp_path):
    env, guild, channel, editor, reader = server
    result = await editor.slash(channel, "follow", topic=VOLCANO)
    assert "Following" in result.response.content
    bot_library.ingest_articles([ERUPTION, CUP_FINAL])
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(channel)] == [ERUPTION.title]
    assert posts(channel)[0].embeds[0].url == ERUPTION.url
    await env.advance_time(61)
    assert len(posts(channel)) == 1  # nothing posted twice

    await env.restart_bot(create_bot(bot_settings(tmp_path), library=bot_library))
    await env.advance_time(61)
    assert len(posts(channel)) == 1  # a new bot over the same library re-posts nothing
    bot_library.ingest_articles([LAVA_UPDATE])
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(channel)] == [ERUPTION.title, LAVA_UPDATE.title]

    (follow,) = bot_library.following.all(guild.id)
    await editor.slash(channel, "unfollow", follow_id=follow.id)
    bot_library.ingest_articles([story("grindavik-again", "Grindavik volcano eruption restarts", ERUPTION.text)])
    await env.advance_time(61)
    assert len(posts(channel)) == 2


async def test_manage_channels_in_one_server_manages_that_servers_follows_only(server, bot_library):
    env, guild, channel, editor, reader = server
    refused = await reader.slash(channel, "follow", topic=VOLCANO)
    assert refused.ephemeral and "Manage Channels" in refused.response.content
    assert bot_library.following.all() == []
    await editor.slash(channel, "follow", topic=VOLCANO)
    (follow,) = bot_library.following.all()

    other = env.create_guild()
    other_channel = other.create_text_channel("general")
    admins = other.create_role("Admins", permissions=discord.Permissions(manage_channels=True))
    stranger = other.add_member(env.create_user("stranger"), roles=[admins])
    result = await stranger.slash(other_channel, "unfollow", follow_id=follow.id)
    assert result.ephemeral and "No follow with id" in result.response.content
    assert bot_library.following.all() == [follow]
    listed = await stranger.slash(other_channel, "follows")
    assert VOLCANO not in listed.response.embeds[0].description


async def test_a_deleted_channel_pauses_its_follow_and_the_others_still_deliver(server, bot_library):
    env, guild, channel, editor, reader = server
    doomed = guild.create_text_channel("doomed")
    await editor.slash(doomed, "follow", topic=VOLCANO)
    await editor.slash(channel, "follow", topic=VOLCANO)
    env.backend.delete_channel(doomed.id)
    await env.settle()
    bot_library.ingest_articles([ERUPTION])
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(channel)] == [ERUPTION.title]
    paused = [f for f in bot_library.following.all(guild.id) if f.paused]
    assert len(paused) == 1 and "deleted" in paused[0].paused
    listed = await editor.slash(channel, "follows")
    assert "paused" in listed.response.embeds[0].description


async def test_a_second_outlets_story_of_the_same_event_joins_the_first_post(server, bot_library):
    env, guild, channel, editor, reader = server
    await editor.slash(channel, "follow", topic=VOLCANO)
    bot_library.ingest_articles([ERUPTION])
    await env.advance_time(61)
    bot_library.ingest_articles([SECOND_OUTLET, LAVA_UPDATE])  # the same event, and a later one
    await env.advance_time(61)
    shown = posts(channel)
    assert [m.embeds[0].title for m in shown] == [ERUPTION.title, LAVA_UPDATE.title]
    also = {f.name: f.value for f in shown[0].embeds[0].fields}["Also reported by"]
    assert "Second Wire" in also and SECOND_OUTLET.url in also


@pytest.mark.parametrize(
    "failure", [sqlite3.OperationalError("disk I/O error"), RuntimeError("killed before the commit")]
)
async def test_a_database_error_after_discord_accepted_a_post_never_posts_it_twice(
    server, bot_library, tmp_path, failure
):
    """The record of a post fails after Discord accepted it (a database error; or the process dies
    there, as a kill -9 would leave it): the post was marked in flight before it was sent, so the
    next pass, in this process or after a restart, finds it in the channel and posts it no more;
    no other story is lost or doubled (issue 43, item 5)."""
    env, guild, channel, editor, reader = server
    await editor.slash(channel, "follow", topic=VOLCANO)
    bot_library.ingest_articles([ERUPTION, LAVA_UPDATE])
    record = bot_library.following.posted

    def fails_after_the_post(*args, **kwargs):
        raise failure

    bot_library.following.posted = fails_after_the_post
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(channel)] == [ERUPTION.title]
    bot_library.following.posted = record
    if isinstance(failure, RuntimeError):
        await env.restart_bot(create_bot(bot_settings(tmp_path), library=bot_library))
    await env.advance_time(61)
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(channel)] == [ERUPTION.title, LAVA_UPDATE.title]
    assert bot_library.following.news_of(bot_library.following.all())[1][0] == []


async def test_a_post_left_in_flight_is_posted_when_it_never_reached_the_channel(server, bot_library):
    """Marked in flight, then the send never happened (the process died in between): the story is
    not found in the channel, so it is posted, once. A channel I cannot read back (no Read Message
    History) gives the old guarantee: the story in flight posted at most once more."""
    env, guild, channel, editor, reader = server
    await editor.slash(channel, "follow", topic=VOLCANO)
    bot_library.ingest_articles([ERUPTION])
    mark = bot_library.following.sending

    def dies_after_the_mark(*args, **kwargs):
        mark(*args, **kwargs)
        raise RuntimeError("killed before the send")

    bot_library.following.sending = dies_after_the_mark
    await env.advance_time(61)
    assert posts(channel) == []
    bot_library.following.sending = mark
    await env.advance_time(61)
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(channel)] == [ERUPTION.title]

    record = bot_library.following.posted
    bot_library.following.posted = lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError("no record"))
    bot_library.ingest_articles([LAVA_UPDATE])
    await env.advance_time(61)
    bot_library.following.posted = record
    env.inject_error("GET", f"/channels/{channel.id}/messages", status=403, code=50001, message="Missing Access")
    await env.advance_time(61)
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(channel)] == [ERUPTION.title, LAVA_UPDATE.title, LAVA_UPDATE.title]


@pytest.mark.parametrize("dies_in", ["news_of", "dealt_with"])
async def test_a_crash_anywhere_else_reposts_nothing(server, bot_library, tmp_path, dies_in):
    """Dying before anything is posted, or after every post was recorded: after a restart each
    story is posted exactly once."""
    env, guild, channel, editor, reader = server
    await editor.slash(channel, "follow", topic=VOLCANO)
    bot_library.ingest_articles([ERUPTION, LAVA_UPDATE])
    following = bot_library.following
    survives = getattr(following, dies_in)

    def dies(*args, **kwargs):
        raise RuntimeError(f"killed in {dies_in}")

    setattr(following, dies_in, dies)
    await env.advance_time(61)
    setattr(following, dies_in, survives)
    await env.restart_bot(create_bot(bot_settings(tmp_path), library=bot_library))
    await env.advance_time(61)
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(channel)] == [ERUPTION.title, LAVA_UPDATE.title]


# Stories for short topics, as people follow news; none names its topic word for word.
VOLCANIC = "volcanic eruptions"
DOCK_STRIKE = story(
    "halden-dock-strike",
    "Dock workers walk out at Port Halden over pay",
    "About two thousand dockers at Port Halden stopped work on Monday after talks on a new wage deal collapsed."
    " Their union said the stoppage would last 48 hours; container ships were left waiting offshore.",
)
NURSES_BALLOT = story(
    "nurses-ballot",
    "Nurses vote to stop work for two days over staffing",
    "Nurses at the county's three hospitals voted by a wide margin to walk out for two days next month, their"
    " union said, after managers refused to hire more staff for night shifts.",
)
CYCLE_LANES = story(
    "river-cycle-lanes",
    "Council approves new cycle lanes along the river",
    "The city council approved four kilometres of protected cycle lanes along the river embankment on"
    " Wednesday. Work starts in the spring and the lanes should open before the summer holidays.",
)


async def test_a_short_topic_posts_its_stories_once_an_event_and_nothing_off_it(server, bot_library):
    env, guild, channel, editor, reader = server
    await editor.slash(channel, "follow", topic=VOLCANIC)
    bot_library.ingest_articles([ERUPTION, CUP_FINAL, CYCLE_LANES, DOCK_STRIKE])
    await env.advance_time(61)
    bot_library.ingest_articles([SECOND_OUTLET, NURSES_BALLOT])  # the same eruption, another outlet
    await env.advance_time(61)
    await env.advance_time(61)
    shown = posts(channel)
    assert [m.embeds[0].title for m in shown] == [ERUPTION.title]
    also = {f.name: f.value for f in shown[0].embeds[0].fields}["Also reported by"]
    assert SECOND_OUTLET.url in also


def test_latest_brief_and_follows_show_the_same_stories_for_a_topic(library_at, tmp_path):
    """Given the same new stories, those a follow of a topic posts are those `brief --topic` counts
    and `latest --topic` lists among them."""
    library = library_at(tmp_path / "agree")
    new = [DOCK_STRIKE, NURSES_BALLOT, CYCLE_LANES, CUP_FINAL, ERUPTION, SECOND_OUTLET, LAVA_UPDATE]
    topics = [VOLCANIC, "labour strikes", "football", "cycling", "Iceland"]
    follows = [library.following.add(1, 10 + n, topic, created_by=7) for n, topic in enumerate(topics)]
    library.ingest_articles(new)
    news = library.following.news_of(follows)
    urls = {article.url for article in new}
    for follow in follows:
        posted = {h.story.url for h in news[follow.id][0]}
        listed = {s.url for s in library.latest(100, topic=follow.topic)} & urls
        events = [[h.story.url for h in e.stories] for e in library.brief(hours=24, topic=follow.topic, count=100)]
        assert posted == listed, follow.topic
        assert posted <= {url for event in events for url in event}, follow.topic
        assert all(posted & set(event) for event in events), follow.topic  # no event without a story posted
    assert {ERUPTION.url, SECOND_OUTLET.url} <= {h.story.url for h in news[follows[0].id][0]}
    assert {h.story.url for h in news[follows[4].id][0]} >= {ERUPTION.url, LAVA_UPDATE.url, SECOND_OUTLET.url}


def brief_day() -> list[Article]:
    """12 stories of one day in our own words: 3 events told by 3 outlets each, and 3 stories alone."""
    lines = (ROOT / "tests" / "fixtures" / "brief_day.jsonl").read_text(encoding="utf-8").splitlines()
    return [replace(article_from_record(json.loads(line)), published=RECENT) for line in lines]


async def test_brief_gives_one_line_an_event_the_three_source_events_first(server, bot_library):
    env, guild, channel, editor, reader = server
    bot_library.ingest_articles(brief_day())
    events = bot_library.brief(hours=24)
    assert [e.sources for e in events] == [3, 3, 3, 1, 1, 1]
    assert {frozenset(i.story.source for i in e.stories) for e in events[:3]} == {
        frozenset({"Calder Post", "Coastal Daily", "North Wire"})
    }
    result = await reader.slash(channel, "brief")
    shown = result.followups[-1] if result.followups else result.response
    lines = (shown.embeds[0].description or "").split("\n")
    numbered = [line for line in lines if line[:2] in {f"{n}." for n in range(1, 10)}]
    assert len(numbered) == 6 and all("3 sources" in line for line in numbered[:3])
    assert all("1 source" in line for line in numbered[3:])


def test_the_brief_counts_an_event_once_and_ranks_by_sources(library_at, tmp_path):
    bot_library = library_at(tmp_path / "brief")
    bot_library.ingest_articles([CUP_FINAL, ERUPTION, LAVA_UPDATE, SECOND_OUTLET])
    events = bot_library.brief(hours=24)
    assert events[0].sources == 2 and {i.story.url for i in events[0].stories} == {ERUPTION.url, SECOND_OUTLET.url}
    assert sorted(e.headline.story.title for e in events[1:]) == sorted([CUP_FINAL.title, LAVA_UPDATE.title])
    assert [e.headline.story.title for e in bot_library.brief(hours=24, topic="cup final")] == [CUP_FINAL.title]
    with pytest.raises(NewsbotError):
        bot_library.brief(hours=0)


def test_brief_and_follows_from_the_command_line(bot_library):
    bot_library.ingest_articles(brief_day())
    bot_library.following.add(1, 10, VOLCANO, created_by=7)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}

    def newsbot(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "bot.cli", "--data-dir", str(bot_library.config.data_dir), *args]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    brief = newsbot("brief", "--hours", "24", "--json")
    assert brief.returncode == 0, brief.stderr
    events = json.loads(brief.stdout)
    assert [e["sources"] for e in events] == [3, 3, 3, 1, 1, 1] and all(e["lead"] for e in events)
    text = newsbot("brief")
    headlines = [line for line in text.stdout.splitlines() if line[:3].strip().rstrip(".").isdigit()]
    assert len(headlines) == 6 and all("(3 sources" in line for line in headlines[:3])
    listed = newsbot("follows", "list")
    assert listed.returncode == 0 and VOLCANO in listed.stdout and "last post never" in listed.stdout


async def test_a_lost_permission_pauses_one_follow_until_it_is_back_and_a_discord_hiccup_is_retried(
    server, bot_library
):
    env, guild, channel, editor, reader = server
    muted = guild.create_text_channel("muted")
    await editor.slash(muted, "follow", topic=VOLCANO)
    await editor.slash(channel, "follow", topic=VOLCANO)
    env.inject_error("POST", f"/channels/{muted.id}/messages", status=403, code=50013, message="Missing Permissions")
    env.inject_error("POST", f"/channels/{channel.id}/messages", status=500)  # once: Discord's own trouble
    bot_library.ingest_articles([ERUPTION])
    await env.advance_time(61)
    assert posts(channel) == [] and posts(muted) == []
    by_channel = {f.channel_id: f for f in bot_library.following.all(guild.id)}
    assert "no longer post" in by_channel[muted.id].paused and by_channel[channel.id].paused is None
    listed = await editor.slash(muted, "follows")
    assert "resumes by itself once I can post in that channel again" in listed.response.embeds[0].description
    await env.advance_time(61)  # the hiccup is over: the story comes now, once; and I may post in muted again
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(channel)] == [ERUPTION.title]
    assert [m.embeds[0].title for m in posts(muted)] == [ERUPTION.title]  # resumed where it stopped
    assert all(f.paused is None for f in bot_library.following.all(guild.id))


def test_a_follow_still_sees_new_stories_after_retention_removed_the_newest_numbered_one(library_at, tmp_path):
    library = library_at(tmp_path / "retained")
    follow = library.following.add(1, 10, VOLCANO, created_by=7)
    archive = replace(ERUPTION, url="https://news.example.org/archive/2019-eruption", published="2019-12-18")
    library.ingest_articles([archive])  # an old story, ingested last: the largest id
    (old,) = library.following.news_of([follow])[follow.id][0]
    library.following.posted(follow, old.article_id, 1)
    assert library.remove_old(days=365) >= 1
    follow = library.following.all()[0]
    assert library.following.news_of([follow])[follow.id][0] == []
    library.ingest_articles([ERUPTION])  # SQLite may give it the removed story's id
    follow = library.following.all()[0]
    assert [item.story.url for item in library.following.news_of([follow])[follow.id][0]] == [ERUPTION.url]


async def test_past_the_most_posts_a_pass_the_rest_is_one_line(server, bot_library):
    env, guild, channel, editor, reader = server
    env.bot.settings.follow_max_posts = 1
    await editor.slash(channel, "follow", topic=VOLCANO)
    flights = story(
        "keflavik-flights",
        "Flights keep landing at Keflavik despite the volcano eruption in Iceland",
        "Airlines kept flying into Keflavik airport on Monday, saying the ash from the eruption was drifting"
        " away from the flight paths.",
    )
    bot_library.ingest_articles([ERUPTION, LAVA_UPDATE, flights])
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(channel)] == [ERUPTION.title]
    lines = [m.content for m in channel.history() if m.author.bot and not m.embeds and "more about" in m.content]
    assert len(lines) == 1 and lines[0].startswith("and 2 more about") and "/latest topic:" in lines[0]
    await env.advance_time(61)
    assert len(posts(channel)) == 1  # summed up once, not posted later


@pytest.mark.simcord(shard_count=2)
async def test_each_process_delivers_the_follows_of_its_own_shards_only(simcord_env, bot_library, tmp_path):
    env = simcord_env
    guilds = []
    while len({(g.id >> 22) % 2 for g in guilds}) < 2:  # a guild on each of the two shards
        guilds.append(env.create_guild())
        await env.advance_time(0.001)
    mine = next(g for g in guilds if (g.id >> 22) % 2 == 0)
    theirs = next(g for g in guilds if (g.id >> 22) % 2 == 1)
    here, there = mine.create_text_channel("news"), theirs.create_text_channel("news")
    bot_library.following.add(mine.id, here.id, VOLCANO, created_by=1)
    bot_library.following.add(theirs.id, there.id, VOLCANO, created_by=1)  # made through the other process
    shard_zero = Settings(
        data_dir=tmp_path / "followdata", shard_ids=[0], shard_count=2, follow_seconds=60, _env_file=None
    )
    await env.restart_bot(create_bot(shard_zero, library=bot_library))
    bot_library.ingest_articles([ERUPTION])
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(here)] == [ERUPTION.title]
    assert posts(there) == []  # the process holding shard 1 delivers that one
    assert all(f.paused is None for f in bot_library.following.all())


@pytest.mark.parametrize(("moment", "shown_again"), [("die-after-post", 1), ("die-after-commit", 0)])
def test_a_delivery_process_killed_mid_delivery_reposts_at_most_the_story_in_flight(
    make_library, tmp_path, moment, shown_again
):
    """A real SIGKILL: killed between Discord's acceptance of a post and its commit, that one story is
    posted again after a restart (each process simulates its own Discord, so the post in flight is
    not there to be found; in one Discord it is, as the tests above show); killed after the commit,
    nothing is; no story is lost."""
    folder = tmp_path / "killed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}

    def bot_process(mode: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "tests.follow_process", str(folder), mode]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    library = make_library(folder)
    library.ingest([SAMPLE_NEWS])
    setup = bot_process("setup")
    assert setup.returncode == 0, setup.stderr
    library.ingest_articles([ERUPTION, LAVA_UPDATE])
    killed = bot_process(moment)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    posted_first = [line for line in killed.stdout.splitlines() if line.startswith("POSTED")]
    assert len(posted_first) == 1  # one post accepted by Discord, then the kill
    restarted = bot_process("deliver")
    assert restarted.returncode == 0, restarted.stderr
    channels = {line for line in (setup.stdout + killed.stdout + restarted.stdout).splitlines() if "CHANNEL" in line}
    assert len(channels) == 1  # each run built the same server
    shown = [line.removeprefix("SHOWN ") for line in restarted.stdout.splitlines() if line.startswith("SHOWN")]
    assert shown == [ERUPTION.title] * shown_again + [LAVA_UPDATE.title]


async def test_a_failed_pass_never_ends_delivery_and_status_shows_it(server, bot_library):
    """One `database is locked` from the library's follow list (or the database down for a pass):
    that pass fails, is shown in /status, and the next pass delivers as if nothing happened."""
    import sqlite3

    env, guild, channel, editor, reader = server
    await editor.slash(channel, "follow", topic=VOLCANO)
    operators = guild.create_role("Newsbot operators")
    env.bot.settings.admin_role_ids.append(operators.id)
    operator = guild.add_member(env.create_user("operator"), roles=[operators])
    listing = bot_library.following.all

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    bot_library.following.all = locked
    bot_library.ingest_articles([ERUPTION])
    await env.advance_time(61)
    assert posts(channel) == []
    status = await operator.slash(channel, "status")
    delivery = {f.name: f.value for f in status.response.embeds[0].fields}["Follow delivery"]
    assert delivery.startswith("failing (OperationalError)") and "locked" not in delivery
    bot_library.following.all = listing
    await env.advance_time(61)
    assert [m.embeds[0].title for m in posts(channel)] == [ERUPTION.title]
    status = await operator.slash(channel, "status")
    assert {f.name: f.value for f in status.response.embeds[0].fields}["Follow delivery"].startswith("ok")


async def test_also_reported_by_names_a_source_once_whatever_crashes_between_edit_and_record(
    server, bot_library, tmp_path
):
    env, guild, channel, editor, reader = server
    await editor.slash(channel, "follow", topic=VOLCANO)
    bot_library.ingest_articles([ERUPTION])
    await env.advance_time(61)
    record = bot_library.following.posted

    def dies_after_the_edit(*args, **kwargs):
        raise RuntimeError("killed before the commit")

    bot_library.following.posted = dies_after_the_edit
    bot_library.ingest_articles([SECOND_OUTLET])
    await env.advance_time(61)  # the post is edited, the edit not recorded
    bot_library.following.posted = record
    await env.restart_bot(create_bot(bot_settings(tmp_path), library=bot_library))
    await env.advance_time(61)
    await env.advance_time(61)
    shown = posts(channel)
    assert [m.embeds[0].title for m in shown] == [ERUPTION.title]
    also = {f.name: f.value for f in shown[0].embeds[0].fields}["Also reported by"]
    assert also.count("Second Wire") == 1 and also.count(SECOND_OUTLET.url) == 1


def test_a_follows_topic_is_embedded_once_and_kept_with_it(make_library, embedder, tmp_path, monkeypatch):
    """The topic is embedded when the follow is made and stored with it: delivery passes, a new
    process or a cold cache embed nothing; a follow stored without one (an older library), or
    with another embedding model's, is embedded once, then kept."""
    library = make_library(tmp_path / "once")
    library.ingest([SAMPLE_NEWS])
    follow = library.following.add(1, 10, VOLCANO, created_by=7)
    other = library.following.add(1, 11, "cup final", created_by=7)
    asked: list[str] = []  # the session's embedder is the library's
    encode = embedder.encode
    monkeypatch.setattr(embedder, "encode", lambda texts, *a, **k: asked.extend(texts) or encode(texts, *a, **k))
    third = library.following.add(1, 12, "football", created_by=7)
    with sqlite3.connect(tmp_path / "once" / "news.sqlite3") as conn:  # as made before topic vectors were kept
        conn.execute("UPDATE follows SET topic_vector = NULL WHERE id = ?", (other.id,))
        conn.execute("UPDATE follows SET topic_model = 'an-older-model' WHERE id = ?", (third.id,))
    for story in (ERUPTION, LAVA_UPDATE, CUP_FINAL):
        library.ingest_articles([story])
        asked.clear()  # ingesting embeds passages; a pass over the follows embeds no topic
        news = library.following.news_of([follow, other, third])
        assert VOLCANO not in asked
        library = make_library(tmp_path / "once")  # as a new process would start, its caches empty
    assert asked == []  # "cup final" and "football" embedded in the first pass at most, then read from the store
    assert [h.story.url for h in news[other.id][0]] == [CUP_FINAL.url]


async def test_a_follow_post_carries_no_bidirectional_control(server, bot_library):
    """A right-to-left override in a headline, a source or a topic reaches no follow post."""
    from tests.test_bot import BIDI, every_text

    env, guild, channel, editor, reader = server
    followed = await editor.slash(channel, "follow", topic=f"{VOLCANO}\u200f")
    bot_library.ingest_articles(
        [replace(ERUPTION, title=f"{ERUPTION.title} \u202egnp.exe\u202c", source="Test \u2067Wire\u2069")]
    )
    await env.advance_time(61)
    (post,) = posts(channel)
    text = every_text(post) + followed.response.content
    assert "gnp.exe" in text and "Test Wire" in text and "Following" in text
    assert not set(text) & set(BIDI), text


async def test_a_topic_of_only_emoji_marks_or_invisible_characters_is_refused_everywhere(server, bot_library):
    """Such a topic could never match a story: /follow, /latest and /brief say so, and nothing is followed."""
    env, guild, channel, editor, reader = server
    for topic in ("\U0001f30b\U0001f525", "\u0301\u0308", "\u200b\u200d\ufeff", "\U0001f1ee\U0001f1f8 \u200f"):
        for command, who in (("follow", editor), ("latest", reader), ("brief", reader)):
            result = await who.slash(channel, command, topic=topic)
            said = result.followups[-1] if result.followups else result.response
            assert "no letter or digit" in said.content, (command, topic, said.content)
            assert len(said.content.splitlines()) == 1
    assert bot_library.following.all() == []
    followed = await editor.slash(channel, "follow", topic=f"\u200b{VOLCANO} \U0001f30b")  # words with them: kept
    assert "Following" in followed.response.content
    assert [f.topic for f in bot_library.following.all()] == [f"{VOLCANO} \U0001f30b"]
