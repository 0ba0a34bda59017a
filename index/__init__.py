"""newsbot's news library: ingest articles, search their passages, answer with a quote.

No Discord in here; `bot/` is the application over it. The names below load on first use, so a
module of the library (the reader's network, say) imports without the whole library behind it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

_HOMES = {
    "MAX_OPML_BYTES": "index.intake",
    "Answer": "index.models",
    "Article": "index.models",
    "Hit": "index.models",
    "Library": "index.library",
    "LibraryConfig": "index.config",
    "NewsbotError": "index.errors",
    "NothingIndexedError": "index.errors",
    "Passage": "index.models",
    "Story": "index.models",
    "as_of_moment": "index.dates",
    "hide_credentials": "index.text",
    "import_opml": "index.intake",
    "published_moment": "index.dates",
    "refuse_oversized": "index.intake",
    "storage_errors": "index.store",
    "write_opml": "index.intake",
}

__all__ = [
    "MAX_OPML_BYTES",
    "Answer",
    "Article",
    "Hit",
    "Library",
    "LibraryConfig",
    "NewsbotError",
    "NothingIndexedError",
    "Passage",
    "Story",
    "as_of_moment",
    "hide_credentials",
    "import_opml",
    "published_moment",
    "refuse_oversized",
    "storage_errors",
    "write_opml",
]

if TYPE_CHECKING:
    from index.config import LibraryConfig
    from index.dates import as_of_moment, published_moment
    from index.errors import NewsbotError, NothingIndexedError
    from index.intake import MAX_OPML_BYTES, import_opml, refuse_oversized, write_opml
    from index.library import Library
    from index.models import Answer, Article, Hit, Passage, Story
    from index.store import storage_errors
    from index.text import hide_credentials


def lazy_names(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """A package's `__getattr__` that imports each of its public names from its home module on first
    use and keeps it: the package (the library, or one of its wings) imports nothing until asked."""

    def load(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(homes[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    return load


__getattr__ = lazy_names(__name__, _HOMES)
