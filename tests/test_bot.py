"""The real bot against SimCord's simulated Discord, with a real library over the sample news."""

from __future__ import annotations

import ast
import asyncio
import fcntl
import json
import logging
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch

import discord
import pytest

from bot.app import check_token, create_bot
from bot.settings import Settings
from index import NewsbotError
from index.store import open_store
from tests.conftest import DEMO_QUESTION, ROOT, SAMPLE_NEWS, write_jsonl

ADMIN_ID = 4242

# Discord would tell an AutoShardedBot how many shards to run; in the simulation we say one.
pytestmark = pytest.mark.simcord(shard_count=1)


@pytest.fixture
def bot_library(make_library, tmp_path):
    library = make_library(tmp_path / "botdata")
    library.ingest([SAMPLE_NEWS])
    return library


@pytest.fixture
def simcord_bot(bot_library, tmp_path):
    settings = Settings(
        data_dir=tmp_path / "botdata", question_cooldown_seconds=0, admin_user_ids=[ADMIN_ID], _env_file=None
    )
    return create_bot(settings, library=bot_library)


@pytest.fixture
def world(simcord_env):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("news")
    alice = guild.add_member(simcord_env.create_user("alice"))
    return simcord_env, guild, channel, alice


def make_admin(env, guild):
    """A member holding a role the operator listed in NEWSBOT_ADMIN_ROLE_IDS."""
    operators = guild.create_role("Newsbot operators")
    env.bot.settings.admin_role_ids.append(operators.id)
    return guild.add_member(env.create_user("operator"), roles=[operators])


def make_server_admin(env, guild, name="owner-of-another-server"):
    """A member with Manage Server on their own server: no operator of the shared library."""
    managers = guild.create_role("Managers", permissions=discord.Permissions(manage_guild=True, administrator=True))
    return guild.add_member(env.create_user(name), roles=[managers])


def shown(result):
    """What the user sees for an interaction: the last followup, or the (deferred) response."""
    return result.followups[-1] if result.followups else result.response


def description(message) -> str:
    return message.embeds[0].description or ""


async def test_slash_ask_answers_with_quote_and_link(world):
    env, guild, channel, alice = world
    result = await alice.slash(channel, "ask", question=DEMO_QUESTION)
    assert result.acknowledged
    answer = shown(result)
    embed = answer.embeds[0]
    assert "**Yoshihiko Noda**" in embed.description
    assert "237" in embed.description  # the quote
    assert embed.url == "https://news.example.org/2025/10/21/takaichi-becomes-prime-minister"
    assert embed.title == "Sanae Takaichi elected Japan's first female prime minister"
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Source"] == "Sample Wire" and fields["Published"].startswith("<t:")


async def test_mention_question_is_answered_in_reply(world):
    env, guild, channel, alice = world
    bot_user = env.bot.user
    await alice.send(channel, f"<@{bot_user.id}> {DEMO_QUESTION}")
    reply = channel.last_message
    assert reply.author.id == bot_user.id
    assert reply.reference is not None
    assert "Yoshihiko Noda" in description(reply)


async def test_follow_up_reply_to_the_bot_is_answered(world):
    env, guild, channel, alice = world
    await alice.send(channel, f"<@{env.bot.user.id}> {DEMO_QUESTION}")
    first = channel.last_message
    await alice.send(channel, "Which team won the World Series?", reply_to=first)
    assert "Dodgers" in description(channel.last_message)


async def test_mention_without_question_gets_a_hint(world):
    env, guild, channel, alice = world
    await alice.send(channel, f"<@{env.bot.user.id}>")
    assert "Ask me a question about the news" in channel.last_message.content


async def test_abstention_lists_closest_stories(world):
    env, guild, channel, alice = world
    result = await alice.slash(channel, "ask", question="What is the boiling point of liquid nitrogen in kelvin?")
    embed = shown(result).embeds[0]
    assert embed.title == "No answer found in the indexed news"
    assert "Closest stories" in embed.description and "https://news.example.org/" in embed.description


