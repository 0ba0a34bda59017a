"""The `follows` and `channel_posts` tables: the follows themselves, their stored topic vectors,
their cursors, and what each channel was posted (or is being posted: a post in flight)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.dates import now
from index.errors import NewsbotError
from index.models import Follow
from index.store.contract import Store

_COLUMNS = (
    "f.id, f.guild_id, f.channel_id, f.topic, f.created_by, f.created_at, f.cursor, f.last_delivery_at, f.paused,"
    " f.source_id, s.name FROM follows f LEFT JOIN sources s ON s.id = f.source_id"
)


class FollowBook:
    """Every read and write of the follows and the posts they made."""

    def __init__(self, db: Store) -> None:
        self.db = db

    def add(
        self,
        guild_id: int,
        channel_id: int,
        topic: str,
        created_by: int,
        vector: np.ndarray | None,
        model: str,
        most: int,
        source_id: int | None = None,
    ) -> int:
        """A new follow starting after the newest story now indexed; its id. Refused when the guild
        already holds `most` follows."""
        self.db.ensure_writable()
        with self.db.transaction() as conn:
            count = conn.execute("SELECT count(*) FROM follows WHERE guild_id = ?", (guild_id,)).fetchone()[0]
            if count >= most:
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
            return conn.execute(
                "INSERT INTO follows (guild_id, channel_id, topic, created_by, created_at, cursor, topic_vector,"
                " topic_model, source_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (guild_id, channel_id, topic, created_by, now(), newest, _blob(vector), model, source_id),
            ).fetchone()[0]

    def sources(self) -> list[tuple[int, str]]:
        """(id, name) of every configured source, for a follow to name one."""
        return self.db.connect().execute("SELECT id, name FROM sources ORDER BY id").fetchall()

    def get(self, follow_id: int) -> Follow | None:
        row = self.db.connect().execute(f"SELECT {_COLUMNS} WHERE f.id = ?", (follow_id,)).fetchone()
        return None if row is None else Follow(*row)

    def remove(self, follow_id: int) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM follows WHERE id = ?", (follow_id,))

    def all(self, guild_id: int | None = None) -> list[Follow]:
        if not self.db.exists:
            return []
        if guild_id is None:
            rows = self.db.connect().execute(f"SELECT {_COLUMNS} ORDER BY f.id")
        else:
            rows = self.db.connect().execute(f"SELECT {_COLUMNS} WHERE f.guild_id = ? ORDER BY f.id", (guild_id,))
        return [Follow(*row) for row in rows]

    def pause(self, follow_id: int, reason: str | None) -> None:
        """Stop delivering a follow, saying why; None delivers it again."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE follows SET paused = ? WHERE id = ?", (reason, follow_id))

    def step_back(self, follows: Sequence[Follow], cursor: int) -> int:
        """SQLite numbers a new article one past the largest id left: when retention removed the
        newest-numbered story, that id comes back, and the cursors must step back to meet it."""
        newest = self.db.connect().execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]
        if newest >= cursor:
            return cursor
        with self.db.transaction() as conn:
            conn.executemany("UPDATE follows SET cursor = ? WHERE id = ?", [(newest, f.id) for f in follows])
        return newest

    def topic_vectors(self, follows: Sequence[Follow], model: str) -> dict[int, np.ndarray]:
        """The stored topic vectors of these follows that `model` embedded (follow id -> vector)."""
        marks = ",".join("?" * len(follows))
        return {
            follow_id: np.frombuffer(bytes(blob), dtype=np.float32)
            for follow_id, blob, topic_model in self.db.connect().execute(
                f"SELECT id, topic_vector, topic_model FROM follows WHERE id IN ({marks})", [f.id for f in follows]
            )
            if blob is not None and topic_model == model
        }

    def keep_topic_vectors(self, vectors: dict[int, np.ndarray], model: str) -> None:
        """Store topic vectors `model` embedded; a read-only library skips it (they are made again)."""
        try:
            self.db.ensure_writable()
            with self.db.transaction() as conn:
                conn.executemany(
                    "UPDATE follows SET topic_vector = ?, topic_model = ? WHERE id = ?",
                    [(vector.tobytes(), model, follow_id) for follow_id, vector in vectors.items()],
                )
        except NewsbotError:
            pass

    def shown(self, channel_id: int, article_ids: Sequence[int]) -> set[int]:
        """Which of these stories the channel was posted (a post still in flight is not counted)."""
        if not article_ids:
            return set()
        marks = ",".join("?" * len(article_ids))
        rows = self.db.connect().execute(
            "SELECT article_id FROM channel_posts WHERE channel_id = ? AND sending_after IS NULL"
            f" AND article_id IN ({marks})",
            (channel_id, *article_ids),
        )
        return {r[0] for r in rows}

    def posts_since(self, channel_id: int, since: str, besides: int, most: int = 200) -> dict[int, int]:
        """The channel's posts since `since` that have a message, newest first (article id -> message
        id), leaving out the story `besides`."""
        return dict(
            self.db.connect().execute(
                "SELECT article_id, message_id FROM channel_posts WHERE channel_id = ? AND posted_at >= ?"
                " AND message_id IS NOT NULL AND article_id <> ? ORDER BY posted_at DESC LIMIT ?",
                (channel_id, since, besides, most),
            )
        )

    def sending(self, follow: Follow, article_id: int, after: int) -> int | None:
        """Mark a story's post to the follow's channel in flight, before it is sent (`after`: the id of
        the channel's last message then; 0 when unknown). None when it was not in flight; else the
        `after` of an earlier send that never got recorded (it may have reached the channel)."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT sending_after FROM channel_posts WHERE channel_id = ? AND article_id = ?",
                (follow.channel_id, article_id),
            ).fetchone()
            if row is not None:
                return row[0] or 0
            conn.execute(
                "INSERT INTO channel_posts (channel_id, article_id, posted_at, sending_after) VALUES (?, ?, ?, ?)",
                (follow.channel_id, article_id, now(), after),
            )
        return None

    def posted(self, follow: Follow, article_id: int, message_id: int | None) -> None:
        """Remember a channel's post of a story (ending its flight) and move the follow's cursor to it,
        in one transaction."""
        stamp = now()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO channel_posts (channel_id, article_id, message_id, posted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel_id, article_id) DO UPDATE SET message_id = excluded.message_id,"
                " posted_at = excluded.posted_at, sending_after = NULL WHERE channel_posts.sending_after IS NOT NULL",
                (follow.channel_id, article_id, message_id, stamp),
            )
            conn.execute(
                "UPDATE follows SET cursor = CASE WHEN cursor < ? THEN ? ELSE cursor END, last_delivery_at = ?"
                " WHERE id = ?",
                (article_id, article_id, stamp, follow.id),
            )

    def move_cursor(self, follow: Follow, cursor: int) -> None:
        """Move a follow's cursor forward to `cursor` (never back)."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE follows SET cursor = ? WHERE id = ? AND cursor < ?", (cursor, follow.id, cursor))


def _blob(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else vector.tobytes()
