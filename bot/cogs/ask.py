"""Questions: `/ask`, a mention of the bot, a reply to one of its answers, or a DM."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import one_at_a_time
from bot.cooldown import Cooldown
from bot.embeds import Reply, answer_embed, reply_to

if TYPE_CHECKING:
    from bot.app import NewsBot

log = logging.getLogger(__name__)

EXAMPLE = "who did Takaichi beat in the vote?"


class AskCog(commands.Cog):
    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot
        self.cooldown = Cooldown(bot.settings.question_cooldown_seconds, "question")

    async def answer(self, question: str) -> Reply:
        """The reply to `question`: an answer embed, or a plain explanation."""
        try:
            answer = await asyncio.to_thread(self.bot.library.ask, question)
        except Exception as exc:  # the same replies for /ask, a mention and every other command
            return Reply(reply_to(exc, f"answering {question[:200]!r}"))
        return Reply(embed=answer_embed(answer))

    @app_commands.command(name="ask", description="Ask a question about the news")
    @app_commands.describe(question=f"for example: {EXAMPLE}")
    @one_at_a_time()
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        await interaction.response.defer(thinking=True)
        reply = await self.answer(question)
        try:
            await interaction.followup.send(**reply.as_kwargs())
        except discord.HTTPException as exc:
            log.warning("could not send the answer to /ask: %s", exc)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.bot.user is None:
            return
        in_dm = message.guild is None
        if not in_dm and not self._addressed_to_bot(message):
            return
        if in_dm and not self.bot.settings.answer_dms:
            await self._reply(message, Reply("I answer questions in servers only; try /ask there."))
            return
        question = self._question_text(message)
        if not question:
            if in_dm or self.bot.user in message.mentions:
                await self._reply(message, Reply(f"Ask me a question about the news, e.g. “{EXAMPLE}”"))
            # else a reply to the bot that did not ping it: Discord withholds its text (no message-content
            # intent), and it is most likely a "thanks", not a question: nothing to say.
            return
        if note := self.cooldown.check(message.author.id):
            if self.cooldown.first_notice(message.author.id):  # one notice a pause, then silence
                await self._reply(message, Reply(note))
            return
        async with message.channel.typing():
            reply = await self.answer(question)
        await self._reply(message, reply)

    def _addressed_to_bot(self, message: discord.Message) -> bool:
        if self.bot.user in message.mentions:
            return True
        reference = message.reference
        resolved = reference.resolved if reference else None
        return isinstance(resolved, discord.Message) and resolved.author == self.bot.user

    def _question_text(self, message: discord.Message) -> str:
        me = self.bot.user
        mention = re.compile(rf"<@!?{me.id if me else 0}>")
        return " ".join(mention.sub(" ", message.content).split())

    async def _reply(self, message: discord.Message, reply: Reply) -> None:
        try:
            await message.reply(mention_author=False, **reply.as_kwargs())
        except discord.HTTPException as exc:
            log.warning("could not reply to message %s: %s", message.id, exc)


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(AskCog(bot))