async def test_an_answer_shows_the_other_stories_that_agree(world, bot_library):
    from tests.test_trust import APPOINTMENT

    bot_library.ingest_articles(APPOINTMENT)
    env, guild, channel, alice = world
    result = await alice.slash(channel, "ask", question="Who was appointed harbour master?")
    embed = shown(result).embeds[0]
    assert "Marta Lindqvist" in embed.description
    agree = next(f for f in embed.fields if f.name.endswith("stories agree"))
    assert agree.name == "3 stories agree" and agree.value.count("https://") == 2
    assert "gossip-weekly" not in agree.value and embed.url not in agree.value


async def test_an_unsure_reader_offers_candidates_in_chat(world, bot_library, reader):
    env, guild, channel, alice = world
    shipped = reader.threshold
    reader.threshold = 1.0  # nothing is sure enough to be answered
    try:
        result = await alice.slash(channel, "ask", question=DEMO_QUESTION)
    finally:
        reader.threshold = shipped
    embed = shown(result).embeds[0]
    assert embed.title == "Not sure" and embed.fields
    assert "Yoshihiko Noda" in embed.fields[0].name and "https://news.example.org/" in embed.fields[0].value


async def test_bad_questions_are_explained(world):
    env, guild, channel, alice = world
    result = await alice.slash(channel, "ask", question="x" * 4000)
    assert "too long" in shown(result).content


async def test_latest_newest_first_and_paginated(world):
    env, guild, channel, alice = world
    result = await alice.slash(channel, "latest")
    embed = shown(result).embeds[0]
    lines = embed.description.splitlines()
    assert "Longest government shutdown" in lines[0] and "Dodgers" in lines[1]
    assert len(lines) == 6
    louvre = await alice.slash(channel, "latest", topic="Louvre")
    assert "Louvre" in shown(louvre).embeds[0].description


async def test_latest_pages_with_buttons(world, bot_library, tmp_path):
    env, guild, channel, alice = world
    many = write_jsonl(
        tmp_path / "many.jsonl",
        [
            {
                "url": f"https://x.test/{i}",
                "title": f"Story {i:02d}",
                "text": f"Item {i} happened.",
                "published": f"2025-12-{i + 1:02d}",
            }
            for i in range(14)
        ],
    )
    bot_library.ingest([many])
    result = await alice.slash(channel, "latest", count=20)
    message = shown(result)
    assert message.embeds[0].footer.text == "Page 1 of 2"
    await alice.click(message, label="Next")
    turned = channel.last_message if channel.last_message.id == message.id else env.get_message(message.id)
    assert "Page 2 of 2" in turned.embeds[0].footer.text


async def test_non_admin_reindex_refused_and_nothing_happens(world, bot_library):
    env, guild, channel, alice = world
    generation = bot_library.generation
    result = await alice.slash(channel, "reindex")
    assert result.ephemeral
    assert "only the bot's operators" in result.response.content
    assert bot_library.generation == generation


