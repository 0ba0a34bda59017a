"""The storage contract: what the domain parts of the store wing use of a backend, what a keeper of
its vector index does, and the errors a backend raises.

Two backends keep it: `Database` (one SQLite file in the data folder, FAISS files beside it) and
`PostgresDatabase` (one PostgreSQL database shared by processes on several machines, an in-memory
FAISS replica in each). A new backend or table starts here; `tests/test_layers.py` fails while a
backend lacks a member. `index.store.storage.open_store` puts a backend together with the domain
parts that read and write it.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from index.config import IndexPolicy
    from index.store.vectors import VectorIndex


@runtime_checkable
class Store(Protocol):
    """A database of articles, passages, sources and poll state, with a generation counter that
    moves once per committed write (readers keep the generation they started on)."""

    @property
    def IntegrityError(self) -> type[Exception]:  # noqa: N802 (the DB-API's name)
        """What a broken UNIQUE constraint raises."""

    @property
    def exists(self) -> bool:
        """Whether there is a store yet (opening one to read never creates it)."""

    @property
    def location(self) -> str:
        """Where the library lives, fit to show an operator (passwords hidden)."""

    @property
    def generation(self) -> int:
        """The last committed generation."""

    def connect(self) -> Any:
        """This thread's connection: `execute(sql, params)` and `executemany` with `?` placeholders."""

    def close(self) -> None:
        """Close this thread's connection."""

    def meta(self, key: str) -> str | None:
        """A value of the `meta` table (embedding_model, dimension, last_update, ...)."""

    def bump(self, conn: Any, now: str, model_name: str, dimension: int | None) -> int:
        """Move to the next generation inside the caller's write transaction; returns it."""

    def ensure_writable(self) -> None:
        """Raise NewsbotError, naming the reason, when this process cannot write the store."""

    def writing(self) -> AbstractContextManager[None]:
        """The exclusive right to write, across threads and processes."""

    def transaction(self) -> AbstractContextManager[Any]:
        """One atomic write: committed at the end, rolled back on any exception or a crash."""

    def index_terms(self, conn: Any, passage_id: int, title: str, text: str) -> None:
        """Make a passage's words searchable (inside a write transaction)."""

    def forget_terms(self, conn: Any, passage_ids: Sequence[int]) -> None:
        """Drop removed passages' words (inside a write transaction)."""

    def search_terms(self, query: str, k: int) -> list[int]:
        """Passage ids matching a lexical query (`"a" OR "b"`, or AND), best first."""

    def articles_with_terms(self, query: str, limit: int) -> set[int]:
        """Ids of articles with a passage matching a lexical query."""

    def log_vector_changes(
        self, conn: Any, generation: int, removed: Sequence[int], added: Sequence[int], *, everything: bool = False
    ) -> None:
        """Record what a generation did to the vectors, for other processes to catch up from."""


class VectorGenerations(Protocol):
    """The keeper of a store's vector index: the FAISS index serving questions, at the store's
    latest committed generation. Each backend has one (`FileGenerations` for SQLite,
    `ReplicaGenerations` for PostgreSQL)."""

    @property
    def index_policy(self) -> IndexPolicy:
        """When an exact index gives way to an IVF one, and how the latter is searched."""

    def current(self) -> VectorIndex:
        """The index of the latest committed generation, loaded, caught up or rebuilt as needed."""

    def rebuild(self) -> VectorIndex:
        """A new index of every vector the store holds."""

    def install(self, index: VectorIndex, generation: int, *, save: bool) -> None:
        """Serve `index` as `generation`'s (inside the write that made it)."""

    def apply_changes(self, generation: int, removed: np.ndarray, added: np.ndarray, vectors: np.ndarray) -> None:
        """Move the served index to `generation` by one write's removed and added vectors."""


def storage_errors() -> tuple[type[Exception], ...]:
    """What the backends raise when their database is damaged, unreadable or fails mid-command
    (sqlite3's DatabaseError; psycopg's Error once psycopg is loaded), for an application to turn
    into a message instead of a traceback."""
    errors: list[type[Exception]] = [sqlite3.DatabaseError]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors.append(psycopg.Error)
    return tuple(errors)
