"""Follows: a channel of a guild that receives the new stories about a topic. The library keeps
them, finds each follow's new stories and remembers what was posted where; posting is the
application's (`bot/cogs/follows.py`).

A follow's cursor is the newest article id it has dealt with. It moves only once a story's post
was accepted (`record_post`), or past stories that did not match or did not fit (`advance`), so
after a crash at most the story in flight is posted again; and a story is posted at most once a
channel, however many of its follows match it.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.database import now
from index.errors import NewsbotError
from index.models import Story
from index.store import Store

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


@dataclass(frozen=True)
class NewStory:
    """A story ingested after a follow's cursor, as a post shows it."""

    article_id: int
    story: Story
    lead: str  # its first sentence or so


class FollowBook:
    """The `follows` and `channel_posts` tables."""

    def __init__(self, db: Store) -> None:
        self.db = db

    def add(self, guild_id: int, channel_id: int, topic: str, created_by: int, most: int) -> Follow:
        """A new follow, starting after the newest story now indexed (old news is not posted)."""
        with self.db.transaction() as conn:
            count = conn.execute("SELECT count(*) FROM follows WHERE guild_id = ?", (guild_id,)).fetchone()[0]
            if count >= most:
                raise NewsbotError(f"this server already has {count} follows, the most allowed; remove one first")
            newest = conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]
            follow_id = conn.execute(
                "INSERT INTO follows (guild_id, channel_id, topic, created_by, created_at, cursor)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (guild_id, channel_id, topic, created_by, now(), newest),
            ).fetchone()[0]
        return self.get(follow_id)

    def get(self, follow_id: int) -> Follow:
        row = self.db.connect().execute(f"SELECT {_COLUMNS} FROM follows WHERE id = ?", (follow_id,)).fetchone()
        if row is None:
            raise NewsbotError(f"no follow with id {follow_id}; `/follows` shows the ids")
        return Follow(*row)

    def remove(self, follow_id: int) -> Follow:
        follow = self.get(follow_id)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM follows WHERE id = ?", (follow_id,))
        return follow

    def of_guild(self, guild_id: int) -> list[Follow]:
        rows = self.db.connect().execute(f"SELECT {_COLUMNS} FROM follows WHERE guild_id = ? ORDER BY id", (guild_id,))
        return [Follow(*row) for row in rows]

    def all(self) -> list[Follow]:
        if not self.db.exists:
            return []
        return [Follow(*row) for row in self.db.connect().execute(f"SELECT {_COLUMNS} FROM follows ORDER BY id")]

    def pause(self, follow_id: int, reason: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE follows SET paused = ? WHERE id = ?", (reason, follow_id))

    def new_stories(self, follow: Follow, limit: int = 500) -> list[NewStory]:
        """Stories ingested after the follow's cursor, oldest first, with their lead passage."""
        rows = self.db.connect().execute(
            "SELECT a.id, a.title, a.url, a.published, a.source,"
            " (SELECT p.text FROM passages p WHERE p.article_id = a.id ORDER BY p.ordinal LIMIT 1)"
            " FROM articles a WHERE a.id > ? ORDER BY a.id LIMIT ?",
            (follow.cursor, limit),
        )
        return [NewStory(r[0], Story(r[1], r[2], r[3], r[4]), _lead(r[5] or "")) for r in rows]

    def posted(self, channel_id: int, article_ids: list[int]) -> set[int]:
        """Which of these stories a channel has already been shown."""
        if not article_ids:
            return set()
        marks = ",".join("?" * len(article_ids))
        rows = self.db.connect().execute(
            f"SELECT article_id FROM channel_posts WHERE channel_id = ? AND article_id IN ({marks})",
            (channel_id, *article_ids),
        )
        return {r[0] for r in rows}

    def record_post(self, follow: Follow, article_id: int, message_id: int | None) -> None:
        """A story's post was accepted: remember it for the channel and move the cursor to it, in
        one transaction."""
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

    def advance(self, follow: Follow, cursor: int) -> None:
        """Move the cursor past stories dealt with without a post of their own."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE follows SET cursor = ? WHERE id = ? AND cursor < ?", (cursor, follow.id, cursor))


def _lead(text: str, most: int = 300) -> str:
    """The first sentence of a passage (or its first `most` characters, cut at a word)."""
    for end in (". ", "? ", "! "):
        at = text.find(end)
        if 0 < at < most:
            return text[: at + 1]
    return text if len(text) <= most else text[: text.rfind(" ", 0, most)] + "…"
