"""Follows: `/follow [topic] [source] [channel]`, `/unfollow`, `/follows`, and the loop that posts each
follow's new stories in its channel.

A follow belongs to one server and posts in one of its channels, so members who may manage that
server's channels manage its follows (operators manage any). Each process delivers the follows of
the guilds its shards hold. A story's post is marked in flight before it is sent and remembered (and
the follow's cursor moved) once Discord accepted it; a post left in flight (the record failed, the
process died) is looked for in the channel before the story is posted again. A deleted channel or a
lost permission pauses that follow alone.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.checks import is_operator, manages_channels
from bot.embeds import outgoing, safe, web_url
from bot.follow_embeds import follow_embed, follows_embed, more_line, post_title, with_also, without_image
from index.models import Follow, Headline

if TYPE_CHECKING:
    from bot.app import NewsBot

log = logging.getLogger(__name__)


def can_post(channel) -> bool:
    """Whether a follow's posts can go to this channel now: it exists and I may send embeds there."""
    if not isinstance(channel, discord.TextChannel):
        return False
    mine = channel.permissions_for(channel.guild.me)
    return mine.send_messages and mine.embed_links


@dataclass(frozen=True)
class DeliveryHealth:
    """How follow delivery is doing: when a pass last went through, when one last failed and how
    (the error's kind only: its text can hold server details)."""

    last_ok: datetime | None
    last_failed: datetime | None
    error: str | None

    @property
    def failing(self) -> bool:
        return self.last_failed is not None and (self.last_ok is None or self.last_failed > self.last_ok)


