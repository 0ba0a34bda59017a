"""Answers and story lists as Discord embeds: pure functions, safe against whatever a story says.

Article text is escaped (no Markdown, no mentions) and every field is cut to Discord's limits; every
message the bot sends or edits goes out through `outgoing`, which strips control characters.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import discord

from bot.render import AGREEING_SHOWN, printable
from bot.settings import in_setting_terms
from index import Answer, Story
from index.errors import ModelChangedError, NewsbotError, NothingIndexedError, OperatorError
from index.models import Event

log = logging.getLogger(__name__)

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
EMBED_TOTAL_LIMIT = 6000
QUOTE_LIMIT = 900
MESSAGE_LIMIT = 2000

ANSWER_COLOUR = discord.Colour.blurple()
ABSTAIN_COLOUR = discord.Colour.light_grey()


def clip(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis, never mid-escape."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    while cut.endswith("\\"):
        cut = cut[:-1]
    return cut + "…"


def outgoing(content: str | None = None, *, embed: discord.Embed | None = None, **rest) -> dict:
    """The arguments of a send, reply or edit with every string of its text and embed made
    `printable` (the terminal's own cleaning): a right-to-left override or other control character in
    a headline, a topic or an error reaches no Discord surface. `rest` (ephemeral, view) passes as is."""
    message = dict(rest)
    if content is not None:
        message["content"] = printable(content)
    if embed is not None:
        message["embed"] = discord.Embed.from_dict(_printable(embed.to_dict()))
    return message


def _printable(value):
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {key: _printable(item) for key, item in value.items()}
    return [_printable(item) for item in value] if isinstance(value, list) else value


def safe(text: str) -> str:
    """Article text as inert Discord text: no formatting, links or mentions of its own."""
    text = discord.utils.escape_markdown(text, as_needed=False)
    return discord.utils.escape_mentions(text)


# An absolute http(s) URL with a host and none of the characters that end or nest a Markdown link.
_WEB_URL = re.compile(r"https?://[^\s<>()\[\]{}|\\^`\"']+", re.IGNORECASE)
URL_LIMIT = 2000


def web_url(url: str | None) -> str | None:
    """The URL if it is a well-formed http(s) link Discord accepts as-is, else None (shown unlinked)."""
    if not url or len(url) > URL_LIMIT or not _WEB_URL.fullmatch(url) or printable(url) != url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return url if host else None


def timestamp(published: str | None, style: discord.utils.TimestampStyle = "D") -> str:
    """An ISO date as a Discord timestamp (shown in the reader's own time zone and locale)."""
    if not published:
        return "undated"
    try:
        moment = datetime.fromisoformat(published)
    except ValueError:
        return safe(published)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return discord.utils.format_dt(moment, style)


def confidence_label(score: float) -> str:
    level = "high" if score >= 0.6 else "medium" if score >= 0.3 else "low"
    return f"{level} ({score:.0%})"


def story_link(story: Story, limit: int = 200) -> str:
    title = safe(clip(story.title or story.url, limit))
    url = web_url(story.url)
    return f"[{title}]({url})" if url else title


def _quoted(quote: str, start: int, end: int, limit: int) -> str:
    """The quote, escaped, cut around the answer to `limit`, the answer underlined and bold."""
    if 0 <= start < end <= len(quote):
        before, middle, after = quote[:start], quote[start:end], quote[end:]
        room = limit - len(middle)
        before = clip(before[::-1], room // 2)[::-1] if len(before) > room // 2 else before
        after = clip(after, room // 2) if len(after) > room // 2 else after
        return f"{safe(before)}__**{safe(middle)}**__{safe(after)}".replace("\n", " ")
    return safe(clip(quote, limit))


def answer_embed(answer: Answer) -> discord.Embed:
    if answer.abstained:
        return abstain_embed(answer)
    story = answer.story
    quoted = _quoted(answer.quote, answer.answer_start, answer.answer_end, QUOTE_LIMIT)
    description = clip(f"**{safe(clip(answer.text, 300))}**", 400) + "\n> " + quoted.replace("\n", " ")
    embed = discord.Embed(
        title=clip(safe(story.title or "Untitled story"), TITLE_LIMIT) if story else None,
        url=web_url(story.url) if story else None,
        description=description[:DESCRIPTION_LIMIT],
        colour=ANSWER_COLOUR,
    )
    if story:
        if story.source:
            embed.add_field(name="Source", value=safe(clip(story.source, 200)), inline=True)
        embed.add_field(name="Published", value=timestamp(story.published), inline=True)
        if story.image:  # an https URL checked at ingest; Discord fetches it, we never do
            embed.set_thumbnail(url=story.image)
    embed.add_field(name="Confidence", value=confidence_label(answer.score), inline=True)
    if answer.agreeing:
        lines = [
            f"- {story_link(c.story, 150)}{_source(c.story)} ({timestamp(c.story.published)})"
            for c in answer.agreeing[:AGREEING_SHOWN]
        ]
        embed.add_field(
            name=f"{len(answer.agreeing) + 1} stories agree", value=clip_lines(lines, FIELD_LIMIT), inline=False
        )
    as_of = f" Answered as of {answer.as_of}." if answer.as_of else ""
    embed.set_footer(text=f"Extractive answer: the words are the article's own.{as_of}")
    return embed


FIELD_LIMIT = 1024
CANDIDATE_QUOTE_LIMIT = 300


def _source(story: Story) -> str:
    return f" · {safe(clip(story.source, 60))}" if story.source else ""


def clip_lines(lines: list[str], limit: int) -> str:
    """Whole lines, as many as fit in `limit` characters (a cut line would break its link)."""
    kept, used = [], 0
    for line in lines:
        if used + len(line) + 1 > limit:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept) or clip(lines[0], limit)


def abstain_embed(answer: Answer) -> discord.Embed:
    """Unsure: the candidate answers, plainly unconfirmed, with their quotes and stories. Nothing
    found: the closest stories."""
    if answer.candidates:
        embed = discord.Embed(
            title="Not sure",
            description="I found possible answers but cannot confirm any. The closest reports say:",
            colour=ABSTAIN_COLOUR,
        )
        for number, candidate in enumerate(answer.candidates, start=1):
            value = (
                f"> {_quoted(candidate.quote, candidate.answer_start, candidate.answer_end, CANDIDATE_QUOTE_LIMIT)}\n"
                f"{story_link(candidate.story, 150)}{_source(candidate.story)} ({timestamp(candidate.story.published)})"
            )
            embed.add_field(
                name=clip(f"{number}. {safe(clip(candidate.text, 200))} ({candidate.score:.0%})", TITLE_LIMIT),
                value=value[:FIELD_LIMIT],
                inline=False,
            )
        if answer.as_of:
            embed.set_footer(text=f"As of {answer.as_of}.")
        return embed
    lines = [f"- {story_link(s)} ({timestamp(s.published)})" for s in answer.closest]
    description = "Nothing I read in the indexed news answers that closely enough to show."
    if lines:
        description += "\n\n**Closest stories**\n" + "\n".join(lines)
    return discord.Embed(
        title="No answer found in the indexed news",
        description=description[:DESCRIPTION_LIMIT],
        colour=ABSTAIN_COLOUR,
    )


def stories_embed(stories: list[Story], title: str, page: int = 0, pages: int = 1) -> discord.Embed:
    if not stories:
        return discord.Embed(title=title, description="No stories found.", colour=ABSTAIN_COLOUR)
    lines = []
    for story in stories:
        source = f" · {safe(clip(story.source, 60))}" if story.source else ""
        when = timestamp(story.published, "R") if story.published else "undated"
        lines.append(f"- {story_link(story, 150)}{source} · {when}")
    embed = discord.Embed(
        title=clip(title, TITLE_LIMIT), description="\n".join(lines)[:DESCRIPTION_LIMIT], colour=ANSWER_COLOUR
    )
    if pages > 1:
        embed.set_footer(text=f"Page {page + 1} of {pages}")
    if image := next((story.image for story in stories if story.image), None):
        embed.set_thumbnail(url=image)  # the picture of the newest story on the page that has one
    return embed


# What chat users see while the index waits for `newsbot reindex` (the details go to the log).
REBUILDING = "The news index is being rebuilt; try again later."
SOMETHING_WRONG = "Something went wrong on my side; the error has been logged."


@dataclass(frozen=True)
class Reply:
    """What the bot sends back: a text, an embed, or both."""

    content: str | None = None
    embed: discord.Embed | None = None

    def as_kwargs(self) -> dict:
        """The arguments of `send`, `reply` and `followup.send`, cleaned by `outgoing`."""
        return outgoing(self.content, embed=self.embed)


NO_NEWS = "No news is indexed yet; an operator needs to add sources first."


def reply_to(error: BaseException, doing: str) -> str:
    """What a member is told when `doing` (a command, answering a mention) failed with `error`: the
    one mapping of errors to chat. The library's own errors are explained; where one names things
    of the bot's machine (a folder, a model's location, an operator's command) the logs get them;
    anything else is one sentence, and the logs get the traceback."""
    if isinstance(error, NothingIndexedError):  # names the data folder
        return NO_NEWS
    if isinstance(error, ModelChangedError):  # names the model and an operator's command
        log.warning("%s: %s", doing, error)
        return REBUILDING
    if isinstance(error, NewsbotError):
        return error_text(error)
    log.error("%s failed", doing, exc_info=error)
    return SOMETHING_WRONG


def error_text(error: Exception | str) -> str:
    """A library error as one sentence for chat: capitalised, ending with a full stop, the library's
    parameters named as the settings an operator changes, cut to Discord's limit."""
    if isinstance(error, OperatorError):  # names a path or a database address: the logs get that
        log.warning("told a member %r: %s", error.chat, error)
        return notice(error.chat)
    text = in_setting_terms(error).strip()
    text = text[:1].upper() + text[1:]
    return notice(text if text.endswith((".", "!", "?")) else text + ".")


def notice(text: str) -> str:
    """A plain bot message, cut to Discord's message limit."""
    return clip(text, MESSAGE_LIMIT)


def brief_embed(events: list[Event], hours: float, topic: str | None) -> discord.Embed:
    """The top events, one line each: the clearest headline linked, its lead, how many sources."""
    about = f" about {safe(clip(topic, 100))}" if topic else ""
    lines = []
    for number, event in enumerate(events, start=1):
        item = event.headline
        sources = "1 source" if event.sources == 1 else f"{event.sources} sources"
        lines.append(
            f"{number}. {story_link(item.story, 150)} ({sources}, {timestamp(item.story.published)})\n"
            f"{safe(clip(item.lead, 200))}"
        )
    none = f"No stories{about} in the last {hours:g} hours."
    return discord.Embed(
        title=clip(f"Top events of the last {hours:g} hours{about}", TITLE_LIMIT),
        description=clip_lines(lines, DESCRIPTION_LIMIT) if lines else none,
        colour=ANSWER_COLOUR,
    )
