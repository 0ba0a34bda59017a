"""`.env.example` and the README's table of settings, written from the settings model (`Settings`: the
library's `LibraryConfig` and the application's own), so neither can say another default or meaning.

    python -m bot.settings_docs --env-example      # print .env.example
    python -m bot.settings_docs --defaults-table   # print the README's table
    python -m bot.settings_docs --write            # rewrite both in place
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.settings import _LIST_SETTINGS, Settings, env_name

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / ".env.example"
README = ROOT / "README.md"
TABLE_START = "<!-- the settings table: written by `python -m bot.settings_docs --write` -->"
TABLE_END = "<!-- end of the settings table -->"

# Each setting in the section it is shown in, in this order (a test checks every setting is here once).
SECTIONS: dict[str, tuple[str, ...]] = {
    "the news library": (
        "data_dir",
        "database_url",
        "embedding_model",
        "reader_model",
        "passage_words",
        "top_k",
        "reader_passages",
        "reader_bfloat16",
        "recency",
        "recency_days",
        "answer_threshold",
        "max_question_chars",
        "ingest_batch_articles",
        "embed_batch_size",
        "max_article_chars",
        "max_title_chars",
        "exact_search_below",
        "ivf_nprobe",
    ),
    "live sources (RSS/Atom feeds and article URLs; see `newsbot sources add`)": (
        "poll_sources",
        "poll_interval_minutes",
        "max_entries_per_poll",
        "poll_budget_seconds",
        "retention_days",
        "fetch_timeout_seconds",
        "fetch_total_seconds",
        "fetch_max_bytes",
        "fetch_allowed_hosts",
    ),
    "the Discord bot": (
        "discord_token",
        "test_guild_id",
        "admin_user_ids",
        "admin_role_ids",
        "shard_ids",
        "shard_count",
        "answer_dms",
        "question_cooldown_seconds",
        "follow_seconds",
        "follow_max_posts",
        "max_follows_per_guild",
    ),
    "logging": ("log_level",),
}

# What a default that depends on the machine is, in words.
SHOWN_DEFAULTS = {"data_dir": "per user: `~/.local/share/newsbot` on Linux"}

ENV_HEADER = """\
# newsbot settings, written by `python -m bot.settings_docs --write` from the settings model
# (bot/settings.py, index/config.py): edit those, not this file. Copy to `.env` (read from the
# working directory) or export as environment variables. Every setting is optional except the
# Discord token for `newsbot bot`; an empty one takes its default.
"""

FEEDS = """\
#
# Some well-known public feeds to start with (add them with `newsbot sources add URL`):
#   https://feeds.bbci.co.uk/news/world/rss.xml
#   https://www.theguardian.com/world/rss
#   https://rss.nytimes.com/services/xml/rss/nyt/World.xml
#   https://www.aljazeera.com/xml/rss/all.xml
#   https://feeds.npr.org/1001/rss.xml
"""


def _default(name: str, field: FieldInfo) -> object:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return None if field.default is PydanticUndefined else field.default


def _written(value: object) -> str:
    """A default as it is written in a `.env` file ("" for none)."""
    if value is None or value == () or value == []:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _bounds(field: FieldInfo) -> str:
    """The values a setting takes, as its model bounds them: " (1 to 50)", " (above 0, at most 120)"."""
    bound = {kind: getattr(rule, kind) for rule in field.metadata for kind in ("ge", "gt", "le") if hasattr(rule, kind)}
    bound = {kind: _written(value) for kind, value in bound.items() if value is not None}
    low = bound.get("ge") or (f"above {bound['gt']}" if "gt" in bound else "")
    if "le" in bound:
        return f" ({low} to {bound['le']})" if "ge" in bound else f" ({low}, at most {bound['le']})"
    if low:
        return f" ({low})" if "gt" in bound else f" (at least {low})"
    return ""


def _said(name: str, field: FieldInfo) -> str:
    """What a setting does, its bounds, and how a list is typed."""
    listed = f" A list: {_LIST_SETTINGS[name]}, or a JSON list." if name in _LIST_SETTINGS else ""
    return f"{field.description}{_bounds(field)}{listed}"


def env_example() -> str:
    fields = Settings.model_fields
    parts = [ENV_HEADER]
    for section, names in SECTIONS.items():
        parts.append(f"\n# --- {section} ---\n")
        for name in names:
            field = fields[name]
            said = _said(name, field) + (f" Empty: {SHOWN_DEFAULTS[name]}." if name in SHOWN_DEFAULTS else "")
            parts.extend(f"# {line}\n" for line in textwrap.wrap(said.replace("`", ""), 98, break_on_hyphens=False))
            shown = "" if name in SHOWN_DEFAULTS else _written(_default(name, field))
            parts.append(f"{env_name(name)}={shown}\n")
        if section.startswith("live sources"):
            parts.append(FEEDS)
    return "".join(parts)


def defaults_table() -> str:
    fields = Settings.model_fields
    rows = ["| setting | default | meaning |", "| --- | --- | --- |"]
    for names in SECTIONS.values():
        for name in names:
            field = fields[name]
            default = SHOWN_DEFAULTS.get(name) or _written(_default(name, field)) or "empty"
            rows.append(f"| `{env_name(name)}` | {default} | {_said(name, field).replace('|', '/')} |")
    return "\n".join(rows) + "\n"


def readme_with_table(readme: str) -> str:
    """The README with the table between its markers written anew."""
    start = readme.index(TABLE_START) + len(TABLE_START)
    end = readme.index(TABLE_END)
    return f"{readme[:start]}\n{defaults_table()}{readme[end:]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--env-example", action="store_true", help="print .env.example")
    which.add_argument("--defaults-table", action="store_true", help="print the README's table of settings")
    which.add_argument("--write", action="store_true", help="rewrite .env.example and the README's table")
    args = parser.parse_args()
    if args.env_example:
        sys.stdout.write(env_example())
    elif args.defaults_table:
        sys.stdout.write(defaults_table())
    else:
        ENV_EXAMPLE.write_text(env_example(), encoding="utf-8")
        README.write_text(readme_with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
