"""Follows: a channel of a guild that receives the new stories about a topic, or every new story of
one source (a feed), or those of it about a topic. The library keeps them, finds each follow's new
stories and remembers what was posted where; posting is the application's (`bot/cogs/follows.py`).

A follow's cursor is the newest article id it has dealt with. It moves only once a story's post
was accepted (`posted`), or past stories that did not match or were summed up (`dealt_with`), so
after a crash at most the story in flight is posted again; a post is marked in flight before it is
sent (`sending`), so that one can be looked for in the channel instead; a story is posted at most
once a channel, however many of its follows match it; and a story of an event the channel was shown
in the last EVENT_HOURS joins that post (`earlier_post`) instead of making another.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np

from index.errors import NewsbotError
from index.events import EVENT_HOURS, same_event, story_vector
from index.models import Follow, Headline
from index.retrieval import TopicMatcher
from index.store import ArticleStore, FollowBook
from index.text import without_surrogates

__all__ = ["Following", "MAX_TOPIC_CHARS", "checked_topic"]

MAX_TOPIC_CHARS = 200


def checked_topic(topic: str | None) -> str:
    """A topic as follows, `latest` and `brief` match it: its words spaced once, without invisible
    characters (zero-width, bidirectional controls); "" for none. NewsbotError for a topic with no
    letter or digit (only emoji, marks, punctuation or invisible characters): no story could match it."""
    text = without_surrogates(topic or "").strip()
    if text and not any(c.isalnum() for c in text):
        raise NewsbotError("the topic has no letter or digit, so no story could ever match it: name it in words")
    return " ".join("".join(c for c in text if unicodedata.category(c) != "Cf").split())


class Following:
    """Which new stories each follow is shown, over the follows' tables (`FollowBook`). A follow's
    topic vector is stored with it (embedded again only when the embedding model changes)."""

    def __init__(self, book: FollowBook, articles: ArticleStore, topics: TopicMatcher, most_per_guild: int) -> None:
        self.book = book
        self.articles = articles
        self.topics = topics
        self.most_per_guild = most_per_guild

    def sources(self) -> list[tuple[int, str]]:
        """(id, name) of every configured source, for a follow to name one."""
        return self.book.sources()

    def add(
        self, guild_id: int, channel_id: int, topic: str | None, created_by: int, source: str | int | None = None
    ) -> Follow:
        """A new follow, starting after the newest story now indexed (old news is not posted): of a
        topic, of every story of a `source` (its id or its name), or of those of it about the topic."""
        topic = checked_topic(topic)
        followed = self.source(source) if source is not None and str(source).strip() else None
        if not topic and followed is None:
            raise NewsbotError("the topic is empty" if source is None else "name a topic, a source, or both")
        if len(topic) > MAX_TOPIC_CHARS:
            raise NewsbotError(f"the topic is too long ({len(topic)} characters; at most {MAX_TOPIC_CHARS})")
        vector = self.topics.vector(topic) if topic else None
        follow_id = self.book.add(
            guild_id,
            channel_id,
            topic,
            created_by,
            vector,
            self.topics.model_name,
            self.most_per_guild,
            followed[0] if followed else None,
        )
        return self.get(follow_id)

    def source(self, named: str | int) -> tuple[int, str]:
        """(id, name) of the configured source a follow names: by its id (as `/sources` shows it) or
        its name (any case)."""
        sources = self.book.sources()
        text = " ".join(str(named).split())
        found = [s for s in sources if str(s[0]) == text.removeprefix("#")]
        found = found or [s for s in sources if s[1].casefold() == text.casefold()]
        if len(found) > 1:
            ids = ", ".join(str(s[0]) for s in found)
            raise NewsbotError(f"{len(found)} sources are named {text!r} (ids {ids}): name one by its id")
        if not found:
            raise NewsbotError(f"no source is named {text[:100]!r}; a source's name is shown under each story")
        return found[0]

    def get(self, follow_id: int) -> Follow:
        follow = self.book.get(follow_id)
        if follow is None:
            raise NewsbotError(f"no follow with id {follow_id}; `/follows` shows the ids")
        return follow

    def remove(self, follow_id: int, guild_id: int | None = None) -> Follow:
        """Stop a follow; with `guild_id`, only one of that guild's (a guild never sees another's)."""
        follow = self.get(follow_id)
        if guild_id is not None and follow.guild_id != guild_id:
            raise NewsbotError(f"no follow with id {follow_id} in this server; `/follows` shows the ids")
        self.book.remove(follow_id)
        return follow

    def all(self, guild_id: int | None = None) -> list[Follow]:
        return self.book.all(guild_id)

    def pause(self, follow_id: int, reason: str) -> None:
        self.book.pause(follow_id, reason)

    def resume(self, follow_id: int) -> None:
        """Deliver a paused follow again (its cursor stays: what came meanwhile is posted next pass)."""
        self.book.pause(follow_id, None)

    def news_of(self, follows: Iterable[Follow], limit: int = 500) -> dict[int, tuple[list[Headline], int]]:
        """Each follow's news (follow id -> (news, cursor)): the stories ingested since its cursor
        that are of its source (a follow of one) and about its topic (unless it has none) and its
        channel has not been shown, oldest first, and the newest article id looked at (the cursor to
        move to once they are dealt with). Follows at the same cursor share one read of the new stories
        and one match of all their topics against them; a story two follows of one channel match is
        given to the first only (a channel sees it once)."""
        found: dict[int, tuple[list[Headline], int]] = {}
        given: dict[int, set[int]] = {}  # channel id -> the stories given to a follow of it this call
        by_cursor: dict[int, list[Follow]] = {}
        for follow in follows:
            by_cursor.setdefault(follow.cursor, []).append(follow)
        for cursor, group in sorted(by_cursor.items()):
            group.sort(key=lambda follow: follow.id)
            fresh = self.articles.headlines_after(cursor, limit)
            if not fresh:
                newest = self.book.step_back(group, cursor)
                found.update((follow.id, ([], newest)) for follow in group)
                continue
            topical = [f for f in group if f.topic]
            about = self.topics.about_many([f.topic for f in topical], fresh, self._vectors(topical)) if topical else []
            matched = dict(zip([f.id for f in topical], about, strict=True))
            for follow in group:
                ids = matched[follow.id] if follow.topic else {h.article_id for h in fresh}
                if follow.source_id is not None:
                    ids = {h.article_id for h in fresh if h.source_id == follow.source_id and h.article_id in ids}
                ids -= given.setdefault(follow.channel_id, set())
                shown = self.book.shown(follow.channel_id, [h.article_id for h in fresh if h.article_id in ids])
                news = [h for h in fresh if h.article_id in ids and h.article_id not in shown]
                given[follow.channel_id].update(h.article_id for h in news)
                found[follow.id] = (news, fresh[-1].article_id)
        return found

    def _vectors(self, follows: list[Follow]) -> np.ndarray:
        """The follows' stored topic vectors, one row each; a follow stored without one, or with
        another embedding model's, is embedded now and stored again."""
        model = self.topics.model_name
        stored = self.book.topic_vectors(follows, model)
        missing = [f for f in follows if f.id not in stored]
        if missing:
            made = dict(zip([f.id for f in missing], self.topics.vectors([f.topic for f in missing]), strict=True))
            self.book.keep_topic_vectors(made, model)
            stored.update(made)
        return np.vstack([stored[f.id] for f in follows])

    def earlier_post(self, channel_id: int, article_id: int) -> int | None:
        """The message id of this channel's post, in the last EVENT_HOURS, of the event this story
        reports; None when the event is new to the channel."""
        since = (datetime.now(UTC) - timedelta(hours=EVENT_HOURS)).isoformat(timespec="seconds")
        recent = self.book.posts_since(channel_id, since, besides=article_id)
        if not recent:
            return None
        vectors = self.articles.passage_vectors([article_id, *recent])
        if article_id not in vectors:
            return None
        mine = story_vector(vectors.pop(article_id))
        for earlier, passages in vectors.items():
            if same_event(mine, story_vector(passages)):
                return recent[earlier]
        return None

    def sending(self, follow: Follow, article_id: int, after: int | None) -> int | None:
        """Mark a story's post in flight before it is sent (`after`: the id of the channel's last
        message now, if known). None when it was not in flight; else an earlier send's `after` (0:
        unknown): that send may have reached the channel, and the post is looked for there first."""
        return self.book.sending(follow, article_id, after or 0)

    def posted(self, follow: Follow, article_id: int, message_id: int | None) -> None:
        """A story's post was accepted (or it joined the post of its event): remember it for the
        channel and move the cursor to it, in one transaction."""
        self.book.posted(follow, article_id, message_id)

    def dealt_with(self, follow: Follow, cursor: int) -> None:
        """Move the cursor past stories dealt with without a post of their own."""
        self.book.move_cursor(follow, cursor)
