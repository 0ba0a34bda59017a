"""The PostgreSQL backend: one news library shared by processes on several machines.

Articles, passages (with their vectors and a `tsvector` of their words), sources and poll state
live in PostgreSQL (a `database_url` of postgresql://..., psycopg 3). Each process serves vector
search from its own in-memory FAISS replica (`index/replica.py`), kept current from `vector_log`.

The SQL of the article store and the registry is shared with SQLite (`?` placeholders are
translated); what differs (schema, locks, full-text search, the vector log) is here.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast
from urllib.parse import quote

import numpy as np

from index.errors import NewsbotError, StoreUnavailableError
from index.store.registry import link_articles_to_sources, name_sources_without_credentials
from index.store.schema import POSTGRES_MIGRATIONS, POSTGRES_SCHEMA, POSTGRES_VERSION
from index.store.sqlite import GenerationStore

log = logging.getLogger(__name__)

_WRITE_LOCK = 0x6E657773  # advisory lock keys ("news", "newt"): writers take turns; migrations run once
_SCHEMA_LOCK = 0x6E657774
LOG_KEPT = 1000  # generations of vector changes kept for replicas to catch up from


@functools.lru_cache(maxsize=512)
def _pg(sql: str) -> str:
    """The shared SQL with psycopg's placeholders."""
    return sql.replace("%", "%%").replace("?", "%s")


DATABASE_URL = ("database_url",)  # the parameter the connection errors name


class PgConnection:
    """A psycopg connection that speaks the sqlite3 subset the shared SQL uses.

    `reopen` (given for the long-lived connections) makes a new raw connection: a statement run
    outside a transaction on a connection the server dropped (a restart: AdminShutdown on the
    first statement after it) is run again once on a new one. Inside a transaction it is not: the
    work before it was lost with the connection, and the error goes up."""

    def __init__(self, raw, reopen: Callable[[], Any] | None = None) -> None:
        self.raw = raw
        self._reopen = reopen

    def execute(self, sql: str, params: Sequence = ()):
        import psycopg

        idle = self.raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        try:
            return self.raw.execute(_pg(sql), tuple(params))
        except psycopg.OperationalError:
            if self._reopen is None or not idle or not (self.raw.closed or self.raw.broken):
                raise
        log.info("the news database dropped a connection (a restart?): reconnecting")
        self.raw = self._reopen()
        return self.raw.execute(_pg(sql), tuple(params))

    def executemany(self, sql: str, rows) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(_pg(sql), [tuple(row) for row in rows])

    @property
    def in_transaction(self) -> bool:
        import psycopg

        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()


_PASSWORD_SETTING = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", re.IGNORECASE)


def passwords(url: str) -> list[str]:
    """Every password written in a connection string: in a URL's user part, or as a `password=`
    setting (in its query, or in the `key=value` form)."""
    found = [m.group(2).strip("'") for m in _PASSWORD_SETTING.finditer(url)]
    if "://" in url:
        netloc = re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0]
        user = netloc.rpartition("@")[0] if "@" in netloc else ""
        if ":" in user:
            found.append(user.split(":", 1)[1])
    return [p for p in found if p]


def redacted(url: str) -> str:
    """A connection string (URL or `key=value` form) with its password shown as ***, fit to print."""
    if "://" in url:
        scheme, rest = url.split("://", 1)
        netloc, tail = cast(re.Match[str], re.match(r"([^/?#]*)(.*)", rest, re.DOTALL)).groups()
        user, at, hosts = netloc.rpartition("@")
        if at and ":" in user:
            netloc = f"{user.split(':', 1)[0]}:***@{hosts}"
        url = f"{scheme}://{netloc}{tail}"
    return _PASSWORD_SETTING.sub(r"\1***", url)


def scrubbed(message: str, url: str) -> str:
    """An error message with every password of `url` in it shown as ***."""
    for secret in sorted(set(passwords(url)), key=len, reverse=True):
        message = message.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return _PASSWORD_SETTING.sub(r"\1***", message)


