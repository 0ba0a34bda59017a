"""The FAISS copy of the vectors, one file per committed generation.

Every write bumps the database's generation in the same SQLite transaction; the FAISS copy for that
generation is written afterwards under a temporary name and renamed into place. A crash at any
moment leaves either the old generation or the new one, never a mixture: a FAISS file that lags
behind SQLite is rebuilt from the vectors SQLite keeps.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

import numpy as np

from index.config import IndexPolicy
from index.store.vectors import VectorIndex, vector_file

if TYPE_CHECKING:
    from index.store.sqlite import Database

log = logging.getLogger(__name__)


class KeptGenerations:
    """What both backends' keepers share: the index serving questions and the generation it is of,
    moved forward by a write's changes (or rebuilt when the corpus crossed the policy's size line).
    A backend's keeper says how an index is rebuilt, installed and found for the latest generation
    (`index.store.contract.VectorGenerations`)."""

    def __init__(self, index_policy: IndexPolicy | None = None) -> None:
        self.index_policy = index_policy or IndexPolicy()
        self._vectors: VectorIndex | None = None
        self._vectors_generation = -1
        self._vectors_lock = threading.Lock()

    def rebuild(self) -> VectorIndex:
        raise NotImplementedError

    def install(self, index: VectorIndex, generation: int, *, save: bool) -> None:
        """Serve `index` as `generation`'s (a backend that keeps files saves it when `save`)."""
        with self._vectors_lock:
            self._vectors = index
            self._vectors_generation = generation

    def apply_changes(self, generation: int, removed: np.ndarray, added: np.ndarray, vectors: np.ndarray) -> None:
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
        index = self.rebuild() if base is None else base.with_changes(removed, added, vectors)
        self.install(index, generation, save=True)


class FileGenerations(KeptGenerations):
    """The SQLite backend's keeper: one FAISS file per committed generation beside the database."""

    def __init__(self, db: Database, index_policy: IndexPolicy | None = None) -> None:
        super().__init__(index_policy)
        self.db = db

    def install(self, index: VectorIndex, generation: int, *, save: bool) -> None:
        if save:
            try:
                index.save(self.db.data_dir, generation)
            except OSError as exc:
                # SQLite has committed; the next open rebuilds the FAISS copy from it.
                log.warning("could not save vector index for generation %d: %s", generation, exc)
        super().install(index, generation, save=False)

    def rebuild(self) -> VectorIndex:
        """Every vector SQLite holds, read in slices into one array (no per-row Python copies)."""
        conn = self.db.connect()
        own_snapshot = not conn.in_transaction
        if own_snapshot:
            conn.execute("BEGIN")  # one snapshot for the count and the rows
        try:
            count = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
            dimension = int(self.db.meta("dimension") or 0)
            if not count:
                return VectorIndex.empty(dimension or 1, self.index_policy)
            ids = np.empty(count, dtype=np.int64)
            vectors: np.ndarray | None = None
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
        if vectors is None:  # the rows went between the count and the read
            return VectorIndex.empty(dimension or 1, self.index_policy)
        return VectorIndex.build(vectors.shape[1], ids[:at], vectors[:at], self.index_policy)

    def _checked(self, index: VectorIndex, generation: int, name: str) -> VectorIndex | None:
        """The loaded index, or None when it cannot be this generation's: another dimension than
        the store's vectors, or another number of vectors than the store's passages (unless a
        writer moved the generation on meanwhile: then the count is of a later one)."""
        dimension = int(self.db.meta("dimension") or 0)
        count = self.db.connect().execute("SELECT count(*) FROM passages").fetchone()[0]
        wrong_shape = dimension and index.dimension != dimension
        if wrong_shape or (len(index) != count and self.db.generation == generation):
            log.warning(
                "vector index %s holds %d vectors of dimension %d, the store %d of dimension %d; rebuilding it",
                name,
                len(index),
                index.dimension,
                count,
                dimension,
            )
            return None
        return index

    def current(self) -> VectorIndex:
        """The FAISS index for the latest committed generation, loaded or repaired as needed."""
        generation = self.db.generation
        with self._vectors_lock:
            if self._vectors is not None and self._vectors_generation == generation:
                return self._vectors
        path = vector_file(self.db.data_dir, generation)
        index = None
        if path.exists():
            try:
                index = VectorIndex.load(path, self.index_policy)
            except RuntimeError as exc:
                log.warning("vector index %s is unreadable (%s); rebuilding it", path.name, exc)
            else:
                index = self._checked(index, generation, path.name)
        if index is None:
            if self._vectors is not None and self.db.writer_active():
                # Another process committed and is still saving its FAISS copy: keep serving the
                # previous one (lexical search already sees the new passages) and look again later.
                return self._vectors
            log.info("vector index for generation %d is missing; rebuilding it from the store", generation)
            index = self.rebuild()
            self.install(index, generation, save=os.access(self.db.data_dir, os.W_OK))
            return index
        self.install(index, generation, save=False)
        return index
