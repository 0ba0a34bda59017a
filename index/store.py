"""Articles, passages and their vectors on disk: SQLite (with an FTS5 BM25 index) plus FAISS.

Every write is one SQLite transaction that also bumps the store's generation; the FAISS copy for
that generation is written afterwards under a temporary name and renamed into place. A crash at any
moment leaves either the old generation or the new one, never a mixture: on open, a FAISS file that
lags behind SQLite is rebuilt from the vectors SQLite keeps. SQLite runs in WAL mode, so readers in
other threads and processes keep reading the last committed generation while a write is under way.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.dates import published_utc
from index.errors import NewsbotError
from index.models import Article, Passage, Story
from index.vectors import IndexPolicy, VectorIndex, vector_file

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
DB_NAME = "news.sqlite3"

# Columns added after the first release; created on open where an older store lacks them.
_ADDED_COLUMNS = {
    "articles": [
        ("author", "TEXT NOT NULL DEFAULT ''"),
        ("summary_only", "INTEGER NOT NULL DEFAULT 0"),
        ("fingerprint", "BLOB"),
        ("published_utc", "TEXT"),  # version 3: `published` keeps its own offset; this sorts
    ],
    "sources": [
        ("kind", "TEXT NOT NULL DEFAULT 'file'"),
        ("interval_minutes", "REAL"),
        ("etag", "TEXT"),
        ("last_modified", "TEXT"),
        ("last_polled_at", "TEXT"),
        ("last_error", "TEXT"),
        ("failures", "INTEGER NOT NULL DEFAULT 0"),
        ("next_poll_at", "REAL NOT NULL DEFAULT 0"),
    ],
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    published TEXT,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_by_article ON passages (article_id, ordinal);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    location TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feed_entries (
    url TEXT PRIMARY KEY,
    source_id INTEGER NOT NULL,
    signature TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS passage_terms USING fts5 (
    title, body, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""
_TABLES = set(re.findall(r"CREATE (?:VIRTUAL )?TABLE IF NOT EXISTS (\w+)", _SCHEMA))

# Words too common in questions to say anything about which passage answers them.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours out over own same
    she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up very was we were what when where which while who whom why
    will with would you your yours according said says new news week recently reported latest""".split()
)

_WORD = re.compile(r"\w+", re.UNICODE)


def content_hash(article: Article) -> str:
    digest = hashlib.sha256()
    for part in (article.title, article.text, article.published or "", article.source):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def lexical_query(text: str) -> str:
    """An FTS5 query matching any content word of `text` (each quoted, so no syntax leaks in)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
    return " OR ".join(f'"{w}"' for w in seen)


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
    passages: int = 0
    vector_seconds: float = 0.0  # of the write, the time spent updating and saving the FAISS copy


@dataclass(frozen=True)
class Source:
    """A place the library ingests news from, as configured by an admin, and how its polls go."""

    id: int
    location: str
    name: str
    kind: str = "file"  # "file" (JSONL or folder) or "web" (a feed or one article URL: told apart when read)
    interval_minutes: float | None = None  # None: the default poll interval
    last_polled_at: str | None = None
    last_error: str | None = None
    failures: int = 0  # consecutive failed polls
    next_poll_at: float = 0.0  # Unix time
    etag: str | None = None
    last_modified: str | None = None

    @property
    def failing(self) -> bool:
        return self.failures > 0


@dataclass(frozen=True)
class PassageRow:
    passage_id: int
    text: str
    story: Story
    article_id: int


class StoreBusyError(NewsbotError):
    """Another process held the store's write lock for longer than we wait."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"the news store {path} is busy: another newsbot process is writing to it; try again shortly")


