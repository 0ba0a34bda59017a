"""One bot process delivering follows in SimCord over a library folder: the process
`tests/test_follows.py` kills with SIGKILL at chosen moments of a delivery.

    python -m tests.follow_process DATA_DIR setup|deliver|die-after-post|die-after-commit

Each run builds the same simulated server (SimCord numbers guilds and channels alike run after run).
`setup` follows the volcano topic in its channel; `deliver` runs two delivery passes and prints
the stories the channel shows (`SHOWN <title>`); the `die-*` modes print `POSTED <article id>` and
SIGKILL their own process once Discord has accepted a post: before its record is committed, or
just after.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import simcord

from bot.app import create_bot
from bot.settings import Settings
from index import Library


async def main(data_dir: str, mode: str) -> None:
    settings = Settings(data_dir=data_dir, follow_seconds=60, question_cooldown_seconds=0, _env_file=None)
    library = Library(settings.library_config())
    if mode.startswith("die-"):
        commit = library.following.posted

        def posted(follow, article_id, message_id) -> None:
            if mode == "die-after-commit":
                commit(follow, article_id, message_id)
            print("POSTED", article_id, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        library.following.posted = posted
    async with simcord.run(create_bot(settings, library=library), shard_count=1) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("volcanoes")
        print("CHANNEL", guild.id, channel.id, flush=True)
        if mode == "setup":
            library.following.add(guild.id, channel.id, "volcano eruption in Iceland", created_by=1)
            return
        await env.advance_time(61)
        await env.advance_time(61)
        for message in channel.history():
            if message.author.bot and message.embeds:
                print("SHOWN", message.embeds[0].title, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
