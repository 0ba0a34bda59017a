"""A follow's posts as Discord embeds: a new story (with its picture where it has one), a story of
the same event added under "Also reported by", a server's list of follows, and the line that sums
up a pass's extra stories."""

from __future__ import annotations

import discord

from bot.embeds import ANSWER_COLOUR, DESCRIPTION_LIMIT, FIELD_LIMIT, TITLE_LIMIT, clip, safe, timestamp, web_url
from index.models import Follow, Headline


def post_title(item: Headline) -> str:
    """The title of a story's post (how an earlier post of it is known when it has no link)."""
    return clip(safe(item.story.title or "Untitled story"), TITLE_LIMIT)


def follow_embed(item: Headline, follow: Follow) -> discord.Embed:
    """One new story for a follow: its headline linked, its lead, source and date, and the image the
    feed or page named (an https URL checked at ingest: Discord fetches it, newsbot never does)."""
    story = item.story
    embed = discord.Embed(
        title=post_title(item),
        url=web_url(story.url),
        description=clip(safe(item.lead), 600) or None,
        colour=ANSWER_COLOUR,
    )
    if story.source:
        embed.add_field(name="Source", value=safe(clip(story.source, 200)), inline=True)
    embed.add_field(name="Published", value=timestamp(story.published), inline=True)
    if story.image:
        embed.set_image(url=story.image)
    embed.set_footer(text=clip(f"Following: {follow.subject} (follow {follow.id})", 2048))
    return embed


def more_line(follow: Follow, count: int) -> str:
    """The one line for a pass's stories past the most posts a pass makes."""
    if follow.topic:
        command = f"/latest topic:{follow.topic}".replace("`", "'")
        return f"and {count} more about **{safe(follow.topic)}**: `{command}`"[:2000]
    return f"and {count} more from **{safe(clip(follow.source_name or 'the source', 100))}**: `/latest`"[:2000]


ALSO = "Also reported by"


def with_also(embed: discord.Embed, item: Headline) -> discord.Embed:
    """A follow's post with one more story of its event named under "Also reported by"."""
    link = f"[{safe(clip(item.story.source or 'another report', 60))}]({web_url(item.story.url) or ''})"
    fields = [f for f in embed.fields if f.name == ALSO]
    if not fields:
        return embed.add_field(name=ALSO, value=link, inline=False)
    named = fields[0].value or ""
    if link in named:  # named already: an edit made before a crash kept it from being recorded
        return embed
    at = embed.fields.index(fields[0])
    value = named + ", " + link
    return embed.set_field_at(at, name=ALSO, value=value if len(value) <= FIELD_LIMIT else named, inline=False)


def follows_embed(follows: list[Follow], guild_name: str) -> discord.Embed:
    lines = []
    for follow in follows:
        delivered = timestamp(follow.last_delivery_at, "R") if follow.last_delivery_at else "nothing posted yet"
        state = (
            f" — **paused**: {safe(clip(follow.paused, 200))}; it resumes by itself once I can post in that"
            " channel again"
            if follow.paused
            else ""
        )
        lines.append(
            f"`{follow.id}` **{safe(clip(follow.subject, 140))}** in <#{follow.channel_id}>,"
            f" by <@{follow.created_by}>; last post {delivered}{state}"
        )
    description = (
        "\n".join(lines)
        if lines
        else "No follows yet: `/follow topic:...` posts new stories about a topic here, `/follow source:...`"
        " every new story of a source."
    )
    return discord.Embed(
        title=clip(f"Follows in {safe(guild_name)}", TITLE_LIMIT), description=description[:DESCRIPTION_LIMIT]
    )


def without_image(embed: discord.Embed) -> discord.Embed:
    """The same post without its picture, for when Discord refuses the picture's address."""
    plain = embed.copy()
    plain.set_image(url=None)
    plain.set_thumbnail(url=None)
    return plain
