"""What a benchmark reads or fills in a library directly, opened through the wings' public faces
(a `Library` keeps its parts private): its store, written in bulk with vectors made beforehand."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from index import Article, LibraryConfig
from index.config import DEFAULT_MODEL
from index.intake.dedup import fingerprint
from index.models import Passage
from index.store import PreparedArticle, content_hash, open_store


class StoreParts:
    """A second handle on a library's store, as another process would hold it."""

    def __init__(self, config: LibraryConfig) -> None:
        storage = open_store(config)
        self.db, self.vectors, self.articles = storage.backend, storage.vectors, storage.articles
        self.inventory = storage.inventory  # everything held, read out whole

    def write(self, stories: Iterable[tuple[Article, list[Passage], np.ndarray]], model: str = DEFAULT_MODEL) -> int:
        """Store articles with their passages and vectors as given (no embedding); passages written."""
        batch = [PreparedArticle(a, p, v, content_hash(a), fingerprint(a.text)) for a, p, v in stories]
        with self.db.writing():
            return self.articles.write(batch, model).passages