class FollowsCog(commands.Cog):
    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot
        self.health = DeliveryHealth(None, None, None)

    async def cog_load(self) -> None:
        self.deliver.change_interval(seconds=self.bot.settings.follow_seconds)
        self.deliver.start()

    async def cog_unload(self) -> None:
        self.deliver.cancel()

    @app_commands.command(name="follow", description="Post new stories about a topic, or of a source, in a channel")
    @app_commands.describe(
        topic="what to follow, e.g. Japan's prime minister (with a source: only its stories about this)",
        source="every new story of this source (its name, as under each story, or its id)",
        channel="where (default: here)",
    )
    @app_commands.guild_only()
    @manages_channels()
    async def follow(
        self,
        interaction: discord.Interaction,
        topic: str | None = None,
        source: str | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel):
            await interaction.response.send_message(
                **outgoing("Follows post in a server's text channel.", ephemeral=True)
            )
            return
        mine = target.permissions_for(target.guild.me)
        if not (mine.send_messages and mine.embed_links):
            await interaction.response.send_message(
                **outgoing(
                    f"I cannot post embeds in {target.mention}: give me Send Messages and Embed Links there first.",
                    ephemeral=True,
                )
            )
            return
        guild_id = cast(int, interaction.guild_id)  # a guild-only command
        follow = await asyncio.to_thread(
            self.bot.library.following.add, guild_id, target.id, topic, interaction.user.id, source
        )
        what = "new stories about it" if follow.topic else "its new stories"
        await interaction.response.send_message(
            **outgoing(
                f"Following **{safe(follow.subject)}** in {target.mention} (follow {follow.id}): {what} will be"
                " posted there."
            )
        )

    @follow.autocomplete("source")
    async def _source_names(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        sources = await asyncio.to_thread(self.bot.library.following.sources)
        return [
            app_commands.Choice(name=name[:100], value=str(source_id))
            for source_id, name in sources
            if typed.casefold() in name.casefold()
        ][:25]

    @app_commands.command(name="unfollow", description="Stop a follow of this server")
    @app_commands.describe(follow_id="the id `/follows` shows")
    @app_commands.guild_only()
    @manages_channels()
    async def unfollow(self, interaction: discord.Interaction, follow_id: int) -> None:
        guild = None if await is_operator(interaction) else interaction.guild_id
        follow = await asyncio.to_thread(self.bot.library.following.remove, follow_id, guild)
        await interaction.response.send_message(
            **outgoing(f"Stopped follow {follow.id} (**{safe(follow.subject)}** in <#{follow.channel_id}>).")
        )

    @app_commands.command(name="follows", description="This server's follows")
    @app_commands.guild_only()
    async def follows(self, interaction: discord.Interaction) -> None:
        follows = await asyncio.to_thread(self.bot.library.following.all, interaction.guild_id)
        name = interaction.guild.name if interaction.guild else ""
        await interaction.response.send_message(**outgoing(embed=follows_embed(follows, name), ephemeral=True))

    # -- delivery -------------------------------------------------------------------------------

    @tasks.loop(seconds=60)
    async def deliver(self) -> None:
        """One pass over the follows of the guilds this process holds; one follow's trouble never
        stops the others, and no error ends the loop: a pass that fails (the store locked, the
        database down) is logged, shown by `/status`, and the next pass tries again."""
        try:
            await self._pass()
        except Exception as exc:
            log.exception("a follow delivery pass failed; trying again next pass")
            self.health = DeliveryHealth(self.health.last_ok, datetime.now(UTC), type(exc).__name__)
        else:
            self.health = DeliveryHealth(datetime.now(UTC), None, None)

    async def _pass(self) -> None:
        library, ready = self.bot.library, []
        for follow in await asyncio.to_thread(library.following.all):
            guild = self.bot.get_guild(follow.guild_id)
            if guild is None:  # another process's shard, or a server the bot left
                continue
            try:
                channel = guild.get_channel(follow.channel_id)
                if follow.paused:
                    if not can_post(channel):
                        continue
                    log.info("follow %s resumed: I can post in channel %s again", follow.id, follow.channel_id)
                    await asyncio.to_thread(library.following.resume, follow.id)
                if channel is None:
                    await self._pause(follow, "its channel was deleted")
                    continue
                ready.append((follow, cast(discord.TextChannel, channel)))
            except Exception:
                log.exception("checking follow %s failed; trying again next pass", follow.id)
        if not ready:
            return
        news = await asyncio.to_thread(library.following.news_of, [follow for follow, _ in ready])
        for follow, channel in ready:
            try:
                await self._deliver(follow, channel, *news[follow.id])
            except Exception:
                log.exception("delivering follow %s failed; trying again next pass", follow.id)

    @deliver.before_loop
    async def _ready(self) -> None:
        await self.bot.wait_until_ready()

    async def _deliver(self, follow: Follow, channel: discord.TextChannel, news: list[Headline], newest: int) -> None:
        library = self.bot.library
        most, made = self.bot.settings.follow_max_posts, 0
        for number, item in enumerate(news):
            earlier = await asyncio.to_thread(library.following.earlier_post, follow.channel_id, item.article_id)
            if earlier is not None and await self._join(channel, earlier, item):
                await asyncio.to_thread(library.following.posted, follow, item.article_id, earlier)
                continue
            if made == most:
                if await self._post(follow, channel, content=more_line(follow, len(news) - number)) is None:
                    return
                break
            message = await self._post_once(follow, channel, item)
            if message is None:
                return  # the cursor stays: this story and the rest come next pass (or the follow paused)
            made += 1
            await asyncio.to_thread(library.following.posted, follow, item.article_id, message.id)
        if newest > follow.cursor:
            await asyncio.to_thread(library.following.dealt_with, follow, newest)

    async def _post_once(self, follow: Follow, channel: discord.TextChannel, item: Headline) -> discord.Message | None:
        """Post a story, marked in flight first; a story an earlier send left in flight (Discord took
        it, then recording it failed) is looked for in the channel, and not posted again if there."""
        library = self.bot.library
        after = await asyncio.to_thread(library.following.sending, follow, item.article_id, channel.last_message_id)
        if after is not None and (earlier := await self._find_post(channel, item, after)) is not None:
            log.info("follow %s: story %s was posted before (message %s)", follow.id, item.article_id, earlier.id)
            return earlier
        return await self._post(follow, channel, embed=follow_embed(item, follow))

    async def _find_post(self, channel: discord.TextChannel, item: Headline, after: int) -> discord.Message | None:
        """My post of this story in the channel since message `after` (0: among its newest); None when
        there is none, or the channel cannot be read (the story is then posted again)."""
        url, title = web_url(item.story.url), post_title(item)
        try:
            history = channel.history(limit=100, after=discord.Object(after)) if after else channel.history(limit=100)
            async for message in history:
                if message.author.id == channel.guild.me.id and message.embeds:
                    shown = message.embeds[0]
                    if (shown.url == url) if url else (shown.title == outgoing(title)["content"]):
                        return message
        except discord.HTTPException as exc:
            log.info("could not read channel %s for an earlier post (%s); posting again", channel.id, exc)
        return None

    async def _join(self, channel: discord.TextChannel, message_id: int, item: Headline) -> bool:
        """Add a story to the channel's post of its event ("Also reported by"); False when that post
        is gone or cannot be edited (the story then gets a post of its own)."""
        try:
            message = await channel.fetch_message(message_id)
            if not message.embeds:
                return False
            before = message.embeds[0].to_dict()
            joined = with_also(message.embeds[0].copy(), item)
            if joined.to_dict() != before:  # unchanged: the story was named there before a crash
                await message.edit(**outgoing(embed=joined))
        except discord.HTTPException as exc:
            log.info("could not add a story to post %s (%s); posting it on its own", message_id, exc)
            return False
        return True

    async def _post(self, follow: Follow, channel: discord.TextChannel, **message) -> discord.Message | None:
        try:
            return await channel.send(**outgoing(**message))
        except discord.NotFound:
            await self._pause(follow, "its channel was deleted")
        except discord.Forbidden:
            await self._pause(follow, f"I may no longer post in <#{follow.channel_id}>")
        except discord.HTTPException as exc:
            embed = message.get("embed")
            if exc.status == 400 and embed is not None and (embed.image.url or embed.thumbnail.url):
                # A picture address Discord will not take would hold the follow on this story forever.
                log.warning("follow %s: Discord refused a post (%s); posting it without its image", follow.id, exc)
                return await self._post(follow, channel, **{**message, "embed": without_image(embed)})
            log.warning("follow %s: Discord refused a post (%s); trying again next pass", follow.id, exc)
        return None

    async def _pause(self, follow: Follow, reason: str) -> None:
        log.warning("follow %s (%r in guild %s) paused: %s", follow.id, follow.topic, follow.guild_id, reason)
        await asyncio.to_thread(self.bot.library.following.pause, follow.id, reason)


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(FollowsCog(bot))
