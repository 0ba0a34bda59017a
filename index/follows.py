"""Follows: a channel of a guild that receives the new stories about a topic. The library keeps
them, finds each follow's new stories and remembers what was posted where; posting is the
application's (`bot/cogs/follows.py`).

A follow's cursor is the newest article id it has dealt with. It moves only once a story's post
was accepted (`posted`), or past stories that did not match or were summed up (`dealt_with`), so
after a crash at most the story in flight is posted again; a story is posted at most once a
channel, however many of its follows match it; and a story of an event the channel was shown in the
last EVENT_HOURS joins that post (`earlier_post`) instead of making another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from index.articles import ArticleStore
from index.database import now
from index.errors import NewsbotError
from index.events import EVENT_HOURS, same_event, story_vector
from index.models import Headline
from index.store import Store
from index.text import without_surrogates
from index.topics import TopicMatcher

MAX_TOPIC_CHARS = 200
_COLUMNS = "id, guild_id, channel_id, topic, created_by, created_at, cursor, last_delivery_at, paused"


@dataclass(frozen=True)
class Follow:
    id: int
    guild_id: int
    channel_id: int
    topic: str
    created_by: int
    created_at: str
    cursor: int  # the newest article id dealt with
    last_delivery_at: str | None = None
    paused: str | None = None  # why delivery stopped (a deleted channel, a lost permission); None = delivering


class Following:
    """The `follows` and `channel_posts` tables, and which new stories each follow is shown. A
    follow's topic vector is stored with it (embedded again only when the embedding model changes)."""

    def __init__(self, db: Store, articles: ArticleStore, topics: TopicMatcher, most_per_guild: int) -> None:
        self.db = db
        self.articles = articles
        self.topics = topics
        self.most_per_guild = most_per_guild

    def add(self, guild_id: int, channel_id: int, topic: str, created_by: int) -> Follow:
        """A new follow, starting after the newest story now indexed (old news is not posted)."""
        topic = " ".join(without_surrogates(topic or "").split())
        if not topic:
            raise NewsbotError("the topic is empty")
        if len(topic) > MAX_TOPIC_CHARS:
            raise NewsbotError(f"the topic is too long ({len(topic)} characters; at most {MAX_TOPIC_CHARS})")
        self.db.ensure_writable()
        vector = self.topics.vector(topic)
        with self.db.transaction() as conn:
            count = conn.execute("SELECT count(*) FROM follows WHERE guild_id = ?", (guild_id,)).fetchone()[0]
            if count >= self.most_per_guild:
                paused = [
                    r[0]
                    for r in conn.execute(
                        "SELECT id FROM follows WHERE guild_id = ? AND paused IS NOT NULL ORDER BY id", (guild_id,)
                    )
                ]
                which = f" ({len(paused)} paused: {', '.join(map(str, paused[:10]))})" if paused else ""
                raise NewsbotError(
                    f"this server already has {count} follows{which}, the most allowed; remove one first"
                )
            newest = conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]
            follow_id = conn.execute(
                "INSERT INTO follows (guild_id, channel_id, topic, created_by, created_at, cursor, topic_vector,"
                " topic_model) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (guild_id, channel_id, topic, created_by, now(), newest, vector.tobytes(), self.topics.model_name),
            ).fetchone()[0]
        return self.get(follow_id)

    def get(self, follow_id: int) -> Follow:
        row = self.db.connect().execute(f"SELECT {_COLUMNS} FROM follows WHERE id = ?", (follow_id,)).fetchone()
        if row is None:
            raise NewsbotError(f"no follow with id {follow_id}; `/follows` shows the ids")
        return Follow(*row)

    def remove(self, follow_id: int, guild_id: int | None = None) -> Follow:
        """Stop a follow; with `guild_id`, only one of that guild's (a guild never sees another's)."""
        follow = self.get(follow_id)
        if guild_id is not None and follow.guild_id != guild_id:
            raise NewsbotError(f"no follow with id {follow_id} in this server; `/follows` shows the ids")
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM follows WHERE id = ?", (follow_id,))
        return follow

    def all(self, guild_id: int | None = None) -> list[Follow]:
        if not self.db.exists:
            return []
        if guild_id is None:
            rows = self.db.connect().execute(f"SELECT {_COLUMNS} FROM follows ORDER BY id")
        else:
            rows = self.db.connect().execute(
                f"SELECT {_COLUMNS} FROM follows WHERE guild_id = ? ORDER BY id", (guild_id,)
            )
        return [Follow(*row) for row in rows]

    def pause(self, follow_id: int, reason: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE follows SET paused = ? WHERE id = ?", (reason, follow_id))

    def resume(self, follow_id: int) -> None:
        """Deliver a paused follow again (its cursor stays: what came meanwhile is posted next pass)."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE follows SET paused = NULL WHERE id = ?", (follow_id,))

    def news_of(self, follows: Sequence[Follow], limit: int = 500) -> dict[int, tuple[list[Headline], int]]:
        """Each follow's news (follow id -> (news, cursor)): the stories ingested since its cursor
        that are about its topic and its channel has not been shown, oldest first, and the newest
        article id looked at (the cursor to move to once they are dealt with). Follows at the same
        cursor share one read of the new stories and one match of all their topics against them; a
        story two follows of one channel match is given to the first only (a channel sees it once)."""
        found: dict[int, tuple[list[Headline], int]] = {}
        given: dict[int, set[int]] = {}  # channel id -> the stories given to a follow of it this call
        by_cursor: dict[int, list[Follow]] = {}
        for follow in follows:
            by_cursor.setdefault(follow.cursor, []).append(follow)
        for cursor, group in sorted(by_cursor.items()):
            group.sort(key=lambda follow: follow.id)
            fresh = self.articles.headlines_after(cursor, limit)
            if not fresh:
                newest = self._step_back(group, cursor)
                found.update((follow.id, ([], newest)) for follow in group)
                continue
            about = self.topics.about_many([f.topic for f in group], fresh, self._vectors(group))
            for follow, ids in zip(group, about, strict=True):
                ids -= given.setdefault(follow.channel_id, set())
                shown = self._shown(follow.channel_id, [h.article_id for h in fresh if h.article_id in ids])
                news = [h for h in fresh if h.article_id in ids and h.article_id not in shown]
                given[follow.channel_id].update(h.article_id for h in news)
                found[follow.id] = (news, fresh[-1].article_id)
        return found

    def _step_back(self, follows: list[Follow], cursor: int) -> int:
        """SQLite numbers a new article one past the largest id left: when retention removed the
        newest-numbered story, that id comes back, and the cursors must step back to meet it."""
        newest = self.db.connect().execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]
        if newest >= cursor:
            return cursor
        with self.db.transaction() as conn:
            conn.executemany("UPDATE follows SET cursor = ? WHERE id = ?", [(newest, f.id) for f in follows])
        return newest

    def _vectors(self, follows: list[Follow]) -> np.ndarray:
        """The follows' stored topic vectors, one row each; a follow stored without one, or with
        another embedding model's, is embedded now and stored again."""
        model = self.topics.model_name
        marks = ",".join("?" * len(follows))
        stored = {
            follow_id: np.frombuffer(bytes(blob), dtype=np.float32)
            for follow_id, blob, topic_model in self.db.connect().execute(
                f"SELECT id, topic_vector, topic_model FROM follows WHERE id IN ({marks})", [f.id for f in follows]
            )
            if blob is not None and topic_model == model
        }
        missing = [f for f in follows if f.id not in stored]
        if missing:
            vectors = self.topics.vectors([f.topic for f in missing])
            stored.update((f.id, vector) for f, vector in zip(missing, vectors, strict=True))
            try:
                self.db.ensure_writable()
                with self.db.transaction() as conn:
                    conn.executemany(
                        "UPDATE follows SET topic_vector = ?, topic_model = ? WHERE id = ?",
                        [(vector.tobytes(), model, f.id) for f, vector in zip(missing, vectors, strict=True)],
                    )
            except NewsbotError:  # a read-only library still delivers; the vectors are kept next time
                pass
        return np.vstack([stored[f.id] for f in follows])

    def _shown(self, channel_id: int, article_ids: list[int]) -> set[int]:
        if not article_ids:
            return set()
        marks = ",".join("?" * len(article_ids))
        rows = self.db.connect().execute(
            f"SELECT article_id FROM channel_posts WHERE channel_id = ? AND article_id IN ({marks})",
            (channel_id, *article_ids),
        )
        return {r[0] for r in rows}

    def earlier_post(self, channel_id: int, article_id: int) -> int | None:
        """The message id of this channel's post, in the last EVENT_HOURS, of the event this story
        reports; None when the event is new to the channel."""
        since = (datetime.now(UTC) - timedelta(hours=EVENT_HOURS)).isoformat(timespec="seconds")
        recent = dict(
            self.db.connect().execute(
                "SELECT article_id, message_id FROM channel_posts WHERE channel_id = ? AND posted_at >= ?"
                " AND message_id IS NOT NULL AND article_id <> ? ORDER BY posted_at DESC LIMIT 200",
                (channel_id, since, article_id),
            )
        )
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

    def posted(self, follow: Follow, article_id: int, message_id: int | None) -> None:
        """A story's post was accepted (or it joined the post of its event): remember it for the
        channel and move the cursor to it, in one transaction."""
        stamp = now()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO channel_posts (channel_id, article_id, message_id, posted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel_id, article_id) DO NOTHING",
                (follow.channel_id, article_id, message_id, stamp),
            )
            conn.execute(
                "UPDATE follows SET cursor = CASE WHEN cursor < ? THEN ? ELSE cursor END, last_delivery_at = ?"
                " WHERE id = ?",
                (article_id, article_id, stamp, follow.id),
            )

    def dealt_with(self, follow: Follow, cursor: int) -> None:
        """Move the cursor past stories dealt with without a post of their own."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE follows SET cursor = ? WHERE id = ? AND cursor < ?", (cursor, follow.id, cursor))