class PostgresDatabase(GenerationStore):
    """The `Database` interface over PostgreSQL: a connection per thread, advisory locks."""

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise NewsbotError(
                "a database_url needs psycopg: pip install 'psycopg[binary]' (or newsbot[postgres])",
                parameters=DATABASE_URL,
            ) from None
        self._psycopg = psycopg
        url = url.strip()
        scheme = url.split("://", 1)[0].lower() if "://" in url else None
        if scheme is not None and scheme not in ("postgresql", "postgres"):
            raise NewsbotError(
                f"database_url must be a postgresql:// URL (or libpq's key=value form), not a {scheme}:// one:"
                f" {redacted(url)}",
                parameters=DATABASE_URL,
            )
        self.url = url
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._lock_conn: PgConnection | None = None
        self._schema_ready = False

    exists = True  # the server is there or connecting says why

    @property
    def IntegrityError(self) -> type[Exception]:  # noqa: N802 (named as sqlite3's, which the shared code catches)
        return self._psycopg.IntegrityError

    @property
    def location(self) -> str:
        return redacted(self.url)

    def open_connection(self):
        try:
            return self._psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except self._psycopg.OperationalError as exc:
            reason = scrubbed(" ".join(str(exc).split()), self.url)[:300]
            raise StoreUnavailableError(f"cannot connect to the news database {self.location}: {reason}") from None
        except self._psycopg.Error as exc:  # a connection string psycopg cannot read: its text quotes it
            reason = scrubbed(" ".join(str(exc).split()), self.url)[:300]
            raise NewsbotError(f"cannot read database_url {self.location}: {reason}", parameters=DATABASE_URL) from None

    def connect(self) -> PgConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.raw.closed:
            if not self._schema_ready:
                self._create()
            conn = PgConnection(self.open_connection(), self.open_connection)
            self._local.conn = conn
        return conn

    def _create(self) -> None:
        """Create the schema, or run the migrations a newer newsbot brought, once across processes."""
        conn = PgConnection(self.open_connection())
        try:
            version = self._version(conn)
            if version == POSTGRES_VERSION:
                self._schema_ready = True
                return
            with conn.raw.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
                conn.raw.execute(POSTGRES_SCHEMA)
                version = self._version(conn) or POSTGRES_VERSION
                for number, statements in POSTGRES_MIGRATIONS:
                    if number > version:
                        conn.raw.execute(statements)
                name_sources_without_credentials(conn)
                link_articles_to_sources(conn)
                conn.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?), ('generation', '0') ON CONFLICT (key) DO NOTHING",
                    (str(POSTGRES_VERSION),),
                )
                conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(POSTGRES_VERSION),))
        finally:
            conn.close()
        self._schema_ready = True

    def _version(self, conn: PgConnection) -> int | None:
        if conn.execute("SELECT to_regclass('meta')").fetchone()[0] is None:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else None

    def ensure_writable(self) -> None:
        self.connect()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Exclusive right to write: a thread lock, then a session advisory lock that PostgreSQL
        releases by itself if this process dies."""
        with self._write_lock:
            if self._lock_conn is None or self._lock_conn.raw.closed:
                self._lock_conn = PgConnection(self.open_connection(), self.open_connection)
            lock = self._lock_conn
            lock.execute("SELECT pg_advisory_lock(?)", (_WRITE_LOCK,))
            try:
                yield
            finally:
                lock.execute("SELECT pg_advisory_unlock(?)", (_WRITE_LOCK,))

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[PgConnection]:
        """A connection of its own reading one consistent snapshot (REPEATABLE READ), closed after."""
        conn = PgConnection(self.open_connection())
        try:
            with conn.raw.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """One atomic write; rolled back on any exception, and by the server if this process dies."""
        conn = self.connect()
        conn.execute("SELECT 1")  # a connection the server dropped is replaced before the work starts
        with conn.raw.transaction():
            yield conn

    # -- full-text terms: a stripped tsvector per passage, ranked by ts_rank -----------------

    def index_terms(self, conn: PgConnection, passage_id: int, title: str, text: str) -> None:
        conn.execute(
            "INSERT INTO passage_terms (passage_id, terms) VALUES (?, strip(to_tsvector('english', ?)"
            " || to_tsvector('english', ?)))",
            (passage_id, title, text),
        )

    def forget_terms(self, conn: PgConnection, passage_ids: Sequence[int]) -> None:
        """The terms go with their passage's row (ON DELETE CASCADE)."""

    def search_terms(self, query: str, k: int) -> list[int]:
        rows = self.connect().execute(
            "SELECT passage_id FROM passage_terms, to_tsquery('english', ?) q WHERE terms @@ q"
            " ORDER BY ts_rank(terms, q) DESC, passage_id LIMIT ?",
            (_tsquery(query), k),
        )
        return [r[0] for r in rows]

    def articles_with_terms(self, query: str, limit: int) -> set[int]:
        rows = self.connect().execute(
            "SELECT DISTINCT p.article_id FROM passages p JOIN (SELECT passage_id FROM passage_terms"
            " WHERE terms @@ to_tsquery('english', ?) LIMIT ?) hits ON hits.passage_id = p.id",
            (_tsquery(query), limit),
        )
        return {r[0] for r in rows}

    def log_vector_changes(
        self, conn: PgConnection, generation: int, removed: Sequence[int], added: Sequence[int], *, everything=False
    ) -> None:
        """What this generation did to the vectors, for other processes' replicas to catch up on."""
        conn.execute(
            "INSERT INTO vector_log (generation, removed, added, everything) VALUES (?, ?, ?, ?)",
            (generation, _ids(removed), _ids(added), everything),
        )
        conn.execute("DELETE FROM vector_log WHERE generation < ?", (generation - LOG_KEPT,))


def _ids(values: Sequence[int]) -> bytes:
    return np.asarray(list(values), dtype=np.int64).tobytes()


def _tsquery(fts5: str) -> str:
    """The shared lexical query (`"a" OR "b"`, or AND) as a tsquery (`a | b`): words only, so
    nothing a question says can be query syntax."""
    words = re.findall(r'"(\w+)"', fts5)
    return (" & " if " AND " in fts5 else " | ").join(words)
