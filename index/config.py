"""The library's configuration and every default it has: the application fills `LibraryConfig` from
its own settings and takes its defaults from here (`bot/settings.py`), so each is written once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from index.embed import DEFAULT_MODEL
from index.fetch import FetchLimits
from index.reader import READ_PASSAGES
from index.search import SearchWeights
from index.vectors import IndexPolicy


@dataclass(frozen=True)
class LibraryConfig:
    """Plain configuration for the library; the application fills it from its settings."""

    data_dir: Path
    database_url: str | None = None  # postgresql://...: the shared PostgreSQL backend instead of files in data_dir
    embedding_model: str = DEFAULT_MODEL
    reader_model: str | None = None  # a Hugging Face extractive-QA model; None = the bundled reader
    passage_words: int = 80
    top_k: int = 20
    recency: float = SearchWeights.recency  # how strongly newer stories rank first among close matches; 0 = off
    recency_days: float = SearchWeights.recency_days  # the gain fades by a factor e over this many days
    reader_passages: int = READ_PASSAGES
    # The reader's feed-forward layers in bfloat16 where the CPU has bfloat16 instructions: 0.7 of
    # the reading time on a 2-core AVX-512 BF16 machine; False reads them in float32 (README, speed).
    reader_bfloat16: bool = True
    answer_threshold: float | None = None  # None = the threshold calibrated with the reader
    max_question_chars: int = 1000
    max_article_chars: int = 200_000  # longer texts are cut here (real news is a few thousand characters)
    # Longer headlines are cut at a word: the reader reads the headline before every passage, and
    # the full-text index stores it once a passage, so a megabyte title made every question crawl.
    max_title_chars: int = 300
    batch_articles: int = 64
    embed_batch_size: int = 64
    # live sources
    poll_interval_minutes: float = 30.0
    max_entries_per_poll: int = 50
    poll_budget_seconds: float = 600.0  # one pass stops reading here; the rest waits for the next
    retention_days: float | None = None  # None keeps everything
    max_follows_per_guild: int = 25
    fetch_limits: FetchLimits = field(default_factory=FetchLimits)
    index_policy: IndexPolicy = field(default_factory=IndexPolicy)  # exact vs IVF search by corpus size
