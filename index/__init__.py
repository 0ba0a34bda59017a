"""newsbot's news library: ingest articles, search their passages, answer with a quote.

No Discord in here; `bot/` is the application over it.
"""

from index.config import LibraryConfig
from index.errors import NewsbotError, NothingIndexedError
from index.library import Library
from index.models import Answer, Article, Hit, Passage, Story

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
