"""`newsbot follows list|add|remove`: the follows servers made with /follow, and the same follows
made or stopped from the bot's machine (by guild and channel id), over the library."""

from __future__ import annotations

import dataclasses
import json

from bot.render import follow_line
from bot.terminal import say
from index import Library


def follows_command(args, library: Library) -> int:
    following = library.following
    if args.action == "add":
        follow = following.add(args.guild, args.channel, args.topic, args.by, args.source)
        what = "new stories about it" if follow.source_id is None else "its new stories"
        say(
            f"added follow {follow.id}: {follow.subject!r} into channel {follow.channel_id} of guild"
            f" {follow.guild_id}; the bot posts {what} from its next pass on"
        )
    elif args.action == "remove":
        follow = following.remove(args.follow_id)
        say(f"removed follow {follow.id}: {follow.subject!r} in channel {follow.channel_id}")
    elif args.json:
        say(json.dumps([dataclasses.asdict(f) for f in following.all()], ensure_ascii=False))
    elif not (follows := following.all()):
        say("no follows yet; a server makes one with /follow in Discord (or `newsbot follows add`)")
    else:
        for follow in follows:
            say(follow_line(follow))
    return 0
