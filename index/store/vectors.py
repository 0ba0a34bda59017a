"""The FAISS side of the store: passage vectors keyed by passage id, saved atomically per generation.

The SQLite store is the source of truth (it keeps every vector too); the FAISS file is a fast,
derived copy named after the store generation it reflects, so a crash between the two writes is
detected on open and repaired by rebuilding from SQLite.

Which FAISS index holds the vectors depends on how many there are (`IndexPolicy`): below
`exact_below` an exact inner-product scan (every answer is the true nearest neighbour); from there
on an inverted-file index with 8-bit scalar-quantised vectors (IVF-SQ8), a quarter of the memory
and a search that reads only the `nprobe` nearest lists. Both keep passage ids and support removal,
which updates and retention need. The store asks the policy after every write and rebuilds the
index from SQLite when the answer changes, in a new generation, so the switch is as atomic as any
other write.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import faiss
import numpy as np

from index.config import EXACT, IVF, IndexPolicy

log = logging.getLogger(__name__)

_FILE = re.compile(r"^vectors-(\d+)\.faiss$")


def vector_file(data_dir: Path, generation: int) -> Path:
    return data_dir / f"vectors-{generation}.faiss"


class VectorIndex:
    """An immutable-by-convention FAISS index: writers build a modified copy and swap it in, so a
    search running in another thread never sees a half-applied change."""

    def __init__(self, index: faiss.Index, policy: IndexPolicy | None = None) -> None:
        self._index = index
        self.policy = policy or IndexPolicy()
        ivf = self._ivf()
        if ivf is not None:
            ivf.nprobe = min(self.policy.nprobe, ivf.nlist)

    def _ivf(self) -> faiss.IndexIVF | None:
        index = faiss.downcast_index(self._index)
        return index if isinstance(index, faiss.IndexIVF) else None

    @classmethod
    def empty(cls, dimension: int, policy: IndexPolicy | None = None) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), policy)

    @classmethod
    def build(
        cls, dimension: int, ids: np.ndarray, vectors: np.ndarray, policy: IndexPolicy | None = None
    ) -> VectorIndex:
        """The index the policy wants for this many vectors, holding all of them."""
        policy = policy or IndexPolicy()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if policy.kind_for(len(ids)) == EXACT:
            index = cls.empty(dimension, policy)
        else:
            index = cls(_trained_ivf(vectors, policy), policy)
        if len(ids):
            index._index.add_with_ids(vectors, ids)
        return index

    @classmethod
    def load(cls, path: Path, policy: IndexPolicy | None = None) -> VectorIndex:
        return cls(faiss.read_index(str(path)), policy)

    @property
    def dimension(self) -> int:
        return self._index.d

    @property
    def kind(self) -> str:
        return IVF if self._ivf() is not None else EXACT

    @property
    def lists(self) -> int:
        """Inverted lists of an IVF index (0 for exact search)."""
        ivf = self._ivf()
        return ivf.nlist if ivf is not None else 0

    def __len__(self) -> int:
        return self._index.ntotal

    def needs_rebuild(self, count: int) -> bool:
        """True when `count` vectors call for another index kind, or when an IVF index has grown
        so far past the size it was trained for that its lists are too long to search quickly."""
        wanted = self.policy.kind_for(count, self.kind)
        if wanted != self.kind:
            return True
        return self.kind == IVF and self.policy.lists_for(count) >= 2 * self.lists

    def with_changes(self, remove_ids: np.ndarray, add_ids: np.ndarray, add_vectors: np.ndarray) -> VectorIndex:
        """A new index equal to this one less `remove_ids`, plus the given vectors."""
        copy = faiss.clone_index(self._index)
        if len(remove_ids):
            copy.remove_ids(np.ascontiguousarray(remove_ids, dtype=np.int64))  # type: ignore[arg-type]
        if len(add_ids):
            copy.add_with_ids(
                np.ascontiguousarray(add_vectors, dtype=np.float32),
                np.ascontiguousarray(add_ids, dtype=np.int64),
            )
        return VectorIndex(copy, self.policy)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self._index.ntotal == 0 or k <= 0:
            return []
        scores, ids = self._index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def save(self, data_dir: Path, generation: int) -> Path:
        """Write to a temporary file, fsync, rename into place, then drop older generations."""
        final = vector_file(data_dir, generation)
        partial = final.with_name(final.name + f".{os.getpid()}.partial")
        try:
            faiss.write_index(self._index, str(partial))
        except RuntimeError as exc:  # FAISS reports a full disk or a failed write this way
            partial.unlink(missing_ok=True)
            raise OSError(f"cannot write {partial.name}: {exc}".splitlines()[0]) from exc
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, final)
        _fsync_dir(data_dir)
        for old in data_dir.iterdir():
            match = _FILE.match(old.name)
            if match and int(match.group(1)) < generation:
                old.unlink(missing_ok=True)
        remove_stale_partials(data_dir)
        return final


def remove_stale_partials(data_dir: Path) -> None:
    """Delete half-written index files whose writing process is gone (a crash mid-save)."""
    for leftover in data_dir.glob("vectors-*.faiss.*.partial"):
        pid = leftover.name.rsplit(".", 2)[-2]
        if not pid.isdigit() or not _alive(int(pid)):
            leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _trained_ivf(vectors: np.ndarray, policy: IndexPolicy) -> faiss.Index:
    """An empty IVF-SQ8 index (inner product) whose lists and quantiser are learned from a sample."""
    count, dimension = vectors.shape
    lists = min(policy.lists_for(count), count)
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.own_fields = True
    quantizer.this.disown()  # type: ignore[attr-defined]  # the SWIG proxy's own handle
    sample_size = min(count, policy.train_per_list * lists)
    rng = np.random.default_rng(0)  # same data, same index
    sample = vectors[np.sort(rng.choice(count, sample_size, replace=False))] if sample_size < count else vectors
    log.info("training an IVF index: %d lists from %d of %d vectors", lists, sample_size, count)
    index.train(np.ascontiguousarray(sample))
    return index


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
