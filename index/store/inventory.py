"""What a library holds, read out whole: every story with its passages and their vectors (to copy a
library elsewhere, or to build one for a measurement without embedding again), every passage with
its story's date, and the room the database takes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from index.models import Article, Passage
from index.store.contract import Store


class Inventory:
    def __init__(self, db: Store) -> None:
        self.db = db

    def stories(self) -> Iterator[tuple[Article, list[Passage], np.ndarray]]:
        """Every article with passages, in the order stored, with its passages and one vector a
        passage (float32 rows), as `ArticleStore.write` takes them back."""
        conn = self.db.connect()
        articles = conn.execute("SELECT id, url, title, text, published, source FROM articles ORDER BY id").fetchall()
        for article_id, url, title, text, published, source in articles:
            rows = conn.execute(
                'SELECT ordinal, start, "end", text, vector FROM passages WHERE article_id = ? ORDER BY ordinal',
                (article_id,),
            ).fetchall()
            if not rows:
                continue
            article = Article(url=url, text=text, title=title, published=published, source=source)
            passages = [Passage(text=r[3], start=r[1], end=r[2], ordinal=r[0]) for r in rows]
            vectors = np.vstack([np.frombuffer(bytes(r[4]), dtype=np.float32) for r in rows])
            yield article, passages, vectors

    def passage_dates(self) -> list[tuple[int, str, str | None]]:
        """(passage id, passage text, its article's `published`) for every passage."""
        return (
            self.db.connect()
            .execute("SELECT p.id, p.text, a.published FROM passages p JOIN articles a ON a.id = p.article_id")
            .fetchall()
        )

    def database_bytes(self) -> int:
        """The room the database takes: PostgreSQL's own count, or SQLite's files once the write-ahead
        log is folded into the database (the steady state)."""
        from index.store.sqlite import Database

        conn = self.db.connect()
        if not isinstance(self.db, Database):
            return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(path.stat().st_size for path in self.db.data_dir.glob(f"{self.db.db_path.name}*"))
