"""Articles and their passages (with each passage's vector and its full-text entry): written as
one transaction per batch, read back for search, listing and retention."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.dates import now, published_utc
from index.errors import ModelChangedError, NewsbotError
from index.models import Article, Headline, Passage, Story
from index.store.contract import Store, VectorGenerations
from index.store.removal import remove_named, remove_where
from index.store.vectors import VectorIndex
from index.text import all_words_query, lead_of, lexical_query


def content_hash(article: Article) -> str:
    digest = hashlib.sha256()
    extra = [article.image] if article.image else []  # so stories stored before images were kept keep their digest
    for part in (article.title, article.text, article.published or "", article.source, *extra):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


@dataclass(frozen=True)
class PreparedArticle:
    """An article ready to store: its passages and one vector per passage."""

    article: Article
    passages: list[Passage]
    vectors: np.ndarray
    digest: str
    fingerprint: bytes | None = None


@dataclass(frozen=True)
class WriteSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0  # written meanwhile by another process, the same as this one: left alone
    passages: int = 0
    vector_seconds: float = 0.0  # of the write, the time spent updating and saving the FAISS copy


@dataclass(frozen=True)
class PassageRow:
    passage_id: int
    text: str
    story: Story
    article_id: int


_NEWEST = " ORDER BY a.published_utc IS NULL, a.published_utc DESC, a.ingested_at DESC, a.id DESC LIMIT ?"


def _only(article_ids: Sequence[int] | set[int] | None) -> str:
    """A WHERE condition: every article (None), or those of `article_ids`."""
    if article_ids is None:
        return "1 = 1"
    return f"a.id IN ({','.join('?' * len(article_ids))})" if article_ids else "1 = 0"


class ArticleStore:
    def __init__(self, db: Store, vectors: VectorGenerations) -> None:
        self.db = db
        self.vectors = vectors

    @property
    def embedding_model(self) -> str | None:
        return self.db.meta("embedding_model")

    def has_passages(self) -> bool:
        """Whether anything is indexed (O(1), unlike counting)."""
        if not self.db.exists:
            return False
        return self._any_passages(self.db.connect())

    @staticmethod
    def _any_passages(conn) -> bool:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM passages)").fetchone()[0] == 1

    def article_digests(self, urls: Sequence[str]) -> dict[str, str]:
        if not urls or not self.db.exists:
            return {}
        conn = self.db.connect()
        found: dict[str, str] = {}
        for begin in range(0, len(urls), 500):
            part = list(urls[begin : begin + 500])
            marks = ",".join("?" * len(part))
            found.update(
                conn.execute(f"SELECT url, content_hash FROM articles WHERE url IN ({marks})", part).fetchall()
            )
        return found

    # -- writes ------------------------------------------------------------------------------

    def write(self, batch: Sequence[PreparedArticle], model_name: str) -> WriteSummary:
        """Insert or replace articles (by URL) with their passages, as one atomic step.
        Call inside `writing()`."""
        stamp = now()
        added = updated = unchanged = passages = 0
        removed_ids: list[int] = []
        new_ids: list[int] = []
        new_vectors: list[np.ndarray] = []
        dimension = None
        with self.db.transaction() as conn:
            self.check_model(model_name, conn)
            for item in batch:
                article = item.article
                row = conn.execute("SELECT id, content_hash FROM articles WHERE url = ?", (article.url,)).fetchone()
                if row and row[1] == item.digest:  # another ingest wrote the same article while this one embedded
                    unchanged += 1
                    continue
                values = (
                    article.title,
                    article.text,
                    article.published,
                    published_utc(article.published),
                    article.source,
                    article.author,
                    int(article.summary_only),
                    item.fingerprint,
                    article.image,
                    article.source_id,
                    item.digest,
                    stamp,
                )
                if row:
                    article_id = row[0]
                    old = [r[0] for r in conn.execute("SELECT id FROM passages WHERE article_id = ?", (article_id,))]
                    removed_ids.extend(old)
                    self.db.forget_terms(conn, old)
                    conn.execute("DELETE FROM passages WHERE article_id = ?", (article_id,))
                    conn.execute(
                        "UPDATE articles SET title = ?, text = ?, published = ?, published_utc = ?, source = ?,"
                        " author = ?, summary_only = ?, fingerprint = ?, image = ?,"
                        " source_id = coalesce(?, source_id),"  # a story ingested by hand keeps its feed's source
                        " content_hash = ?, updated_at = ? WHERE id = ?",
                        (*values, article_id),
                    )
                    updated += 1
                else:
                    article_id = conn.execute(
                        "INSERT INTO articles (title, text, published, published_utc, source, author, summary_only,"
                        " fingerprint, image, source_id, content_hash, updated_at, url, ingested_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        (*values, article.url, stamp),
                    ).fetchone()[0]
                    added += 1
                for passage, vector in zip(item.passages, item.vectors, strict=True):
                    passage_id = conn.execute(
                        'INSERT INTO passages (article_id, ordinal, start, "end", text, vector)'
                        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                        (
                            article_id,
                            passage.ordinal,
                            passage.start,
                            passage.end,
                            passage.text,
                            np.asarray(vector, dtype=np.float32).tobytes(),
                        ),
                    ).fetchone()[0]
                    self.db.index_terms(conn, passage_id, article.title, passage.text)
                    new_ids.append(passage_id)
                    new_vectors.append(vector)
                    dimension = len(vector)
                    passages += 1
            if not (added or updated):  # every article already there, as is: nothing changes
                return WriteSummary(unchanged=unchanged)
            generation = self.db.bump(conn, stamp, model_name, dimension)
            self.db.log_vector_changes(conn, generation, removed_ids, new_ids)
        started = time.perf_counter()
        vectors = np.vstack(new_vectors) if new_vectors else np.zeros((0, dimension or 1), np.float32)
        self.vectors.apply_changes(generation, np.array(removed_ids), np.array(new_ids), vectors)
        return WriteSummary(added, updated, unchanged, passages, time.perf_counter() - started)

    def passages_to_embed(self) -> list[tuple[int, str, str]]:
        """(passage id, article title, passage text) for every passage, for a reindex."""
        return (
            self.db.connect()
            .execute(
                "SELECT p.id, a.title, p.text FROM passages p JOIN articles a ON a.id = p.article_id ORDER BY p.id"
            )
            .fetchall()
        )

    def replace_vectors(self, ids: np.ndarray, vectors: np.ndarray, model_name: str) -> None:
        """Swap in new vectors for every passage (after a model change), atomically."""
        with self.db.transaction() as conn:
            current = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
            if current != len(ids):
                raise NewsbotError("the store changed during the reindex; run it again")
            conn.executemany(
                "UPDATE passages SET vector = ? WHERE id = ?",
                ((v.astype(np.float32).tobytes(), int(i)) for i, v in zip(ids, vectors, strict=True)),
            )
            conn.execute("DELETE FROM meta WHERE key IN ('embedding_model', 'dimension')")
            generation = self.db.bump(conn, now(), model_name, vectors.shape[1] if len(vectors) else None)
            self.db.log_vector_changes(conn, generation, [], [], everything=True)
        index = VectorIndex.build(vectors.shape[1], ids, vectors, self.vectors.index_policy)
        self.vectors.install(index, generation, save=True)

    def check_model(self, model_name: str, conn=None) -> None:
        """Refuse to mix vectors of two embedding models in one index."""
        conn = conn or self.db.connect()
        stored = conn.execute("SELECT value FROM meta WHERE key = 'embedding_model'").fetchone()
        if stored and stored[0] != model_name and self._any_passages(conn):
            raise ModelChangedError(stored[0], model_name)

    def fingerprints(self) -> list[tuple[int, bytes]]:
        """(article id, text fingerprint) of every article, for near-duplicate checks."""
        if not self.db.exists:
            return []
        return (
            self.db.connect().execute("SELECT id, fingerprint FROM articles WHERE fingerprint IS NOT NULL").fetchall()
        )

    def fingerprints_of(self, article_ids: Sequence[int]) -> dict[int, bytes]:
        """The text fingerprints of these articles (those that have one)."""
        if not article_ids:
            return {}
        marks = ",".join("?" * len(article_ids))
        rows = (
            self.db.connect()
            .execute(
                f"SELECT id, fingerprint FROM articles WHERE fingerprint IS NOT NULL AND id IN ({marks})",
                list(article_ids),
            )
            .fetchall()
        )
        return {row[0]: bytes(row[1]) for row in rows}

    def remove_older_than(self, cutoff: str) -> int:
        """Delete articles published (or, undated, ingested) before `cutoff`, with their passages and
        vectors, as one atomic step. Call inside `writing()`. Returns the number removed."""
        return len(remove_where(self.db, self.vectors, "coalesce(published_utc, ingested_at) < ?", (cutoff,)))

    def remove(self, references: Sequence[str]) -> tuple[list[tuple[int, Story]], list[str]]:
        """Delete the articles named by URL or id, as one atomic step. Call inside `writing()`. Returns
        (id, story) of each removed, and the references that named no article."""
        return remove_named(self.db, self.vectors, references)

    # -- reads -------------------------------------------------------------------------------

    def lexical_search(self, text: str, k: int) -> list[int]:
        """Passage ids for the content words of `text`, best BM25-style match first."""
        query = lexical_query(text)
        return self.db.search_terms(query, k) if query else []

    def passages(self, ids: Sequence[int]) -> dict[int, PassageRow]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = (
            self.db.connect()
            .execute(
                "SELECT p.id, p.text, a.title, a.url, a.published, a.source, a.id, a.image FROM passages p"
                f" JOIN articles a ON a.id = p.article_id WHERE p.id IN ({marks})",
                list(ids),
            )
            .fetchall()
        )
        return {
            r[0]: PassageRow(passage_id=r[0], text=r[1], story=Story(r[2], r[3], r[4], r[5], r[7]), article_id=r[6])
            for r in rows
        }

    def latest(self, count: int, article_ids: set[int] | None = None) -> list[Story]:
        """The newest stories, of all or only of `article_ids`."""
        return [h.story for h in self.newest_headlines(count, article_ids)]

    def newest_headlines(self, count: int, article_ids: set[int] | None = None) -> list[Headline]:
        return self._headlines(_only(article_ids) + _NEWEST, (*(article_ids or ()), count))

    def headlines_of(self, article_ids: Sequence[int]) -> list[Headline]:
        return self._headlines(_only(article_ids), tuple(article_ids))

    def headlines_after(self, article_id: int, limit: int) -> list[Headline]:
        """Stories ingested after `article_id` (ids grow with ingestion), oldest first."""
        return self._headlines("a.id > ? ORDER BY a.id LIMIT ?", (article_id, limit))

    def headlines_since(self, moment: str, limit: int) -> list[Headline]:
        """Stories published (or, undated, ingested) at `moment` or later, newest first."""
        return self._headlines(
            "coalesce(a.published_utc, a.ingested_at) >= ? ORDER BY coalesce(a.published_utc, a.ingested_at) DESC,"
            " a.id DESC LIMIT ?",
            (moment, limit),
        )

    def _headlines(self, where: str, params: tuple) -> list[Headline]:
        if not self.db.exists:
            return []
        rows = self.db.connect().execute(
            "SELECT a.id, a.title, a.url, a.published, a.source,"
            " (SELECT p.text FROM passages p WHERE p.article_id = a.id ORDER BY p.ordinal LIMIT 1),"
            " a.image, a.source_id"
            f" FROM articles a WHERE {where}",
            params,
        )
        return [Headline(r[0], Story(r[1], r[2], r[3], r[4], r[6]), lead_of(r[5] or ""), r[7]) for r in rows]

    def passage_vectors(self, article_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Each article's passage vectors, one row a passage, in the order of the passages."""
        if not article_ids:
            return {}
        marks = ",".join("?" * len(article_ids))
        found: dict[int, list[np.ndarray]] = {}
        rows = self.db.connect().execute(
            f"SELECT article_id, vector FROM passages WHERE article_id IN ({marks}) ORDER BY article_id, ordinal",
            list(article_ids),
        )
        for article_id, blob in rows:
            found.setdefault(article_id, []).append(np.frombuffer(bytes(blob), dtype=np.float32))
        return {article_id: np.vstack(vectors) for article_id, vectors in found.items()}

    def articles_mentioning(self, topic: str, limit: int = 1000) -> set[int]:
        """Articles with a passage holding every word of `topic` (full-text search)."""
        if not lexical_query(topic) or not self.db.exists:
            return set()
        return self.db.articles_with_terms(all_words_query(topic), limit)

    def stats(self) -> dict:
        if not self.db.exists:
            return {"articles": 0, "passages": 0, "embedding_model": None, "last_update": None, "generation": 0}
        conn = self.db.connect()
        return {
            "articles": conn.execute("SELECT count(*) FROM articles").fetchone()[0],
            "passages": conn.execute("SELECT count(*) FROM passages").fetchone()[0],
            "embedding_model": self.db.meta("embedding_model"),
            "last_update": self.db.meta("last_update"),
            "generation": self.db.generation,
        }
