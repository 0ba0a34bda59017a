"""Answers and stories as text for people: the terminal here, Discord embeds in `bot/embeds.py`."""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable
from typing import Any

from index import Answer, Story
from index.models import Event, Follow, IngestReport, Source

# C0 and C1 control characters but newline and tab: ESC sequences in an article must not clear the
# screen or retitle the terminal of the operator reading it. And the bidirectional controls
# (U+202A-U+202E, U+2066-U+2069, the marks U+200E, U+200F, U+061C): a right-to-left override in a
# headline would show the rest of the line, and the lines after it, reversed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ue000\ue001]")


def library_default(method: Callable, parameter: str) -> Any:
    """What the library takes for a parameter left out (`Library.brief`'s hours, say), for a command
    to say without writing it again."""
    return inspect.signature(method).parameters[parameter].default


def printable(text: str) -> str:
    """Text safe to write to a terminal: control characters removed (and the highlight marks, which
    only `highlight` may put in)."""
    return _CONTROL.sub("", text)


def story_line(story: Story) -> str:
    date = (story.published or "")[:10] or "undated"
    source = f" · {story.source}" if story.source else ""
    return f"{date}  {story.title or story.url}{source}\n            {story.url}"


# The answer inside its quote, between these two private-use characters: `bot.terminal.say` makes
# them bold on a terminal that shows it and drops them elsewhere (article text never carries them).
BOLD, PLAIN = "\ue000", "\ue001"


def highlight(quote: str, start: int, end: int) -> str:
    if 0 <= start < end <= len(quote):
        quote = f"{quote[:start]}{BOLD}{quote[start:end]}{PLAIN}{quote[end:]}"
    return quote


def answer_text(answer: Answer) -> str:
    if answer.abstained:
        return abstention_text(answer)
    story = answer.story
    quote = highlight(answer.quote, answer.answer_start, answer.answer_end)
    wrapped = textwrap.fill(f"“{quote}”", width=100, initial_indent="  ", subsequent_indent="   ")
    date = (story.published or "undated")[:10] if story else "undated"
    lines = [
        answer.text,
        wrapped,
        f"  — {story.title if story else ''} ({date})",
        f"    {story.url if story else ''}",
        f"  confidence {answer.score:.2f}" + (f", as of {answer.as_of}" if answer.as_of else ""),
    ]
    if answer.agreeing:
        lines.append(f"  {len(answer.agreeing) + 1} stories agree; also:")
        for citation in answer.agreeing[:AGREEING_SHOWN]:
            lines.append(f"    - {_story_brief(citation.story)}")
            lines.append(f"      {citation.story.url}")
    return "\n".join(lines)


AGREEING_SHOWN = 3  # the agreeing stories a reply names, in the terminal and on Discord


def abstention_text(answer: Answer) -> str:
    """Unsure: the answers the closest reports give, plainly unconfirmed. Nothing found: the closest
    stories."""
    when = f" (as of {answer.as_of})" if answer.as_of else ""
    if answer.candidates:
        lines = [f"Not sure{when}. The closest reports say:"]
        for number, candidate in enumerate(answer.candidates, start=1):
            quote = highlight(candidate.quote, candidate.answer_start, candidate.answer_end)
            lines.append(f"  {number}. {candidate.text}  (confidence {candidate.score:.2f})")
            lines.append(textwrap.fill(f"“{quote}”", width=100, initial_indent="     ", subsequent_indent="      "))
            lines.append(f"     — {_story_brief(candidate.story)}")
            lines.append(f"       {candidate.story.url}")
        return "\n".join(lines)
    lines = [f"I could not find an answer to that in the indexed news{when}."]
    if answer.closest:
        lines.append("Closest stories:")
        lines.extend(f"  - {s.title or s.url} ({(s.published or 'undated')[:10]}) {s.url}" for s in answer.closest)
    return "\n".join(lines)


def _story_brief(story: Story) -> str:
    source = f" · {story.source}" if story.source else ""
    return f"{story.title or story.url} ({(story.published or 'undated')[:10]}){source}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def ingest_line(report: IngestReport) -> str:
    return (
        f"read {plural(report.read, 'article')}: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged; {plural(report.passages, 'passage')} indexed"
        + (f"; {len(report.problems)} problems" if report.problems else "")
    )


def status_lines(stats: dict) -> list[str]:
    width = max(len(k) for k in stats)
    return [f"{key.replace('_', ' '):<{width}}  {value if value is not None else '-'}" for key, value in stats.items()]


def source_lines(source: Source) -> list[str]:
    source = source.shown()
    health = "ok" if not source.failing else f"FAILING x{source.failures}: {source.last_error}"
    return [
        f"{source.id:>4}  {source.kind:<4}  {source.name}  {source.location}",
        f"      {health}; last read {source.last_polled_at or 'never'}",
    ]


def event_lines(number: int, event: Event) -> str:
    item = event.headline
    sources = "1 source" if event.sources == 1 else f"{event.sources} sources"
    lines = [
        f"{number:>2}. {item.story.title or item.story.url}  ({sources}, {(item.story.published or 'undated')[:10]})"
    ]
    if item.lead:
        lines.append(textwrap.fill(item.lead, width=100, initial_indent="    ", subsequent_indent="    "))
    lines.extend(f"    {other.story.url}" for other in event.stories[:3])
    return "\n".join(lines)


def event_record(event: Event) -> dict:
    return {
        "headline": event.headline.story.title,
        "lead": event.headline.lead,
        "sources": event.sources,
        "stories": [item.story.as_dict() for item in event.stories],
    }


def follow_line(follow: Follow) -> str:
    state = f"PAUSED: {follow.paused}" if follow.paused else f"last post {follow.last_delivery_at or 'never'}"
    return (
        f"{follow.id:>4}  guild {follow.guild_id}  channel {follow.channel_id}  {follow.subject!r}"
        f"  (by {follow.created_by}; {state})"
    )
