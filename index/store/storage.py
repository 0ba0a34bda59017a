"""The one place a backend is chosen and a library's storage put together: what the rest of the
library holds is a `Storage`, the store by what it keeps (articles and passages, the vector index,
sources and poll state, follows and posts, the inventory of it all), never a bare connection."""

from __future__ import annotations

from typing import NamedTuple

from index.config import LibraryConfig
from index.store.articles import ArticleStore
from index.store.contract import Store, VectorGenerations
from index.store.follows import FollowBook
from index.store.inventory import Inventory
from index.store.registry import SourceRegistry


class Storage(NamedTuple):
    """A library's storage. `backend` is the database itself (its write right, generation and
    location); the domain parts hold every query the library makes."""

    backend: Store
    vectors: VectorGenerations
    articles: ArticleStore
    sources: SourceRegistry
    follows: FollowBook
    inventory: Inventory  # everything held, read out whole (copies, measurements)


def open_store(config: LibraryConfig) -> Storage:
    """The configured backend with its parts: PostgreSQL with an in-memory FAISS replica when
    `database_url` is set, else SQLite and FAISS files in `data_dir`."""
    backend: Store
    vectors: VectorGenerations
    if config.database_url:
        from index.store.postgres import PostgresDatabase
        from index.store.replica import ReplicaGenerations

        shared = PostgresDatabase(config.database_url.get_secret_value())
        backend, vectors = shared, ReplicaGenerations(shared, config.index_policy)
    else:
        from index.store.generations import FileGenerations
        from index.store.sqlite import Database

        local = Database(config.data_dir)
        backend, vectors = local, FileGenerations(local, config.index_policy)
    articles = ArticleStore(backend, vectors)
    return Storage(backend, vectors, articles, SourceRegistry(backend), FollowBook(backend), Inventory(backend))
