"""Permission checks as decorators for app commands."""

from __future__ import annotations

import discord
from discord import app_commands


class NotAdmin(app_commands.CheckFailure):
    """Raised when someone without admin rights runs an admin command."""


def is_admin(interaction: discord.Interaction) -> bool:
    """Manage Server permission, or a user or role listed in the admin settings."""
    settings = interaction.client.settings
    user = interaction.user
    if user.id in settings.admin_user_ids:
        return True
    if not isinstance(user, discord.Member):
        return False
    if user.guild_permissions.manage_guild:
        return True
    return any(role.id in settings.admin_role_ids for role in user.roles)


def admin_only():
    async def predicate(interaction: discord.Interaction) -> bool:
        if not is_admin(interaction):
            raise NotAdmin("admin only")
        return True

    return app_commands.check(predicate)
