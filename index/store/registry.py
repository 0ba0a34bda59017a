"""The sources the library reads news from, how each poll of them went, and the feed entries
already handled: the poller's own tables."""

from __future__ import annotations

from index.dates import now
from index.errors import NewsbotError
from index.models import Source
from index.store.contract import Store
from index.text import hide_credentials, holds_credentials, site_name


class SourceRegistry:
    def __init__(self, db: Store) -> None:
        self.db = db

    _SOURCE_COLUMNS = (
        "id, location, name, kind, interval_minutes, last_polled_at, last_error, failures, next_poll_at, etag,"
        " last_modified"
    )

    def add(self, location: str, name: str, kind: str, interval_minutes: float | None = None) -> Source:
        conn = self.db.connect()
        try:
            source_id = conn.execute(
                "INSERT INTO sources (location, name, kind, interval_minutes, added_at) VALUES (?, ?, ?, ?, ?)"
                " RETURNING id",
                (location, name, kind, interval_minutes, now()),
            ).fetchone()[0]
        except self.db.IntegrityError:
            raise NewsbotError(f"{hide_credentials(location)} is already a source") from None
        return self.get(source_id)

    def rename(self, source_id: int, name: str) -> Source:
        """Give a source a new name, and the stories it brought (those its feed entries record) too."""
        with self.db.transaction() as conn:
            rename_source(conn, source_id, self.get(source_id).name, name)
        return self.get(source_id)

    def get(self, source_id: int) -> Source:
        row = (
            self.db.connect()
            .execute(f"SELECT {self._SOURCE_COLUMNS} FROM sources WHERE id = ?", (source_id,))
            .fetchone()
        )
        if row is None:
            raise NewsbotError(f"no source with id {source_id}; `sources list` shows the ids")
        return Source(*row)

    def remove(self, source_id: int) -> Source:
        """Forget a source (its stories stay), and stop the follows of it: SQLite may give its id to
        the next source added, whose stories they never asked for."""
        source = self.get(source_id)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))
            conn.execute("DELETE FROM follows WHERE source_id = ?", (source_id,))
        return source

    def all(self) -> list[Source]:
        if not self.db.exists:
            return []
        rows = self.db.connect().execute(f"SELECT {self._SOURCE_COLUMNS} FROM sources ORDER BY id").fetchall()
        return [Source(*row) for row in rows]

    def record_poll(
        self,
        source_id: int,
        *,
        error: str | None,
        next_poll_at: float,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Remember how a poll of the source went; failures count up until one succeeds."""
        conn = self.db.connect()
        if error is None:
            conn.execute(
                "UPDATE sources SET last_polled_at = ?, last_error = NULL, failures = 0, next_poll_at = ?,"
                " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified) WHERE id = ?",
                (now(), next_poll_at, etag, last_modified, source_id),
            )
        else:
            conn.execute(
                "UPDATE sources SET last_polled_at = ?, last_error = ?, failures = failures + 1, next_poll_at = ?"
                " WHERE id = ?",
                (now(), error, next_poll_at, source_id),
            )

    def feed_entry(self, url: str) -> tuple[int, str] | None:
        """(source id, signature) stored for a feed entry when it was last handled, if it was."""
        row = (
            self.db.connect().execute("SELECT source_id, signature FROM feed_entries WHERE url = ?", (url,)).fetchone()
        )
        return (row[0], row[1]) if row else None

    def feed_entry_count(self, source_id: int) -> int:
        """How many feed entries of this source have been handled (what a 304 leaves unchanged)."""
        row = self.db.connect().execute("SELECT count(*) FROM feed_entries WHERE source_id = ?", (source_id,))
        return int(row.fetchone()[0])

    def remember_feed_entry(self, url: str, source_id: int, signature: str, outcome: str) -> None:
        self.db.connect().execute(
            "INSERT INTO feed_entries (url, source_id, signature, outcome) VALUES (?, ?, ?, ?) ON CONFLICT (url)"
            " DO UPDATE SET source_id = excluded.source_id, signature = excluded.signature, outcome = excluded.outcome",
            (url, source_id, signature, outcome),
        )


def rename_source(conn, source_id: int, old: str, new: str) -> None:
    """Rename a feed and the stories its feed entries record it brought (another feed of the same
    host may have had the same name)."""
    conn.execute("UPDATE sources SET name = ? WHERE id = ?", (new, source_id))
    conn.execute(
        "UPDATE articles SET source = ? WHERE source = ? AND url IN (SELECT url FROM feed_entries WHERE source_id = ?)",
        (new, old, source_id),
    )


def name_sources_without_credentials(conn) -> int:
    """A migration (both backends, run on upgrade): web sources whose name holds a URL's credentials
    (before 2026-12 a source added without a name was named by its URL's `user:password@host:port`)
    are named by their host alone, and so are the stories they brought. Returns how many."""
    rows = conn.execute("SELECT id, location, name FROM sources WHERE kind = 'web'").fetchall()
    renamed = [
        (source_id, name, site_name(location))
        for source_id, location, name in rows
        if holds_credentials(name) or ("@" in name and name == location.split("://", 1)[-1].split("/", 1)[0])
    ]
    for source_id, old, new in renamed:  # every story under such a name: it is a secret wherever it is
        conn.execute("UPDATE sources SET name = ? WHERE id = ?", (new, source_id))
        conn.execute("UPDATE articles SET source = ? WHERE source = ?", (new, old))
    return len(renamed)


def link_articles_to_sources(conn) -> None:
    """A migration (both backends, run on upgrade, safe to run again): stories stored before each
    kept its source's id get it, from the feed entry that brought them, else from the one source
    of their name (so a follow of a source also knows its older stories)."""
    conn.execute(
        "UPDATE articles SET source_id = (SELECT e.source_id FROM feed_entries e WHERE e.url = articles.url)"
        " WHERE source_id IS NULL AND url IN (SELECT url FROM feed_entries WHERE outcome = 'stored')"
    )
    conn.execute(
        "UPDATE articles SET source_id = (SELECT min(s.id) FROM sources s WHERE s.name = articles.source)"
        " WHERE source_id IS NULL AND (SELECT count(*) FROM sources s WHERE s.name = articles.source) = 1"
    )
