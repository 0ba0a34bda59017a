"""The FAISS side of the store: passage vectors keyed by passage id, saved atomically per generation.

The SQLite store is the source of truth (it keeps every vector too); the FAISS file is a fast,
derived copy named after the store generation it reflects, so a crash between the two writes is
detected on open and repaired by rebuilding from SQLite.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

_FILE = re.compile(r"^vectors-(\d+)\.faiss$")


def vector_file(data_dir: Path, generation: int) -> Path:
    return data_dir / f"vectors-{generation}.faiss"


class VectorIndex:
    """An immutable-by-convention FAISS index: writers build a modified copy and swap it in, so a
    search running in another thread never sees a half-applied change."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def empty(cls, dimension: int) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def build(cls, dimension: int, ids: np.ndarray, vectors: np.ndarray) -> VectorIndex:
        index = cls.empty(dimension)
        if len(ids):
            index._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
        return index

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        return cls(faiss.read_index(str(path)))

    @property
    def dimension(self) -> int:
        return self._index.d

    def __len__(self) -> int:
        return self._index.ntotal

    def with_changes(self, remove_ids: np.ndarray, add_ids: np.ndarray, add_vectors: np.ndarray) -> VectorIndex:
        """A new index equal to this one less `remove_ids`, plus the given vectors."""
        copy = faiss.clone_index(self._index)
        if len(remove_ids):
            copy.remove_ids(np.ascontiguousarray(remove_ids, dtype=np.int64))
        if len(add_ids):
            copy.add_with_ids(
                np.ascontiguousarray(add_vectors, dtype=np.float32),
                np.ascontiguousarray(add_ids, dtype=np.int64),
            )
        return VectorIndex(copy)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self._index.ntotal == 0 or k <= 0:
            return []
        scores, ids = self._index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def save(self, data_dir: Path, generation: int) -> Path:
        """Write to a temporary file, fsync, rename into place, then drop older generations."""
        final = vector_file(data_dir, generation)
        partial = final.with_name(final.name + f".{os.getpid()}.partial")
        faiss.write_index(self._index, str(partial))
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, final)
        _fsync_dir(data_dir)
        for old in data_dir.iterdir():
            match = _FILE.match(old.name)
            if match and int(match.group(1)) < generation:
                old.unlink(missing_ok=True)
        return final


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
