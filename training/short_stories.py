"""Short stories for fitting and measuring the topic rule, as many feeds carry only a headline and a summary.

Two kinds, each in a library of its own (one passage a story, as a feed item's summary is stored):
- the labelled set's stories cut to their headline and first paragraph, as a feed summary gives them:
  derived here from the data at run time (no text is kept in the project), labels carried over
  from the full story (a person labels by the story's main subject, which its opening names);
- `benchmarks/data/short_topics.json`: 24 topics over short stories written in our own words and
  labelled blind (parts tune and held);
- `benchmarks/data/plain_short_topics.json`: 12 topics over 120 plain short stories (7 about each
  topic, 36 about none of them, 14 of those next to one), written and labelled blind by another
  writer: held out whole, every topic against every story, as `latest --topic` lists them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from index.dates import normalise_published
from index.models import Article

ROOT = Path(__file__).resolve().parent.parent
SHORT_TOPICS = ROOT / "benchmarks" / "data" / "short_topics.json"
PLAIN_TOPICS = ROOT / "benchmarks" / "data" / "plain_short_topics.json"
FIRST_PARAGRAPH_WORDS = 10  # a shorter opening paragraph is a dateline or a byline ("CNN —")
SUMMARY_WORDS = 60  # a feed's summary is a sentence or three
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"'”’)])\s+")


def summary_of(text: str) -> str:
    """A story's first real paragraph, cut at a sentence's end within SUMMARY_WORDS words where it runs longer."""
    paragraphs = [" ".join(p.split()) for p in text.splitlines() if p.strip()]
    first = next(
        (p for p in paragraphs if len(p.split()) >= FIRST_PARAGRAPH_WORDS), paragraphs[0] if paragraphs else ""
    )
    if len(first.split()) <= SUMMARY_WORDS:
        return first
    kept: list[str] = []
    for sentence in _SENTENCE.split(first):
        if kept and len(" ".join([*kept, sentence]).split()) > SUMMARY_WORDS:
            break
        kept.append(sentence)
    return " ".join(kept) if len(" ".join(kept).split()) <= SUMMARY_WORDS else " ".join(first.split()[:SUMMARY_WORDS])


def shortened(records: dict[str, dict]) -> dict[str, Article]:
    """Data set id -> the story as its headline and first paragraph, under its own address."""
    short = {}
    for key, record in records.items():
        text = summary_of(record.get("text") or "")
        if text and record.get("url"):
            short[key] = Article(
                url=record["url"] + "#summary",
                text=text,
                title=" ".join((record.get("title") or "").split()),
                published=normalise_published(record.get("published")),
                source=record.get("source") or "",
            )
    return short


def written() -> tuple[list[tuple[str, str, str, bool]], dict[str, Article]]:
    """The short topics set: (topic, part, story id, about) pairs, and story id -> its Article."""
    topics = json.loads(SHORT_TOPICS.read_text(encoding="utf-8"))["topics"]
    pairs, articles = [], {}
    for entry in topics:
        for story in entry["stories"]:
            pairs.append((entry["topic"], entry["part"], story["id"], bool(story["about"])))
            articles[story["id"]] = Article(
                url=f"https://short.example.org/{story['id']}",
                text=story["summary"],
                title=story["headline"],
                source="short.example.org",
            )
    return pairs, articles


def plain() -> tuple[list[tuple[str, str, str, bool]], dict[str, Article]]:
    """The plain short topics set: every (topic, "held", story id, about) pair, and story id -> its Article."""
    data = json.loads(PLAIN_TOPICS.read_text(encoding="utf-8"))
    articles = {
        story["id"]: Article(
            url=f"https://plain.example.org/{story['id']}",
            text=story["summary"],
            title=story["headline"],
            source="plain.example.org",
        )
        for story in data["stories"]
    }
    stories = data["stories"]
    pairs = [(topic, "held", story["id"], topic in story["about"]) for topic in data["topics"] for story in stories]
    return pairs, articles