async def test_admin_reindex_reports_progress_while_ask_still_answers(world, bot_library):
    env, guild, channel, alice = world
    admin = make_admin(env, guild)
    generation = bot_library.generation
    # Hold the store's write lock as another writer would, so the reindex is still running below.
    with (bot_library.config.data_dir / ".write.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = await admin.slash(channel, "reindex")
        assert "Reindexing" in started.response.content
        again = await admin.slash(channel, "reindex")
        assert again.ephemeral and "already running" in again.response.content
        answer = await alice.slash(channel, "ask", question=DEMO_QUESTION)
        assert "Yoshihiko Noda" in shown(answer).embeds[0].description
        await env.advance_time(2)
        assert bot_library.generation == generation  # old index still in use
        fcntl.flock(lock, fcntl.LOCK_UN)
    for _ in range(200):
        await asyncio.sleep(0.05)
        await env.advance_time(2)
        if "finished" in started.response.content:
            break
    assert started.response.content.startswith("Reindex finished")
    assert "13 passages re-embedded" in started.response.content
    assert bot_library.generation == generation + 1


async def test_reindex_longer_than_the_interaction_token_reports_in_the_channel(world, bot_library):
    env, guild, channel, alice = world
    admin = make_admin(env, guild)
    with (bot_library.config.data_dir / ".write.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = await admin.slash(channel, "reindex")
        await env.advance_time(16 * 60)  # Discord forgets the interaction token after 15 minutes
        fcntl.flock(lock, fcntl.LOCK_UN)
    for _ in range(200):
        await asyncio.sleep(0.05)
        await env.advance_time(2)
        if any("Reindex finished" in m.content for m in channel.history()):
            break
    finished = [m for m in channel.history() if "Reindex finished" in m.content]
    assert finished and finished[-1].author.id == env.bot.user.id
    assert "13 passages re-embedded" in finished[-1].content
    assert "Reindex finished" not in started.response.content  # the expired reply was left alone


async def test_everyone_in_a_story_pings_no_one(world, bot_library, tmp_path):
    env, guild, channel, alice = world
    story = write_jsonl(
        tmp_path / "ping.jsonl",
        [
            {
                "url": "https://x.test/ping",
                "title": "@everyone Server raid reported",
                "text": "Moderator Jane Roe posted @everyone and <@&123> in **bold** to warn about the raid on Friday.",
            }
        ],
    )
    bot_library.ingest([story])
    await alice.send(channel, f"<@{env.bot.user.id}> Who posted @everyone to warn about the raid?")
    reply = channel.last_message
    assert not reply.mention_everyone and not reply.role_mentions and not reply.mentions
    assert "@everyone" not in (reply.embeds[0].description or "").replace("@\u200beveryone", "")


async def test_discord_500_on_send_does_not_crash_the_bot(world, caplog):
    env, guild, channel, alice = world
    env.inject_error("POST", "/channels/*/messages", status=500)

    def replies() -> list:
        return [r for r in env.http_requests if r.method == "POST" and fnmatch(r.path, "/channels/*/messages")]

    caplog.set_level(logging.WARNING, logger="bot")
    question = await alice.send(channel, f"<@{env.bot.user.id}> {DEMO_QUESTION}")
    # The bot's reply was sent and Discord answered it with the 500: nothing was posted, it was logged.
    assert len(replies()) == 1 and env.backend.faults == []
    assert channel.last_message.id == question.id
    assert "could not reply to message" in caplog.text and "500" in caplog.text
    # The bot still answers: the next question gets its reply, and nothing escaped a handler.
    await alice.send(channel, f"<@{env.bot.user.id}> {DEMO_QUESTION}")
    assert len(replies()) == 2 and channel.last_message.author.id == env.bot.user.id
    assert "Yoshihiko Noda" in description(channel.last_message)
    env.raise_errors()


async def test_status_and_sources(world, tmp_path):
    env, guild, channel, alice = world
    admin = make_admin(env, guild)
    status = await admin.slash(channel, "status")
    fields = {f.name: f.value for f in status.response.embeds[0].fields}
    assert fields["Articles"] == "6" and fields["Model"] == "all-MiniLM-L6-v2"
    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "quake.md").write_text("# Earthquake in Chile\n\nA strong earthquake shook Santiago on Monday.\n")
    refused = await admin.slash(channel, "sources add", location=str(folder), name="local")
    assert "Only http(s) feed or article URLs" in shown(refused).content
    env.bot.library.add_source(str(folder), "local")  # paths: from the bot's machine, as `newsbot sources add`
    listed = await admin.slash(channel, "sources list")
    assert "local" in listed.response.content
    missing = await admin.slash(channel, "sources remove", source_id=99)
    assert "No source with id 99" in shown(missing).content
    removed = await admin.slash(channel, "sources remove", source_id=1)
    assert "Removed source" in removed.response.content


async def test_an_operator_removes_an_article_and_others_may_not(world, bot_library):
    env, guild, channel, alice = world
    louvre = "https://news.example.org/2025/10/19/louvre-crown-jewels-theft"
    refused = await alice.slash(channel, "remove", articles=louvre)
    assert "only the bot's operators" in shown(refused).content and bot_library.stats()["articles"] == 6
    admin = make_admin(env, guild)
    removed = await admin.slash(channel, "remove", articles=f"{louvre} https://news.example.org/nowhere")
    said = shown(removed)
    assert said.ephemeral and "Removed" in said.content and "Thieves take French crown jewels" in said.content
    assert "No article with the URL or id `https://news.example.org/nowhere`" in said.content
    assert bot_library.stats()["articles"] == 5
    latest = await alice.slash(channel, "latest")
    assert "Louvre" not in shown(latest).embeds[0].description
    asked = await alice.slash(channel, "ask", question="What did the thieves take from the Louvre?")
    assert louvre not in every_text(shown(asked))


@pytest.mark.simcord(shard_count=1, approved_intents=discord.Intents.default())
async def test_works_without_the_message_content_intent(world):
    """The bot asks Discord for no message content (a privileged intent this simulated Discord would
    refuse it, as the real one does an unverified bot) and still answers the questions that mention it."""
    env, guild, channel, alice = world
    assert env.bot.intents.message_content is False and env.approved_intents.message_content is False
    assert env.bot.intents.guild_messages  # the messages themselves still come
    # Discord withholds the words of a message that does not mention the bot...
    await alice.send(channel, DEMO_QUESTION)
    assert "content hidden: requires the message_content intent" in env.transcript()
    assert channel.last_message.author.id == alice.id
    # ...and gives those of one that does.
    await alice.send(channel, f"<@{env.bot.user.id}> {DEMO_QUESTION}")
    assert channel.last_message.author.id == env.bot.user.id
    assert "Yoshihiko Noda" in description(channel.last_message)


def test_token_checks_never_echo_the_token():
    with pytest.raises(NewsbotError, match="no Discord token"):
        check_token(Settings(_env_file=None))
    secret = "not-a-token-but-secret"
    with pytest.raises(NewsbotError, match="malformed") as caught:
        check_token(Settings(discord_token=secret, _env_file=None))
    assert secret not in str(caught.value)
    assert secret not in repr(Settings(discord_token=secret, _env_file=None))


def test_token_mistakes_say_why_and_where_the_token_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("NEWSBOT_DISCORD_TOKEN", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(NewsbotError) as missing:
        check_token(Settings())
    assert f"{tmp_path / '.env'} does not exist" in str(missing.value)
    (tmp_path / ".env").write_text("NEWSBOT_LOG_LEVEL=INFO\n")
    with pytest.raises(NewsbotError) as missing:
        check_token(Settings())
    assert f"{tmp_path / '.env'} holds none" in str(missing.value)
    token = "MTA" + "x" * 21 + ".Gh1a2b." + "y" * 30
    assert check_token(Settings(discord_token=token, _env_file=None)) == token
    for pasted, why in [
        (f"Bot {token}", 'it begins with "Bot ", which newsbot adds itself'),
        (f'"{token}"', "it is in quotes"),
        ("abc.def", "three parts joined by dots, about 70 characters; this one has 2 parts and 7 characters"),
    ]:
        with pytest.raises(NewsbotError) as caught:
            check_token(Settings(discord_token=pasted, _env_file=None))
        assert why in str(caught.value) and token not in str(caught.value)


async def test_direct_messages_answered_or_declined_per_setting(world):
    env, guild, channel, alice = world
    await alice.send_dm(DEMO_QUESTION)
    dm = alice.user.dm_channel
    assert "Yoshihiko Noda" in description(dm.last_message)
    env.bot.settings.answer_dms = False
    await alice.send_dm(DEMO_QUESTION)
    assert "servers only" in dm.last_message.content


async def test_question_cooldown_is_friendly(world):
    env, guild, channel, alice = world
    env.bot.get_cog("AskCog").cooldown.seconds = 60
    await alice.slash(channel, "ask", question=DEMO_QUESTION)
    second = await alice.slash(channel, "ask", question=DEMO_QUESTION)
    assert second.ephemeral and "One question at a time" in second.response.content
    await env.advance_time(61)
    third = await alice.slash(channel, "ask", question=DEMO_QUESTION)
    assert "Yoshihiko Noda" in shown(third).embeds[0].description


async def test_a_burst_of_mentions_gets_one_cooldown_notice(world):
    env, guild, channel, alice = world
    env.bot.get_cog("AskCog").cooldown.seconds = 60
    mention = f"<@{env.bot.user.id}> {DEMO_QUESTION}"
    for _ in range(8):
        await alice.send(channel, mention)
    from_bot = [m for m in channel.history() if m.author.id == env.bot.user.id]
    assert len(from_bot) == 2  # the answer, and one "one question at a time"
    assert sum("One question at a time" in (m.content or "") for m in from_bot) == 1
    await env.advance_time(61)
    await alice.send(channel, mention)
    await alice.send(channel, mention)  # a new pause: told once again
    from_bot = [m for m in channel.history() if m.author.id == env.bot.user.id]
    assert len(from_bot) == 4


async def test_a_reply_to_the_bot_without_a_ping_is_not_answered(world):
    """Without the message-content intent such a reply arrives with empty text: once the bot answered
    every "thanks" with a hint."""
    from simcord.backend.models.message import AllowedMentions

    env, guild, channel, alice = world
    await alice.send(channel, f"<@{env.bot.user.id}> {DEMO_QUESTION}")
    answer = channel.last_message
    reference = env.backend.normalize_message_reference(
        channel.id, {"channel_id": str(channel.id), "message_id": str(answer.id)}
    )
    env.backend.create_message(
        channel.id, alice.id, "thanks!", reference=reference, allowed_mentions=AllowedMentions(replied_user=False)
    )
    await env.settle()
    assert channel.last_message.author.id == alice.id  # the bot stayed silent


async def test_a_model_change_awaiting_reindex_shows_users_no_server_path(world, bot_library, caplog):
    """Once every /ask, mention and /latest topic showed the model's folder on the bot's machine and
    the operator's command; users get a plain sentence, the operator's log the details."""
    stored = "/srv/newsbot/models/old-model"
    db = open_store(bot_library.config).backend  # as another process with another model left it
    with db.transaction() as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'embedding_model'", (stored,))
    db.close()
    env, guild, channel, alice = world
    asked = await alice.slash(channel, "ask", question=DEMO_QUESTION)
    await alice.send(channel, f"<@{env.bot.user.id}> {DEMO_QUESTION}")
    mentioned = channel.last_message
    latest = await alice.slash(channel, "latest", topic="baseball")
    for text in (shown(asked).content, mentioned.content, shown(latest).content):
        assert text == "The news index is being rebuilt; try again later."
    assert stored in caplog.text and "newsbot reindex" in caplog.text


async def test_sources_add_refuses_private_addresses(world):
    env, guild, channel, alice = world
    admin = make_admin(env, guild)
    result = await admin.slash(channel, "sources add", location="http://127.0.0.1:9/feed.xml")
    assert result.ephemeral
    assert "non-public address" in shown(result).content
    listed = await admin.slash(channel, "sources list")
    assert "No sources yet" in listed.response.content


async def test_manage_server_grants_nothing_global_across_two_guilds(simcord_env, bot_library, tmp_path):
    env = simcord_env
    home, other = env.create_guild(), env.create_guild()
    home_channel, other_channel = home.create_text_channel("news"), other.create_text_channel("news")
    intruder = make_server_admin(env, other)
    reader = home.add_member(env.create_user("reader"))
    secret = tmp_path / "private"
    secret.mkdir()
    (secret / "memo.md").write_text("# Internal memo\n\nThe launch code word is heliotrope.\n")
    generation = bot_library.generation
    for command, options in [
        ("reindex", {}),
        ("sources add", {"location": str(secret)}),
        ("sources add", {"location": f"file://{secret}"}),
        ("sources list", {}),
        ("status", {}),
    ]:
        result = await intruder.slash(other_channel, command, **options)
        assert result.ephemeral and "only the bot's operators" in shown(result).content, command
    assert bot_library.sources() == [] and bot_library.generation == generation
    answer = await reader.slash(home_channel, "ask", question="What is the launch code word?")
    assert "heliotrope" not in str(shown(answer).embeds[0].to_dict())
    # An operator's role counts in whichever server they hold it; a path is refused even for them.
    operator = make_admin(env, other)
    refused = await operator.slash(other_channel, "sources add", location=str(secret))
    assert "Only http(s) feed or article URLs" in shown(refused).content and bot_library.sources() == []
    status = await operator.slash(other_channel, "status")
    assert status.response.embeds[0].title == "newsbot status"


async def test_the_application_owner_and_listed_users_operate_the_bot(simcord_env, bot_library):
    env = simcord_env
    guild = env.create_guild()
    channel = guild.create_text_channel("news")
    owner = guild.add_member(env.create_user("owner"))
    listed = guild.add_member(env.create_user("listed"))
    stranger = guild.add_member(env.create_user("stranger"))
    env.bot.owner_id = owner.id  # as discord.py learns it from the application's info
    env.bot.settings.admin_user_ids.append(listed.id)
    for member in (owner, listed):
        assert (await member.slash(channel, "status")).response.embeds[0].title == "newsbot status"
    assert "only the bot's operators" in (await stranger.slash(channel, "status")).response.content


async def test_a_long_error_is_clipped_so_the_user_still_sees_it(world, bot_library, monkeypatch):
    env, guild, channel, alice = world
    admin = make_admin(env, guild)

    def failing_stats():
        raise NewsbotError("the store said: " + "x" * 3000)

    monkeypatch.setattr(bot_library, "stats", failing_stats)
    result = await admin.slash(channel, "status")
    assert result.ephemeral and result.response.content.startswith("The store said")
    assert len(result.response.content) <= 2000


async def test_latest_has_a_cooldown_too(world):
    env, guild, channel, alice = world
    env.bot.get_cog("LatestCog").cooldown.seconds = 30
    first = await alice.slash(channel, "latest")
    assert shown(first).embeds[0].title == "Latest stories"
    second = await alice.slash(channel, "latest")
    assert second.ephemeral and "try again in 30 s" in second.response.content
    await env.advance_time(31)
    assert shown(await alice.slash(channel, "latest")).embeds[0].title == "Latest stories"


async def test_cooldown_table_forgets_users_whose_pause_is_over():
    from bot.cooldown import Cooldown

    cooldown = Cooldown(seconds=0.0, trim_at=100)
    for user in range(10_000):
        assert cooldown.retry_after(user) == 0.0
    assert len(cooldown) <= 100
    waiting = Cooldown(seconds=60.0, trim_at=100)
    for user in range(150):
        waiting.retry_after(user)
    assert len(waiting) == 150 and waiting.retry_after(3) > 0  # nobody whose pause still runs is forgotten


# Every bidirectional control `bot.render.printable` strips for the terminal: none may reach Discord.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
LIGHTHOUSE = {
    "url": "https://x.test/lighthouse",
    "title": "Lighthouse keeper \u202egnp.exe\u202c saves two sailors off Cape Merrow",
    "text": "Lighthouse keeper Tomas Aldren rescued two sailors whose yacht capsized off Cape Merrow on Tuesday"
    " night, the coast guard said. Aldren rowed out in a storm \u2067and\u2069 brought both men ashore.",
    "source": "Coast \u2066Wire\u2069",
}


def every_text(message) -> str:
    """All a Discord message shows: its content and every string of its embeds."""
    return (message.content or "") + json.dumps([embed.to_dict() for embed in message.embeds], ensure_ascii=False)


async def test_a_headlines_bidirectional_controls_reach_no_discord_message(world, bot_library, tmp_path):
    """A right-to-left override in a headline would show the rest of a line reversed ("...exe.png"):
    /latest, /brief, /ask and a mention's reply show the story without any such control."""
    recent = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    bot_library.ingest([write_jsonl(tmp_path / "bidi.jsonl", [{**LIGHTHOUSE, "published": recent}])])
    env, guild, channel, alice = world
    question = "Who rescued the two sailors off Cape Merrow?"
    latest = shown(await alice.slash(channel, "latest"))
    brief = shown(await alice.slash(channel, "brief"))
    asked = shown(await alice.slash(channel, "ask", question=question))
    await alice.send(channel, f"<@{env.bot.user.id}> {question}")
    mentioned = channel.last_message
    assert "Tomas Aldren" in asked.embeds[0].description
    for message in (latest, brief, asked, mentioned):
        text = every_text(message)
        assert "gnp.exe" in text  # the story is there...
        assert not set(text) & set(BIDI), text  # ...without its controls


SENDS = {"send", "send_message", "reply", "edit", "edit_message", "edit_original_response"}


def test_every_message_the_bot_sends_goes_out_through_outgoing():
    """`bot.embeds.outgoing` is the one cleaning on the way out: a send, reply or edit that passed
    text or an embed any other way could carry a headline's controls to Discord."""
    bypassing = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SENDS):
                continue
            spread = [keyword.value for keyword in node.keywords if keyword.arg is None]
            through = [getattr(s.func, "id", getattr(s.func, "attr", "")) for s in spread if isinstance(s, ast.Call)]
            plain = [keyword.arg for keyword in node.keywords if keyword.arg not in (None, "mention_author")]
            if node.args or plain or through not in (["outgoing"], ["as_kwargs"]):
                bypassing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bypassing == []
