"""newsbot's news library: ingest articles, search their passages, answer with a quote.

No Discord in here; `bot/` is the application over it. The names below load on first use, so a
module of the library (the reader's network, say) imports without the whole library behind it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_HOMES = {
    "Answer": "index.models",
    "Article": "index.models",
    "Hit": "index.models",
    "Library": "index.library",
    "LibraryConfig": "index.config",
    "NewsbotError": "index.errors",
    "NothingIndexedError": "index.errors",
    "Passage": "index.models",
    "Story": "index.models",
}

__all__ = [
    "Answer",
    "Article",
    "Hit",
    "Library",
    "LibraryConfig",
    "NewsbotError",
    "NothingIndexedError",
    "Passage",
    "Story",
]

if TYPE_CHECKING:
    from index.config import LibraryConfig
    from index.errors import NewsbotError, NothingIndexedError
    from index.library import Library
    from index.models import Answer, Article, Hit, Passage, Story


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'index' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
