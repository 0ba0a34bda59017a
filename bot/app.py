"""The discord.py bot: one AutoShardedBot that owns one news Library and loads a cog per feature."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import CoolingDown, NotAdmin, NotChannelManager
from bot.embeds import notice, outgoing, reply_to
from bot.settings import Settings
from index import Library, NewsbotError

log = logging.getLogger(__name__)

EXTENSIONS = ("bot.cogs.ask", "bot.cogs.latest", "bot.cogs.admin", "bot.cogs.follows")

# Three dot-separated base64url parts: the shape of a Discord bot token.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")


class NewsBot(commands.AutoShardedBot):
    def __init__(self, settings: Settings, library: Library | None = None) -> None:
        # The bot never joins voice: no "PyNaCl/davey is not installed" warnings at start-up.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        intents = discord.Intents.default()
        # No privileged message-content intent: Discord still delivers the content of messages that
        # mention the bot and of DMs, which is all mention-questions need.
        intents.message_content = False
        super().__init__(
            shard_ids=settings.shard_ids,  # type: ignore[arg-type]  # None: every shard, as discord.py takes it
            shard_count=settings.shard_count,
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )
        self.settings = settings
        self._library = library
        self.started_at = time.perf_counter()

    @property
    def library(self) -> Library:
        """The news library: the one given, or the settings' own once the bot has set up."""
        if self._library is None:
            raise RuntimeError("the library is opened in setup_hook, before any command runs")
        return self._library

    async def setup_hook(self) -> None:
        if self._library is None:
            self._library = Library(self.settings.library_config())
        # Loading models takes seconds: do it off the event loop, before the first question.
        log.info("loading the embedding model and the reader")
        started = time.perf_counter()
        await asyncio.to_thread(self.library.warm_up)
        log.info("models loaded in %.1f s", time.perf_counter() - started)
        self.tree.error(self.on_app_command_error)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        if self.settings.test_guild_id:
            guild = discord.Object(id=self.settings.test_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to test guild %s", len(synced), self.settings.test_guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d commands globally", len(synced))

    async def on_ready(self) -> None:
        log.info("logged in as %s in %d servers", self.user, len(self.guilds))

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError):
        if isinstance(error, NotAdmin):
            message = "Sorry, only the bot's operators can do that: it changes the news every server shares."
        elif isinstance(error, NotChannelManager):
            message = "Sorry, managing this server's follows needs the Manage Channels permission here."
        elif isinstance(error, CoolingDown):
            message = str(error)
        else:
            failed = error.original if isinstance(error, app_commands.CommandInvokeError) else error
            message = reply_to(failed, f"command {interaction.command and interaction.command.name}")
        await reply_privately(interaction, message)

    def uptime(self) -> float:
        return time.perf_counter() - self.started_at


async def reply_privately(interaction: discord.Interaction, message: str) -> None:
    """An ephemeral message, whether or not the interaction was already acknowledged; cut to
    Discord's limit, so a long error still reaches the user."""
    message = notice(message)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(**outgoing(message, ephemeral=True))
        else:
            await interaction.response.send_message(**outgoing(message, ephemeral=True))
    except discord.HTTPException as exc:
        log.warning("could not tell the user about an error: %s", exc)


def create_bot(settings: Settings, library: Library | None = None) -> NewsBot:
    """The unstarted bot; pass a `library` to share one (tests, embedding applications)."""
    return NewsBot(settings, library)


def check_token(settings: Settings) -> str:
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        env_file = Path(str(settings.model_config["env_file"])).resolve()
        read = "holds none" if env_file.is_file() else "does not exist"
        raise NewsbotError(
            "no Discord token: set NEWSBOT_DISCORD_TOKEN (or DISCORD_TOKEN) in the environment or in the .env"
            f" of the folder newsbot runs in ({env_file} {read})"
        )
    token = settings.discord_token.get_secret_value().strip()
    if not _TOKEN_SHAPE.match(token):
        raise NewsbotError(f"the Discord token is malformed: {token_mistake(token)}")
    return token


def token_mistake(token: str) -> str:
    """Why a token is not of a bot token's shape, and what to do, without repeating any of it."""
    copy = "copy the bot token from the developer portal's Bot page"
    if token.lower().startswith(("bot ", "bearer ")):
        prefix = token.split()[0]
        return f'it begins with "{prefix} ", which newsbot adds itself when it signs in: give the token alone'
    if token[:1] in "\"'" or token[-1:] in "\"'":
        return "it is in quotes, which became part of it: give the token alone, without them"
    if any(c.isspace() for c in token):
        return f"it holds a space or a line break: {copy} again, in one piece"
    parts = token.count(".") + 1
    return (
        f"a bot token is three parts joined by dots, about 70 characters; this one has {parts}"
        f" part{'s' * (parts != 1)} and {len(token)} characters: {copy}"
    )


def run_bot(settings: Settings) -> None:
    """Run until stopped. Raises NewsbotError (one line) when Discord cannot be reached at start or
    refuses the token, so a supervisor sees a non-zero exit and restarts it; once connected,
    discord.py reconnects by itself."""
    token = check_token(settings)
    bot = create_bot(settings)
    try:
        bot.run(token, log_handler=None)
    except (TimeoutError, aiohttp.ClientConnectionError, OSError, discord.GatewayNotFound) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise NewsbotError(
            f"could not reach Discord ({reason}); check this machine's network, then start the bot again"
        ) from None
    except discord.LoginFailure:
        raise NewsbotError("Discord rejected the token: reset it in the developer portal and update .env") from None
    except discord.PrivilegedIntentsRequired:
        raise NewsbotError("Discord refused an intent the bot asked for; see the README's portal settings") from None
