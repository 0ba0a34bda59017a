"""The library's schema in both dialects, side by side: SQLite (`index/store/sqlite.py`) and PostgreSQL
(`index/store/postgres.py`). They declare the same tables and columns, but for the words of passages (an
FTS5 table; a tsvector table) and PostgreSQL's vector log; `tests/test_layers.py` proves it.

A new table goes into both texts (`CREATE ... IF NOT EXISTS`, so opening an older library adds it)
with each dialect's version raised; a new column of an existing table into `SQLITE_ADDED_COLUMNS`
and a PostgreSQL migration. A change of the rows themselves is a function both backends' migrations
call (it must be safe to run again), with both versions raised.
"""

from __future__ import annotations

# 4: follows and the stories posted to channels. 5: a follow's topic vector kept with it. 6: no source
# named by its URL's credentials (`registry.name_sources_without_credentials`, run on every migration).
# 7: a story's image and source id (`registry.link_articles_to_sources`), a follow of a source, a post
# in flight (`channel_posts.sending_after`).
SQLITE_VERSION = 7

# Columns added after the first release; created on open where an older store lacks them.
SQLITE_ADDED_COLUMNS = {
    "articles": [
        ("author", "TEXT NOT NULL DEFAULT ''"),
        ("summary_only", "INTEGER NOT NULL DEFAULT 0"),
        ("fingerprint", "BLOB"),
        ("published_utc", "TEXT"),  # version 3: `published` keeps its own offset; this sorts
        ("image", "TEXT"),  # version 7: an https image URL the feed or page named
        ("source_id", "INTEGER"),  # version 7: the configured source that brought it
    ],
    "sources": [
        ("kind", "TEXT NOT NULL DEFAULT 'file'"),
        ("interval_minutes", "REAL"),
        ("etag", "TEXT"),
        ("last_modified", "TEXT"),
        ("last_polled_at", "TEXT"),
        ("last_error", "TEXT"),
        ("failures", "INTEGER NOT NULL DEFAULT 0"),
        ("next_poll_at", "REAL NOT NULL DEFAULT 0"),
    ],
    "follows": [
        ("topic_vector", "BLOB"),  # version 5: the topic embedded once, by `topic_model`
        ("topic_model", "TEXT"),
        ("source_id", "INTEGER"),  # version 7: every story of this source ('' topic), or those about the topic
    ],
    "channel_posts": [("sending_after", "INTEGER")],  # version 7: in flight, sent after that message id
}

# Follows: a guild's channel that receives new stories about a topic (bot/cogs/follows.py). The
# cursor is the newest article id a follow has dealt with; a story is posted once a channel. Written
# once, with each dialect's key and integer types filled in.
_FOLLOWS = """
CREATE TABLE IF NOT EXISTS follows (
    id {key},
    guild_id {integer} NOT NULL,
    channel_id {integer} NOT NULL,
    topic TEXT NOT NULL,
    created_by {integer} NOT NULL,
    created_at TEXT NOT NULL,
    cursor {integer} NOT NULL DEFAULT 0,
    last_delivery_at TEXT,
    paused TEXT,
    topic_vector {blob},
    topic_model TEXT,
    source_id {integer}
);
CREATE INDEX IF NOT EXISTS follows_by_guild ON follows (guild_id);
CREATE TABLE IF NOT EXISTS channel_posts (
    channel_id {integer} NOT NULL,
    article_id {integer} NOT NULL,
    message_id {integer},
    posted_at TEXT NOT NULL,
    sending_after {integer},
    PRIMARY KEY (channel_id, article_id)
);
"""

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    published TEXT,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_by_article ON passages (article_id, ordinal);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    location TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feed_entries (
    url TEXT PRIMARY KEY,
    source_id INTEGER NOT NULL,
    signature TEXT NOT NULL,
    outcome TEXT NOT NULL
);
{follows}CREATE VIRTUAL TABLE IF NOT EXISTS passage_terms USING fts5 (
    title, body, tokenize = 'porter unicode61 remove_diacritics 2'
);
""".replace("{follows}", _FOLLOWS.format(key="INTEGER PRIMARY KEY", integer="INTEGER", blob="BLOB").lstrip())


# 2: follows and the stories posted to channels. 3: a follow's topic vector kept with it. 4: no source
# named by its URL's credentials (`registry.name_sources_without_credentials`, run on every migration).
# 5: as SQLite's 7 (a story's image and source id, a follow of a source, a post in flight).
POSTGRES_VERSION = 5

POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id BIGSERIAL PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    published TEXT,
    published_utc TEXT,
    source TEXT NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    summary_only INTEGER NOT NULL DEFAULT 0,
    fingerprint BYTEA,
    image TEXT,
    source_id BIGINT,
    content_hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_by_time ON articles (published_utc DESC, ingested_at DESC);
CREATE TABLE IF NOT EXISTS passages (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_by_article ON passages (article_id, ordinal);
-- The words of each passage (headline and body) in a narrow table of their own, stripped of positions
-- and weights: ranking reads these small rows, not the wide passage rows with their vectors (faster
-- at the same fused recall; the README's "Scaling out" has the measurements).
CREATE TABLE IF NOT EXISTS passage_terms (
    passage_id BIGINT PRIMARY KEY REFERENCES passages (id) ON DELETE CASCADE,
    terms TSVECTOR NOT NULL
);
CREATE INDEX IF NOT EXISTS passage_terms_by_word ON passage_terms USING GIN (terms);
CREATE TABLE IF NOT EXISTS sources (
    id BIGSERIAL PRIMARY KEY,
    location TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    added_at TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'file',
    interval_minutes DOUBLE PRECISION,
    etag TEXT,
    last_modified TEXT,
    last_polled_at TEXT,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_poll_at DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS feed_entries (
    url TEXT PRIMARY KEY,
    source_id BIGINT NOT NULL,
    signature TEXT NOT NULL,
    outcome TEXT NOT NULL
);
{follows}CREATE TABLE IF NOT EXISTS vector_log (
    generation BIGINT PRIMARY KEY,
    removed BYTEA NOT NULL,
    added BYTEA NOT NULL,
    everything BOOLEAN NOT NULL DEFAULT FALSE
);
""".replace("{follows}", _FOLLOWS.format(key="BIGSERIAL PRIMARY KEY", integer="BIGINT", blob="BYTEA").lstrip())
# Later versions append (version, statements) here; each runs once, in order, under the schema lock.
POSTGRES_MIGRATIONS: list[tuple[int, str]] = [
    (
        3,
        "ALTER TABLE follows ADD COLUMN IF NOT EXISTS topic_vector BYTEA;"
        " ALTER TABLE follows ADD COLUMN IF NOT EXISTS topic_model TEXT;",
    ),
    (
        5,
        "ALTER TABLE articles ADD COLUMN IF NOT EXISTS image TEXT;"
        " ALTER TABLE articles ADD COLUMN IF NOT EXISTS source_id BIGINT;"
        " ALTER TABLE follows ADD COLUMN IF NOT EXISTS source_id BIGINT;"
        " ALTER TABLE channel_posts ADD COLUMN IF NOT EXISTS sending_after BIGINT;",
    ),
]
