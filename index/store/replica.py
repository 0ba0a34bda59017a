"""Each process's in-memory FAISS copy of the vectors PostgreSQL holds (the PostgreSQL backend's
counterpart of the FAISS files SQLite keeps beside it).

Every question reads the library's generation (one indexed row); when another process has
written, the replica applies that generation's logged changes (`vector_log`: the passage ids
removed and added) instead of reloading everything, so a story one process ingests is answerable
from every other on its next question.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from index.config import IndexPolicy
from index.store.generations import KeptGenerations
from index.store.postgres import PgConnection, PostgresDatabase
from index.store.vectors import VectorIndex


class ReplicaGenerations(KeptGenerations):
    """A process's in-memory FAISS copy of the vectors PostgreSQL holds, kept at the library's
    generation: one cheap read per question, and a catch-up from `vector_log` when it moved."""

    def __init__(self, db: PostgresDatabase, index_policy: IndexPolicy | None = None) -> None:
        super().__init__(index_policy)
        self.db = db

    def current(self) -> VectorIndex:
        generation = self.db.generation
        with self._vectors_lock:
            base, at = self._vectors, self._vectors_generation
        if base is not None and at == generation:
            return base
        index, reached = (None, None) if base is None else self._catch_up(base, at)
        if index is None:
            index, reached = self._snapshot()
        self.install(index, cast(int, reached), save=False)
        return index

    def rebuild(self) -> VectorIndex:
        return self._snapshot()[0]

    def _snapshot(self) -> tuple[VectorIndex, int]:
        """Every vector and the generation they belong to, read in one consistent snapshot."""
        with self.db.snapshot() as conn:
            generation = _generation(conn)
            dimension = int((conn.execute("SELECT value FROM meta WHERE key = 'dimension'").fetchone() or [1])[0])
            ids, vectors = _read_vectors(conn, "SELECT id, vector FROM passages ORDER BY id", ())
        if not len(ids):
            return VectorIndex.empty(dimension, self.index_policy), generation
        return VectorIndex.build(vectors.shape[1], ids, vectors, self.index_policy), generation

    def _catch_up(self, base: VectorIndex, since: int) -> tuple[VectorIndex | None, int | None]:
        """The base moved forward by the logged changes after `since`; None when the log has a gap,
        a generation replaced everything, or the corpus outgrew the base's kind of index."""
        with self.db.snapshot() as conn:
            generation = _generation(conn)
            rows = conn.execute(
                "SELECT generation, removed, added, everything FROM vector_log WHERE generation > ?"
                " ORDER BY generation",
                (since,),
            ).fetchall()
            if [r[0] for r in rows] != list(range(since + 1, generation + 1)) or any(r[3] for r in rows):
                return None, None
            removed: set[int] = set()
            added: set[int] = set()
            for _, gone, new, _ in rows:
                for passage in np.frombuffer(gone, np.int64).tolist():
                    if passage in added:
                        added.discard(passage)
                    else:
                        removed.add(passage)
                added.update(np.frombuffer(new, np.int64).tolist())
            ids, vectors = _read_vectors(
                conn, "SELECT id, vector FROM passages WHERE id = ANY(?) ORDER BY id", (sorted(added),)
            )
        if base.needs_rebuild(len(base) - len(removed) + len(ids)):
            return None, None
        if not len(ids):
            vectors = np.zeros((0, base.dimension), np.float32)
        return base.with_changes(np.array(sorted(removed), dtype=np.int64), ids, vectors), generation


def _generation(conn: PgConnection) -> int:
    return int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])


def _read_vectors(conn: PgConnection, sql: str, params: tuple) -> tuple[np.ndarray, np.ndarray]:
    rows = conn.execute(sql, params).fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    if not rows:
        return ids, np.zeros((0, 0), dtype=np.float32)
    vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    return ids, vectors
