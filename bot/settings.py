"""All configuration, read once from the environment (prefix NEWSBOT_) and a `.env` file: the library's
parameters (`LibraryConfig`, extended here) and the application's own."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index import LibraryConfig
from index.errors import NewsbotError, Notice

# One library per user wherever the command runs from (~/.local/share/newsbot on Linux).
DEFAULT_DATA_DIR = platformdirs.user_data_path("newsbot")

# Every setting is read from the variable of its name with this prefix (NEWSBOT_TOP_K: top_k).
ENV_PREFIX = "NEWSBOT_"


class Settings(BaseSettings, LibraryConfig):
    """The library's parameters (`index.config.LibraryConfig`, inherited as they are: each read from
    the ENV_PREFIX variable of its name) and the application's own, below. `library_config()` gives
    the library its part."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
        enable_decoding=False,  # lists are read as people type them (`_list_as_typed`)
        frozen=False,
    )

    # -- the application's own --
    poll_sources: bool = Field(True, description="Let the bot poll its sources in the background.")

    # -- the Discord bot --
    discord_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(f"{ENV_PREFIX}DISCORD_TOKEN", "DISCORD_TOKEN", "discord_token"),
        description="Bot token from the Discord developer portal (DISCORD_TOKEN is accepted too); never commit it.",
    )
    test_guild_id: int | None = Field(None, description="Sync slash commands to this guild only (instant).")
    admin_user_ids: list[int] = Field(
        default_factory=list, description="Users who operate the bot (besides the application's owner and team)."
    )
    admin_role_ids: list[int] = Field(default_factory=list, description="Roles whose members operate the bot.")
    shard_ids: list[int] | None = Field(
        None, description="Shards this process runs (with shard_count); empty = all of them."
    )
    shard_count: int | None = Field(None, ge=1, le=10_000, description="Shards all bot processes run together.")
    answer_dms: bool = Field(True, description="Answer questions sent in direct messages.")
    follow_seconds: float = Field(60.0, ge=5, le=86400, description="Seconds between passes delivering follows.")
    follow_max_posts: int = Field(
        5, ge=1, le=50, description="Most stories one follow posts in a pass; the rest as one line."
    )
    question_cooldown_seconds: float = Field(5.0, ge=0, le=3600, description="Per-user pause between questions.")

    log_level: str = Field("INFO", description="Logging level: DEBUG, INFO, WARNING or ERROR.")

    @model_validator(mode="before")
    @classmethod
    def _a_library_per_user(cls, values):
        """The library's data_dir has no default; the application's is one folder per user."""
        if isinstance(values, dict) and values.get("data_dir") in (None, ""):
            values = {**values, "data_dir": DEFAULT_DATA_DIR}
        return values

    @model_validator(mode="after")
    def _shards_fit(self):
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError(
                    f"{env_name('shard_ids')} (--shard-ids) needs {env_name('shard_count')} (--shard-count) too"
                )
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
        """The library's part of these settings, as the library's own configuration."""
        return LibraryConfig(**{name: getattr(self, name) for name in LibraryConfig.model_fields})


def env_name(setting: str) -> str:
    """The variable a setting is read from."""
    return f"{ENV_PREFIX}{setting.upper()}"


def setting_of(parameter: str) -> str:
    """The variable that sets one of the library's parameters (each is read from its own name)."""
    if parameter not in LibraryConfig.model_fields:
        raise ValueError(f"{parameter!r} is no parameter of the library")
    return env_name(parameter)


def in_setting_terms(said: Exception | Notice | str) -> str:
    """A library error or notice as text, the parameters it names (its `parameters`) given as the
    settings that fill them."""
    text = str(said)
    for parameter in getattr(said, "parameters", ()):
        text = text.replace(parameter, setting_of(parameter))
    return text


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
        problems: dict[str, str] = {}  # setting -> what is wrong with it, once however many items are
        bad_items: dict[str, list[str]] = {}
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if not error["loc"]:  # a rule across settings: its message names them
                problems.setdefault(message, message)
                continue
            name = str(error["loc"][0])
            env = name if name.isupper() else env_name(name)
            if len(error["loc"]) > 1 and isinstance(error["loc"][1], int):  # items of a list, said together
                bad_items.setdefault(env, []).append(repr(error["input"]))
                items = bad_items[env]
                listed = ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else items[0]
                number = "whole number" if error["type"] == "int_parsing" else "valid item"
                message = f"{listed} {'is not a' if len(items) == 1 else 'are not'} {number}{'s' * (len(items) > 1)}"
            if name in _LIST_SETTINGS:
                message += f" (expected {_LIST_SETTINGS[name]})"
            problems[env] = f"{env}: {message}"
        raise NewsbotError("invalid setting: " + "; ".join(problems.values())) from None


# Read by the test suite's PostgreSQL harness (tests/postgres_server.py), not by newsbot.
_NOT_SETTINGS = frozenset({env_name("test_pg_bin")})


def unknown_settings(environ: dict[str, str] | None = None, env_file: Path | None = None) -> list[str]:
    """A warning for each `NEWSBOT_` variable of the environment or the `.env` file that is no setting
    (a misspelling such as NEWSBOT_TOPK would otherwise be ignored without a word), naming the closest."""
    from dotenv import dotenv_values

    prefix = ENV_PREFIX
    known = {env_name(name) for name in Settings.model_fields} | _NOT_SETTINGS
    env_file = env_file or Path(str(Settings.model_config["env_file"]))
    found = {name: "the environment" for name in (os.environ if environ is None else environ)}
    if env_file.is_file():
        found.update({name: str(env_file.resolve()) for name in dotenv_values(env_file) if name not in found})
    warnings = []
    for name, where in sorted(found.items()):
        if name.upper().startswith(prefix) and name.upper() not in known:
            close = difflib.get_close_matches(name.upper(), sorted(known - _NOT_SETTINGS), n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]}?)" if close else ""
            warnings.append(f"{name} in {where} is no newsbot setting and is ignored{hint}")
    return warnings
