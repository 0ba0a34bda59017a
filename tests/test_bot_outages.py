"""The bot when the library's own machine fails it: the database down, the store damaged, the folder
read-only. Members get one plain sentence (the same for /ask and a mention), never a database
address, a path or a traceback; operators get the detail in the logs."""

from __future__ import annotations

import sqlite3

import discord
import pytest

from bot.app import create_bot
from bot.embeds import SOMETHING_WRONG
from bot.settings import Settings
from index import Library, LibraryConfig
from index.errors import NotWritableError, StoreUnavailableError
from tests.conftest import DEMO_QUESTION

pytestmark = pytest.mark.simcord(shard_count=1)

DOWN = "postgresql://postgres:hunter2@127.0.0.1:9/newsdb"  # nothing listens on port 9 here


def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "outage", question_cooldown_seconds=0, _env_file=None)


@pytest.fixture
def library(embedder, reader, chunker, tmp_path):
    return Library(
        LibraryConfig(data_dir=tmp_path / "outage", database_url=DOWN),
        embedder=embedder,
        reader=reader,
        chunker=chunker,
    )


@pytest.fixture
def simcord_bot(library, tmp_path):
    return create_bot(settings(tmp_path), library=library)


@pytest.fixture
def world(simcord_env):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("news")
    editors = guild.create_role("Editors", permissions=discord.Permissions(manage_channels=True))
    return simcord_env, guild, channel, guild.add_member(simcord_env.create_user("alice"), roles=[editors])


def said(result) -> str:
    message = result.followups[-1] if result.followups else result.response
    return message.content or ""


async def test_the_database_down_is_one_plain_sentence_everywhere(world, caplog):
    env, guild, channel, alice = world
    replies = [
        said(await alice.slash(channel, "ask", question=DEMO_QUESTION)),
        said(await alice.slash(channel, "latest")),
    ]
    await alice.send(channel, f"<@{env.bot.user.id}> {DEMO_QUESTION}")
    replies.append(channel.last_message.content)
    assert replies == [StoreUnavailableError.chat] * 3
    assert "127.0.0.1" in caplog.text  # the operator's log says where it tried


async def test_a_damaged_store_gets_the_same_sentence_for_ask_and_a_mention(world, library):
    env, guild, channel, alice = world

    def damaged(*args, **kwargs):
        raise sqlite3.DatabaseError("database disk image is malformed")

    library.ask = damaged
    asked = said(await alice.slash(channel, "ask", question=DEMO_QUESTION))
    await alice.send(channel, f"<@{env.bot.user.id}> {DEMO_QUESTION}")
    assert asked == channel.last_message.content == SOMETHING_WRONG


async def test_a_read_only_library_never_shows_its_path(world, library, tmp_path):
    env, guild, channel, alice = world

    def read_only(*args, **kwargs):
        raise NotWritableError(f"data dir {tmp_path} is not writable")

    library.following.add = read_only
    reply = said(await alice.slash(channel, "follow", topic="volcanoes"))
    assert reply == NotWritableError.chat and str(tmp_path) not in reply
