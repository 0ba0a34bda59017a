"""`/latest [topic] [count]`: the newest stories, paginated; `/brief [hours] [topic]`: the top events."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import one_at_a_time
from bot.cooldown import Cooldown
from bot.embeds import brief_embed, clip, outgoing, safe, stories_embed
from bot.render import library_default
from index import Library, Story

if TYPE_CHECKING:
    from bot.app import NewsBot

PAGE_SIZE = 10


class StoryPages(discord.ui.View):
    """Previous / next buttons over a list of stories, for the person who asked only."""

    def __init__(self, stories: list[Story], title: str, owner_id: int) -> None:
        super().__init__(timeout=300)
        self.pages = [stories[i : i + PAGE_SIZE] for i in range(0, len(stories), PAGE_SIZE)] or [[]]
        self.title = title
        self.owner_id = owner_id
        self.page = 0
        self._sync_buttons()

    def embed(self) -> discord.Embed:
        return stories_embed(self.pages[self.page], self.title, self.page, len(self.pages))

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page == len(self.pages) - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(**outgoing("Run /latest yourself to page through.", ephemeral=True))
            return False
        return True

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = max(0, min(len(self.pages) - 1, self.page + step))
        self._sync_buttons()
        await interaction.response.edit_message(**outgoing(embed=self.embed(), view=self))

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, +1)


class LatestCog(commands.Cog):
    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot
        self.cooldown = Cooldown(bot.settings.question_cooldown_seconds, "request")

    @app_commands.command(name="latest", description="The newest stories in the index")
    @one_at_a_time()
    @app_commands.describe(topic="only stories about this", count="how many stories (1-50)")
    async def latest(
        self,
        interaction: discord.Interaction,
        topic: str | None = None,
        count: app_commands.Range[int, 1, 50] | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        count = count or library_default(Library.latest, "count")
        stories = await asyncio.to_thread(self.bot.library.latest, count, topic)
        title = f"Latest stories about {safe(clip(topic, 100))}" if topic else "Latest stories"
        if len(stories) <= PAGE_SIZE:
            await interaction.followup.send(**outgoing(embed=stories_embed(stories, title)))
            return
        view = StoryPages(stories, title, interaction.user.id)
        await interaction.followup.send(**outgoing(embed=view.embed(), view=view))

    @app_commands.command(name="brief", description="The top events of the last hours, one line each")
    @one_at_a_time()
    @app_commands.describe(
        hours=f"how far back (default {library_default(Library.brief, 'hours'):g})", topic="only events about this"
    )
    async def brief(
        self,
        interaction: discord.Interaction,
        hours: app_commands.Range[int, 1, 168] | None = None,
        topic: str | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        hours = hours or int(library_default(Library.brief, "hours"))
        events = await asyncio.to_thread(self.bot.library.brief, float(hours), topic)
        await interaction.followup.send(**outgoing(embed=brief_embed(events, hours, topic)))


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(LatestCog(bot))
