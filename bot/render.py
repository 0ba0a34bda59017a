"""Answers and stories as text for people: the terminal here, Discord embeds in `bot/embeds.py`."""

from __future__ import annotations

import re
import textwrap

from index import Answer, Story

# C0 and C1 control characters but newline and tab: ESC sequences in an article must not clear the
# screen or retitle the terminal of the operator reading it.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text safe to write to a terminal: control characters removed."""
    return _CONTROL.sub("", text)


def story_line(story: Story) -> str:
    date = (story.published or "")[:10] or "undated"
    source = f" · {story.source}" if story.source else ""
    return f"{date}  {story.title or story.url}{source}\n            {story.url}"


def highlight(quote: str, start: int, end: int, mark: str = "**") -> str:
    if 0 <= start < end <= len(quote):
        return f"{quote[:start]}{mark}{quote[start:end]}{mark}{quote[end:]}"
    return quote


def answer_text(answer: Answer) -> str:
    if answer.abstained:
        lines = ["The indexed news does not answer that."]
        if answer.closest:
            lines.append("Closest stories:")
            lines.extend(f"  - {s.title or s.url} ({(s.published or 'undated')[:10]}) {s.url}" for s in answer.closest)
        return "\n".join(lines)
    story = answer.story
    quote = highlight(answer.quote, answer.answer_start, answer.answer_end)
    wrapped = textwrap.fill(f"“{quote}”", width=100, initial_indent="  ", subsequent_indent="   ")
    date = (story.published or "undated")[:10] if story else "undated"
    return "\n".join(
        [
            answer.text,
            wrapped,
            f"  — {story.title if story else ''} ({date})",
            f"    {story.url if story else ''}",
            f"  confidence {answer.score:.2f}",
        ]
    )
