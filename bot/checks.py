"""Who may change the shared news library: the bot's operators, never a server's own admins.

One bot serves every server it is in from one news library, so a command that changes that library
(`/reindex`, `/sources ...`, and `/status`, which shows where sources live) is for the people who run
the bot: the application's owner or its team members (from Discord's application info), and the
users and roles named in `NEWSBOT_ADMIN_USER_IDS` / `NEWSBOT_ADMIN_ROLE_IDS`. Manage Server on some
server grants nothing here: anyone can create a server and be its admin.

A server's follows (`/follow`) are that server's own: Manage Channels there manages them
(`manages_channels`), and operators manage any.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.cooldown import Cooldown
    from bot.settings import Settings


class OperatedBot(Protocol):
    """What the checks ask of the bot (`bot.app.NewsBot` is one): the settings naming its operators,
    and discord.py's owner check. Named here, so the checks need not import the bot that uses them."""

    settings: Settings

    async def is_owner(self, user: discord.abc.User, /) -> bool: ...


class NotAdmin(app_commands.CheckFailure):
    """Raised when someone who does not operate the bot runs an operator command."""


async def is_operator(interaction: discord.Interaction) -> bool:
    """The application's owner or team, or a user or role listed in the admin settings."""
    bot = cast(OperatedBot, interaction.client)
    settings = bot.settings
    user = interaction.user
    if user.id in settings.admin_user_ids:
        return True
    if isinstance(user, discord.Member) and any(role.id in settings.admin_role_ids for role in user.roles):
        return True
    return await bot.is_owner(user)  # discord.py reads (and caches) the application's owner and team


def admin_only():
    async def predicate(interaction: discord.Interaction) -> bool:
        if not await is_operator(interaction):
            raise NotAdmin("operators only")
        return True

    return app_commands.check(predicate)


class CoolingDown(app_commands.CheckFailure):
    """Raised when a user sends another command before their pause is over; says how long is left."""


def one_at_a_time():
    """A check: the user's pause between the commands of this cog (its `cooldown`, a
    `bot.cooldown.Cooldown`) is over; it starts the next one. The one cooldown check of the slash
    commands; the reply saying how long to wait is the bot's error handler's."""

    async def predicate(interaction: discord.Interaction) -> bool:
        command = cast(app_commands.Command, interaction.command)
        cooldown = cast("Cooldown", getattr(command.binding, "cooldown"))  # noqa: B009 (binding is typed Any | None)
        if message := cooldown.check(interaction.user.id):
            raise CoolingDown(message)
        return True

    return app_commands.check(predicate)


class NotChannelManager(app_commands.CheckFailure):
    """Raised when someone without Manage Channels (nor an operator) manages a server's follows."""


def manages_channels():
    async def predicate(interaction: discord.Interaction) -> bool:
        user = interaction.user
        if isinstance(user, discord.Member) and user.guild_permissions.manage_channels:
            return True
        if await is_operator(interaction):
            return True
        raise NotChannelManager("Manage Channels needed")

    return app_commands.check(predicate)
