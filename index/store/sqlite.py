"""The SQLite database under one data folder: connections, schema and its migrations, the write
lock, transactions, and the library's generation counter.

SQLite runs in WAL mode, so readers in other threads and processes keep reading the last committed
generation while a write is under way. Opening a store to read never writes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import sqlite3
import stat
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from index.errors import NewsbotError, NotWritableError, OperatorError
from index.store.registry import link_articles_to_sources, name_sources_without_credentials
from index.store.schema import SQLITE_ADDED_COLUMNS, SQLITE_SCHEMA, SQLITE_VERSION

DB_NAME = "news.sqlite3"

_TABLES = set(re.findall(r"CREATE (?:VIRTUAL )?TABLE IF NOT EXISTS (\w+)", SQLITE_SCHEMA))


FULL_BELOW = 1 << 20  # free bytes under which the disk counts as full: read without creating files


class StoreBusyError(NewsbotError):
    """Another process held the store's write lock for longer than we wait."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"the news store {path} is busy: another newsbot process is writing to it; try again shortly")


def not_a_folder(path: Path) -> str | None:
    """What keeps `path` from being the data folder, with what to do, when something there cannot be
    one (a file, a link to a file, a dangling link, a loop of links); None for a folder, or a path
    where one can be made."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if not path.is_symlink():
            return None
        return (
            f"data dir {path} is a link to {os.readlink(path)}, which does not exist: create that folder,"
            " or remove the link"
        )
    except NotADirectoryError:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        return f"cannot create data dir {path}: {blocker} is a file, not a folder; give another folder as the data dir"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"data dir {path} is a link that loops back on itself: remove or fix the link, or give a folder"
        return f"cannot read data dir {path}: {exc.strerror}"
    if stat.S_ISDIR(mode):
        return None
    what = f"a link to the file {path.resolve()}" if path.is_symlink() else "a file"
    return f"data dir {path} is {what}, not a folder: give a folder as the data dir (or a path where one can be made)"


class GenerationStore:
    """What both backends share: a connection per thread, the `meta` table and the generation."""

    _local: threading.local

    def connect(self):
        raise NotImplementedError

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def meta(self, key: str) -> str | None:
        row = self.connect().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @property
    def generation(self) -> int:
        return int(self.meta("generation") or 0)

    def bump(self, conn, now: str, model_name: str, dimension: int | None) -> int:
        return bump_generation(conn, now, model_name, dimension)


class Database(GenerationStore):
    """One SQLite file, a connection per thread, and the locks that make writers take turns."""

    IntegrityError = sqlite3.IntegrityError

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).expanduser()
        if problem := not_a_folder(self.data_dir):
            raise OperatorError(problem)
        self.db_path = self.data_dir / DB_NAME
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._schema_ready = False

    @property
    def exists(self) -> bool:
        return self.db_path.exists()

    @property
    def location(self) -> str:
        """Where the library lives, as shown to an operator."""
        return str(self.data_dir)

    @property
    def read_only(self) -> bool:
        """An existing store in a folder this process cannot write (a read-only mount, a backup), or
        on a full disk: read without creating a file (SQLite's -shm and -wal need room)."""
        if not self.db_path.exists():
            return False
        return not os.access(self.data_dir, os.W_OK | os.X_OK) or self.disk_full

    @property
    def disk_full(self) -> bool:
        try:
            return shutil.disk_usage(self.data_dir).free < FULL_BELOW
        except OSError:
            return False

    def _open_read_only(self) -> sqlite3.Connection:
        """A connection that never writes: SQLite's own read-only mode where it can (it reads a -wal
        a writer left, but needs a -shm it may have to create), else `immutable`, which needs
        neither (a -wal's commits are then not seen; a writer that closed cleanly left none)."""
        uri = self.db_path.resolve().as_uri()
        try:
            conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)

    def connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.read_only:
                try:
                    conn = self._open_read_only()
                except sqlite3.OperationalError as exc:
                    raise NewsbotError(f"cannot open the news store {self.db_path}: {exc}") from exc
                self._local.conn = conn
                return conn
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
            if self.read_only:
                conn = self._open_read_only()
            else:
                conn = sqlite3.connect(f"{self.db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        except sqlite3.OperationalError:
            return False
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables >= _TABLES:
                return False
            for table, columns in SQLITE_ADDED_COLUMNS.items():
                present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                if any(name not in present for name, _ in columns):
                    return False
            rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('schema_version', 'generation')"))
            return rows.get("schema_version") == str(SQLITE_VERSION) and "generation" in rows
        except sqlite3.DatabaseError:
            return False
        finally:
            conn.close()

    def _create(self) -> None:
        """Create the store, or add tables a newer version of newsbot introduced: once, however many
        processes open a new or older store at the same moment (a lock file of its own, so a process
        already holding the write lock cannot wait on itself)."""
        if self._schema_current():
            self._schema_ready = True
            return
        self.ensure_writable()
        with (self.data_dir / ".schema.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not self._schema_current():  # another process may have migrated while this one waited
                self._migrate()
        self._schema_ready = True

    def _migrate(self) -> None:
        conn = sqlite3.connect(self.db_path, isolation_level=None, timeout=60)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SQLITE_SCHEMA)
            for table, columns in SQLITE_ADDED_COLUMNS.items():
                present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                for name, declaration in columns:
                    if name not in present:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
            conn.execute("BEGIN IMMEDIATE")
            name_sources_without_credentials(conn)
            link_articles_to_sources(conn)
            conn.execute("COMMIT")
            # Before version 3 `published` was stored in UTC already: it is its own sort key.
            conn.execute("UPDATE articles SET published_utc = published WHERE published_utc IS NULL")
            conn.execute("DROP INDEX IF EXISTS articles_by_date")
            conn.execute(
                "CREATE INDEX IF NOT EXISTS articles_by_time ON articles (published_utc DESC, ingested_at DESC)"
            )
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?), ('generation', '0')",
                (str(SQLITE_VERSION),),
            )
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SQLITE_VERSION),))
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusyError(self.db_path) from None
            raise
        finally:
            conn.close()

    def ensure_writable(self) -> None:
        if self.data_dir.exists() and self.disk_full:
            free = shutil.disk_usage(self.data_dir).free
            raise NotWritableError(
                f"the disk holding {self.data_dir} is full ({free / 2**20:.1f} MiB free): free some space, then try"
                " again (reading still works)"
            )
        if self.data_dir.exists() and not os.access(self.data_dir, os.W_OK | os.X_OK):
            raise NotWritableError(
                f"data dir {self.data_dir} is not writable (a read-only folder can be read, not changed:"
                " `ask`, `latest` and `status` work there)"
            )
        if not self.data_dir.exists():
            try:
                self.data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise NotWritableError(f"cannot create data dir {self.data_dir}: {exc.strerror}") from exc

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

    # -- full-text terms (FTS5 here; the PostgreSQL backend keeps a tsvector) ------------------

    def index_terms(self, conn: sqlite3.Connection, passage_id: int, title: str, text: str) -> None:
        conn.execute("INSERT INTO passage_terms (rowid, title, body) VALUES (?, ?, ?)", (passage_id, title, text))

    def forget_terms(self, conn: sqlite3.Connection, passage_ids: Sequence[int]) -> None:
        conn.executemany("DELETE FROM passage_terms WHERE rowid = ?", ((i,) for i in passage_ids))

    def search_terms(self, query: str, k: int) -> list[int]:
        """Passage ids matching an FTS5 `query`, by BM25 (the headline weighs half as much as the body)."""
        rows = self.connect().execute(
            "SELECT rowid FROM passage_terms WHERE passage_terms MATCH ? ORDER BY bm25(passage_terms, 0.5, 1.0)"
            " LIMIT ?",
            (query, k),
        )
        return [r[0] for r in rows]

    def articles_with_terms(self, query: str, limit: int) -> set[int]:
        rows = self.connect().execute(
            "SELECT DISTINCT p.article_id FROM passages p WHERE p.id IN ("
            " SELECT rowid FROM passage_terms WHERE passage_terms MATCH ? LIMIT ?)",
            (query, limit),
        )
        return {r[0] for r in rows}

    def log_vector_changes(
        self, conn, generation: int, removed: Sequence[int], added: Sequence[int], *, everything: bool = False
    ) -> None:
        """Nothing to log here: other processes catch up from the FAISS file of each generation."""

    def writer_active(self) -> bool:
        lock = self.data_dir / ".write.lock"
        if not lock.exists() or self.read_only:  # nobody writes in a folder nobody can write to
            return False
        with lock.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK on any exception (a process
        killed mid-way leaves nothing either: SQLite rolls the journal back on the next open)."""
        conn = self.connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def bump_generation(conn, now: str, model_name: str, dimension: int | None) -> int:
    """Move the library to its next generation inside the caller's write transaction (the same SQL
    on SQLite and PostgreSQL); returns the new generation."""
    generation = int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]) + 1
    values = {"generation": str(generation), "last_update": now, "embedding_model": model_name}
    if dimension:
        values["dimension"] = str(dimension)
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", values.items()
    )
    return generation