class NewsStore:
    """The on-disk news store under one data folder."""

    def __init__(self, data_dir: Path, index_policy: IndexPolicy | None = None) -> None:
        self.data_dir = Path(data_dir).expanduser()
        self.index_policy = index_policy or IndexPolicy()
        self.db_path = self.data_dir / DB_NAME
        self._local = threading.local()
        self._vectors: VectorIndex | None = None
        self._vectors_generation = -1
        self._vectors_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._schema_ready = False

    # -- connections -------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        return self.db_path.exists()

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self._schema_ready:
                self._create()
            try:
                conn = sqlite3.connect(self.db_path, timeout=60, isolation_level=None)
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:
                raise NewsbotError(f"cannot open the news store {self.db_path}: {exc}") from exc
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
        return conn

    def _schema_current(self) -> bool:
        """True when the store already has this version's tables and columns: checked by reading
        only, so opening a store to read never waits on (or fails behind) another process's write."""
        if not self.db_path.exists():
            return False
        try:
            conn = sqlite3.connect(f"{self.db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        except sqlite3.OperationalError:
            return False
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables >= _TABLES:
                return False
            for table, columns in _ADDED_COLUMNS.items():
                present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                if any(name not in present for name, _ in columns):
                    return False
            rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('schema_version', 'generation')"))
            return rows.get("schema_version") == str(SCHEMA_VERSION) and "generation" in rows
        except sqlite3.DatabaseError:
            return False
        finally:
            conn.close()

    def _create(self) -> None:
        """Create the store, or add tables a newer version of newsbot introduced."""
        if self._schema_current():
            self._schema_ready = True
            return
        self.ensure_writable()
        conn = sqlite3.connect(self.db_path, isolation_level=None, timeout=60)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(_SCHEMA)
            for table, columns in _ADDED_COLUMNS.items():
                present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                for name, declaration in columns:
                    if name not in present:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
            # Before version 3 `published` was stored in UTC already: it is its own sort key.
            conn.execute("UPDATE articles SET published_utc = published WHERE published_utc IS NULL")
            conn.execute("DROP INDEX IF EXISTS articles_by_date")
            conn.execute(
                "CREATE INDEX IF NOT EXISTS articles_by_time ON articles (published_utc DESC, ingested_at DESC)"
            )
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?), ('generation', '0')",
                (str(SCHEMA_VERSION),),
            )
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusyError(self.db_path) from None
            raise
        finally:
            conn.close()
        self._schema_ready = True

    def ensure_writable(self) -> None:
        if self.data_dir.exists() and not os.access(self.data_dir, os.W_OK | os.X_OK):
            raise NewsbotError(f"data dir {self.data_dir} is not writable")
        if not self.data_dir.exists():
            try:
                self.data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise NewsbotError(f"cannot create data dir {self.data_dir}: {exc.strerror}") from exc

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file (sizes on disk then reflect the data)."""
        self._connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Exclusive right to write, across threads (a lock) and processes (an flock)."""
        self.ensure_writable()
        with self._write_lock, (self.data_dir / ".write.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- metadata ----------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._connect().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @property
    def generation(self) -> int:
        return int(self.meta("generation") or 0)

    @property
    def embedding_model(self) -> str | None:
        return self.meta("embedding_model")

    def has_passages(self) -> bool:
        """Whether anything is indexed (O(1), unlike counting)."""
        if not self.exists:
            return False
        return self._any_passages(self._connect())

    @staticmethod
    def _any_passages(conn: sqlite3.Connection) -> bool:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM passages)").fetchone()[0] == 1

    def article_digests(self, urls: Sequence[str]) -> dict[str, str]:
        if not urls or not self.exists:
            return {}
        conn = self._connect()
        found: dict[str, str] = {}
        for begin in range(0, len(urls), 500):
            part = list(urls[begin : begin + 500])
            marks = ",".join("?" * len(part))
            found.update(
                conn.execute(f"SELECT url, content_hash FROM articles WHERE url IN ({marks})", part).fetchall()
            )
        return found

    # -- writes ------------------------------------------------------------------------------

    def write_articles(self, batch: Sequence[PreparedArticle], model_name: str) -> WriteSummary:
        """Insert or replace articles (by URL) with their passages, as one atomic step.
        Call inside `writing()`."""
        conn = self._connect()
        now = _now()
        added = updated = passages = 0
        removed_ids: list[int] = []
        new_ids: list[int] = []
        new_vectors: list[np.ndarray] = []
        dimension = None
        conn.execute("BEGIN IMMEDIATE")
        try:
            self.check_model(model_name, conn)
            for item in batch:
                article = item.article
                row = conn.execute("SELECT id FROM articles WHERE url = ?", (article.url,)).fetchone()
                values = (
                    article.title,
                    article.text,
                    article.published,
                    published_utc(article.published),
                    article.source,
                    article.author,
                    int(article.summary_only),
                    item.fingerprint,
                    item.digest,
                    now,
                )
                if row:
                    article_id = row[0]
                    old = [r[0] for r in conn.execute("SELECT id FROM passages WHERE article_id = ?", (article_id,))]
                    removed_ids.extend(old)
                    conn.executemany("DELETE FROM passage_terms WHERE rowid = ?", ((i,) for i in old))
                    conn.execute("DELETE FROM passages WHERE article_id = ?", (article_id,))
                    conn.execute(
                        "UPDATE articles SET title = ?, text = ?, published = ?, published_utc = ?, source = ?,"
                        " author = ?, summary_only = ?, fingerprint = ?, content_hash = ?, updated_at = ? WHERE id = ?",
                        (*values, article_id),
                    )
                    updated += 1
                else:
                    article_id = conn.execute(
                        "INSERT INTO articles (title, text, published, published_utc, source, author, summary_only,"
                        " fingerprint, content_hash, updated_at, url, ingested_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (*values, article.url, now),
                    ).lastrowid
                    added += 1
                for passage, vector in zip(item.passages, item.vectors, strict=True):
                    passage_id = conn.execute(
                        'INSERT INTO passages (article_id, ordinal, start, "end", text, vector)'
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            article_id,
                            passage.ordinal,
                            passage.start,
                            passage.end,
                            passage.text,
                            np.asarray(vector, dtype=np.float32).tobytes(),
                        ),
                    ).lastrowid
                    conn.execute(
                        "INSERT INTO passage_terms (rowid, title, body) VALUES (?, ?, ?)",
                        (passage_id, article.title, passage.text),
                    )
                    new_ids.append(passage_id)
                    new_vectors.append(vector)
                    dimension = len(vector)
                    passages += 1
            generation = self._bump(conn, now, model_name, dimension)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        started = time.perf_counter()
        vectors = np.vstack(new_vectors) if new_vectors else np.zeros((0, dimension or 1), np.float32)
        self._apply_vector_changes(generation, np.array(removed_ids), np.array(new_ids), vectors)
        return WriteSummary(added, updated, passages, time.perf_counter() - started)

    def passages_to_embed(self) -> list[tuple[int, str, str]]:
        """(passage id, article title, passage text) for every passage, for a reindex."""
        return (
            self._connect()
            .execute(
                "SELECT p.id, a.title, p.text FROM passages p JOIN articles a ON a.id = p.article_id ORDER BY p.id"
            )
            .fetchall()
        )

    def replace_vectors(self, ids: np.ndarray, vectors: np.ndarray, model_name: str) -> None:
        """Swap in new vectors for every passage (after a model change), atomically."""
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
            if current != len(ids):
                raise NewsbotError("the store changed during the reindex; run it again")
            conn.executemany(
                "UPDATE passages SET vector = ? WHERE id = ?",
                ((v.astype(np.float32).tobytes(), int(i)) for i, v in zip(ids, vectors, strict=True)),
            )
            conn.execute("DELETE FROM meta WHERE key IN ('embedding_model', 'dimension')")
            generation = self._bump(conn, _now(), model_name, vectors.shape[1] if len(vectors) else None)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        index = VectorIndex.build(vectors.shape[1], ids, vectors, self.index_policy)
        self._install_vectors(index, generation, save=True)

    def check_model(self, model_name: str, conn: sqlite3.Connection | None = None) -> None:
        """Refuse to mix vectors of two embedding models in one index."""
        conn = conn or self._connect()
        stored = conn.execute("SELECT value FROM meta WHERE key = 'embedding_model'").fetchone()
        if stored and stored[0] != model_name and self._any_passages(conn):
            raise NewsbotError(
                f"the index was built with embedding model {stored[0]!r}, but {model_name!r} is configured;"
                " run `newsbot reindex` first"
            )

    def _bump(self, conn: sqlite3.Connection, now: str, model_name: str, dimension: int | None) -> int:
        generation = int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]) + 1
        values = {"generation": str(generation), "last_update": now, "embedding_model": model_name}
        if dimension:
            values["dimension"] = str(dimension)
        conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())
        return generation

    # -- vectors -----------------------------------------------------------------------------

    def _apply_vector_changes(
        self, generation: int, removed: np.ndarray, added: np.ndarray, vectors: np.ndarray
    ) -> None:
        with self._vectors_lock:
            base = self._vectors
            if base is None or self._vectors_generation != generation - 1:
                base = None
        if base is not None and base.needs_rebuild(len(base) - len(removed) + len(added)):
            # The corpus crossed the policy's size line (or outgrew its IVF lists): build the
            # other kind from SQLite's exact vectors; it lands as this generation's file, so
            # readers switch over in one step.
            log.info("vector index: rebuilding %s index for the new corpus size", base.kind)
            base = None
        index = self._rebuild_vectors() if base is None else base.with_changes(removed, added, vectors)
        self._install_vectors(index, generation, save=True)

    def _install_vectors(self, index: VectorIndex, generation: int, *, save: bool) -> None:
        if save:
            try:
                index.save(self.data_dir, generation)
            except OSError as exc:
                # SQLite has committed; the next open rebuilds the FAISS copy from it.
                log.warning("could not save vector index for generation %d: %s", generation, exc)
        with self._vectors_lock:
            self._vectors = index
            self._vectors_generation = generation

    def _rebuild_vectors(self) -> VectorIndex:
        """Every vector SQLite holds, read in slices into one array (no per-row Python copies)."""
        conn = self._connect()
        own_snapshot = not conn.in_transaction
        if own_snapshot:
            conn.execute("BEGIN")  # one snapshot for the count and the rows
        try:
            count = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
            dimension = int(self.meta("dimension") or 0)
            if not count:
                return VectorIndex.empty(dimension or 1, self.index_policy)
            ids = np.empty(count, dtype=np.int64)
            vectors = None
            at = 0
            cursor = conn.execute("SELECT id, vector FROM passages ORDER BY id")
            while rows := cursor.fetchmany(10_000):
                block = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
                if vectors is None:
                    vectors = np.empty((count, block.shape[1]), dtype=np.float32)
                ids[at : at + len(rows)] = [r[0] for r in rows]
                vectors[at : at + len(rows)] = block
                at += len(rows)
        finally:
            if own_snapshot:
                conn.execute("COMMIT")
        return VectorIndex.build(vectors.shape[1], ids[:at], vectors[:at], self.index_policy)

    def vectors(self) -> VectorIndex:
        """The FAISS index for the latest committed generation, loaded or repaired as needed."""
        generation = self.generation
        with self._vectors_lock:
            if self._vectors is not None and self._vectors_generation == generation:
                return self._vectors
        path = vector_file(self.data_dir, generation)
        index = None
        if path.exists():
            try:
                index = VectorIndex.load(path, self.index_policy)
            except RuntimeError as exc:
                log.warning("vector index %s is unreadable (%s); rebuilding it", path.name, exc)
        if index is None:
            if self._vectors is not None and self._writer_active():
                # Another process committed and is still saving its FAISS copy: keep serving the
                # previous one (lexical search already sees the new passages) and look again later.
                return self._vectors
            log.info("vector index for generation %d is missing; rebuilding it from the store", generation)
            index = self._rebuild_vectors()
            self._install_vectors(index, generation, save=os.access(self.data_dir, os.W_OK))
            return index
        self._install_vectors(index, generation, save=False)
        return index

    def _writer_active(self) -> bool:
        lock = self.data_dir / ".write.lock"
        if not lock.exists():
            return False
        with lock.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    # -- configured sources ----------------------------------------------------------------

    _SOURCE_COLUMNS = (
        "id, location, name, kind, interval_minutes, last_polled_at, last_error, failures, next_poll_at, etag,"
        " last_modified"
    )

    def add_source(self, location: str, name: str, kind: str, interval_minutes: float | None = None) -> Source:
        conn = self._connect()
        try:
            source_id = conn.execute(
                "INSERT INTO sources (location, name, kind, interval_minutes, added_at) VALUES (?, ?, ?, ?, ?)",
                (location, name, kind, interval_minutes, _now()),
            ).lastrowid
        except sqlite3.IntegrityError:
            raise NewsbotError(f"{location} is already a source") from None
        return self.source(source_id)

    def source(self, source_id: int) -> Source:
        row = (
            self._connect().execute(f"SELECT {self._SOURCE_COLUMNS} FROM sources WHERE id = ?", (source_id,)).fetchone()
        )
        if row is None:
            raise NewsbotError(f"no source with id {source_id}; `sources list` shows the ids")
        return Source(*row)

    def remove_source(self, source_id: int) -> Source:
        source = self.source(source_id)
        self._connect().execute("DELETE FROM sources WHERE id = ?", (source_id,))
        return source

    def sources(self) -> list[Source]:
        if not self.exists:
            return []
        rows = self._connect().execute(f"SELECT {self._SOURCE_COLUMNS} FROM sources ORDER BY id").fetchall()
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
        conn = self._connect()
        if error is None:
            conn.execute(
                "UPDATE sources SET last_polled_at = ?, last_error = NULL, failures = 0, next_poll_at = ?,"
                " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified) WHERE id = ?",
                (_now(), next_poll_at, etag, last_modified, source_id),
            )
        else:
            conn.execute(
                "UPDATE sources SET last_polled_at = ?, last_error = ?, failures = failures + 1, next_poll_at = ?"
                " WHERE id = ?",
                (_now(), error, next_poll_at, source_id),
            )

    def feed_entry(self, url: str) -> tuple[int, str] | None:
        """(source id, signature) stored for a feed entry when it was last handled, if it was."""
        row = self._connect().execute("SELECT source_id, signature FROM feed_entries WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else None

    def remember_feed_entry(self, url: str, source_id: int, signature: str, outcome: str) -> None:
        self._connect().execute(
            "INSERT OR REPLACE INTO feed_entries (url, source_id, signature, outcome) VALUES (?, ?, ?, ?)",
            (url, source_id, signature, outcome),
        )

    def fingerprints(self) -> list[tuple[int, bytes]]:
        """(article id, text fingerprint) of every article, for near-duplicate checks."""
        if not self.exists:
            return []
        return self._connect().execute("SELECT id, fingerprint FROM articles WHERE fingerprint IS NOT NULL").fetchall()

    def remove_older_than(self, cutoff: str) -> int:
        """Delete articles published (or, undated, ingested) before `cutoff`, with their passages and
        vectors, as one atomic step. Call inside `writing()`. Returns the number removed."""
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            old = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM articles WHERE coalesce(published_utc, ingested_at) < ?", (cutoff,)
                )
            ]
            if not old:
                conn.execute("ROLLBACK")
                return 0
            marks = ",".join("?" * len(old))
            passage_ids = [r[0] for r in conn.execute(f"SELECT id FROM passages WHERE article_id IN ({marks})", old)]
            conn.executemany("DELETE FROM passage_terms WHERE rowid = ?", ((i,) for i in passage_ids))
            conn.execute(f"DELETE FROM passages WHERE article_id IN ({marks})", old)
            conn.execute(f"DELETE FROM articles WHERE id IN ({marks})", old)
            generation = self._bump(conn, _now(), self.embedding_model or "", None)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        dimension = int(self.meta("dimension") or 1)
        self._apply_vector_changes(
            generation, np.array(passage_ids), np.array([], dtype=np.int64), np.zeros((0, dimension), np.float32)
        )
        return len(old)

    # -- reads -------------------------------------------------------------------------------

    def lexical_search(self, text: str, k: int) -> list[int]:
        query = lexical_query(text)
        if not query:
            return []
        rows = (
            self._connect()
            .execute(
                "SELECT rowid FROM passage_terms WHERE passage_terms MATCH ? ORDER BY bm25(passage_terms, 0.5, 1.0)"
                " LIMIT ?",
                (query, k),
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    def passages(self, ids: Sequence[int]) -> dict[int, PassageRow]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = (
            self._connect()
            .execute(
                "SELECT p.id, p.text, a.title, a.url, a.published, a.source, a.id FROM passages p"
                f" JOIN articles a ON a.id = p.article_id WHERE p.id IN ({marks})",
                list(ids),
            )
            .fetchall()
        )
        return {
            r[0]: PassageRow(passage_id=r[0], text=r[1], story=Story(r[2], r[3], r[4], r[5]), article_id=r[6])
            for r in rows
        }

    def latest(self, count: int, article_ids: set[int] | None = None) -> list[Story]:
        """The newest stories, of all or only of `article_ids`."""
        if not self.exists:
            return []
        conn = self._connect()
        order = "ORDER BY a.published_utc IS NULL, a.published_utc DESC, a.ingested_at DESC, a.id DESC LIMIT ?"
        columns = "SELECT a.title, a.url, a.published, a.source FROM articles a "
        if article_ids is None:
            rows = conn.execute(columns + order, (count,)).fetchall()
        elif not article_ids:
            return []
        else:
            marks = ",".join("?" * len(article_ids))
            rows = conn.execute(columns + f"WHERE a.id IN ({marks}) " + order, (*article_ids, count)).fetchall()
        return [Story(*r) for r in rows]

    def articles_mentioning(self, topic: str, limit: int = 1000) -> set[int]:
        """Articles with a passage holding every word of `topic` (full-text search)."""
        query = lexical_query(topic)
        if not query or not self.exists:
            return set()
        rows = self._connect().execute(
            "SELECT DISTINCT p.article_id FROM passages p WHERE p.id IN ("
            " SELECT rowid FROM passage_terms WHERE passage_terms MATCH ? LIMIT ?)",
            (query.replace(" OR ", " AND "), limit),
        )
        return {r[0] for r in rows}

    def stats(self) -> dict:
        if not self.exists:
            return {"articles": 0, "passages": 0, "embedding_model": None, "last_update": None, "generation": 0}
        conn = self._connect()
        return {
            "articles": conn.execute("SELECT count(*) FROM articles").fetchone()[0],
            "passages": conn.execute("SELECT count(*) FROM passages").fetchone()[0],
            "embedding_model": self.meta("embedding_model"),
            "last_update": self.meta("last_update"),
            "generation": self.generation,
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
