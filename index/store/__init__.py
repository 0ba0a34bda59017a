"""The store wing: the articles, passages, vectors, sources, poll state, follows and posts of a
library, kept in SQLite and FAISS files or in PostgreSQL. All the SQL of the library lives here;
`open_store` chooses the backend and gives the library its `Storage`. The names below load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index import lazy_names

_HOMES = {
    "ArticleStore": "index.store.articles",
    "FollowBook": "index.store.follows",
    "PreparedArticle": "index.store.articles",
    "SourceRegistry": "index.store.registry",
    "Store": "index.store.contract",
    "VectorGenerations": "index.store.contract",
    "content_hash": "index.store.articles",
    "open_store": "index.store.storage",
    "storage_errors": "index.store.contract",
}

__all__ = [
    "ArticleStore",
    "FollowBook",
    "PreparedArticle",
    "SourceRegistry",
    "Store",
    "VectorGenerations",
    "content_hash",
    "open_store",
    "storage_errors",
]

if TYPE_CHECKING:
    from index.store.articles import ArticleStore, PreparedArticle, content_hash
    from index.store.contract import Store, VectorGenerations, storage_errors
    from index.store.follows import FollowBook
    from index.store.registry import SourceRegistry
    from index.store.storage import open_store


__getattr__ = lazy_names(__name__, _HOMES)
