"""The store wing: the articles, passages, vectors, sources, poll state, follows and posts of a
library, kept in SQLite and FAISS files or in PostgreSQL. All the SQL of the library lives here;
`open_store` chooses the backend and gives the library its `Storage`. The names below load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index import lazy_names

_HOMES = {
    "ArticleStore": "index.store.articles",
    "Database": "index.store.sqlite",
    "FollowBook": "index.store.follows",
    "POSTGRES_SCHEMA": "index.store.schema",
    "PostgresDatabase": "index.store.postgres",
    "PreparedArticle": "index.store.articles",
    "SQLITE_ADDED_COLUMNS": "index.store.schema",
    "SQLITE_SCHEMA": "index.store.schema",
    "SQLITE_VERSION": "index.store.schema",
    "SourceRegistry": "index.store.registry",
    "Store": "index.store.contract",
    "FileGenerations": "index.store.generations",
    "ReplicaGenerations": "index.store.replica",
    "VectorGenerations": "index.store.contract",
    "VectorIndex": "index.store.vectors",
    "content_hash": "index.store.articles",
    "open_store": "index.store.storage",
    "Storage": "index.store.storage",
    "storage_errors": "index.store.contract",
    "redacted": "index.store.postgres",
    "vector_file": "index.store.vectors",
}

__all__ = [
    "ArticleStore",
    "Database",
    "FileGenerations",
    "FollowBook",
    "POSTGRES_SCHEMA",
    "PostgresDatabase",
    "PreparedArticle",
    "ReplicaGenerations",
    "SQLITE_ADDED_COLUMNS",
    "SQLITE_SCHEMA",
    "SQLITE_VERSION",
    "SourceRegistry",
    "Storage",
    "Store",
    "VectorGenerations",
    "VectorIndex",
    "content_hash",
    "open_store",
    "redacted",
    "storage_errors",
    "vector_file",
]

if TYPE_CHECKING:
    from index.store.articles import ArticleStore, PreparedArticle, content_hash
    from index.store.contract import Store, VectorGenerations, storage_errors
    from index.store.follows import FollowBook
    from index.store.generations import FileGenerations
    from index.store.postgres import PostgresDatabase, redacted
    from index.store.registry import SourceRegistry
    from index.store.replica import ReplicaGenerations
    from index.store.schema import POSTGRES_SCHEMA, SQLITE_ADDED_COLUMNS, SQLITE_SCHEMA, SQLITE_VERSION
    from index.store.sqlite import Database
    from index.store.storage import Storage, open_store
    from index.store.vectors import VectorIndex, vector_file


__getattr__ = lazy_names(__name__, _HOMES)
