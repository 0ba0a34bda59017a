"""Shared fixtures: the real models loaded once per test session, libraries in temp dirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index import Library, LibraryConfig
from index.intake import Chunker
from index.reader import ExtractiveReader
from index.retrieval import Embedder
from index.store import open_store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_NEWS = ROOT / "samples" / "news.jsonl"
DEMO_QUESTION = "who did Takaichi beat in the vote?"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    model = Embedder()
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def reader() -> ExtractiveReader:
    model = ExtractiveReader()
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def chunker() -> Chunker:
    splitter = Chunker()
    splitter.warm_up()
    return splitter


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the session, or a skip that says why there is none."""
    from tests.postgres_server import PostgresServer, find_binaries

    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not found (set NEWSBOT_TEST_PG_BIN): PostgreSQL tests skipped")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[test]'): PostgreSQL tests skipped")
    server = PostgresServer(binaries).start()
    yield server
    server.stop()


@pytest.fixture
def make_library(embedder, reader, chunker):
    """A library over a given folder that shares the session's loaded models."""

    def make(data_dir: Path, **options) -> Library:
        return Library(LibraryConfig(data_dir=data_dir, **options), embedder=embedder, reader=reader, chunker=chunker)

    return make


@pytest.fixture
def sample_library(make_library, tmp_path) -> Library:
    library = make_library(tmp_path / "data")
    library.ingest([SAMPLE_NEWS])
    return library


def write_jsonl(path: Path, records: list) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(record if isinstance(record, str) else json.dumps(record))
            handle.write("\n")
    return path


def filler_news(path: Path, count: int = 400) -> Path:
    """`count` short council stories: enough batches for a kill -9 to land between commits."""
    return write_jsonl(
        path,
        [
            {
                "url": f"https://filler.test/{i}",
                "title": f"Filler story {i}",
                "text": " ".join(f"Council meeting {i} discussed road repairs in district {j}." for j in range(6)),
            }
            for i in range(count)
        ],
    )


def stored(library: Library, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of the library's store, read as another process would (through the store wing's
    `open_store`): what a test checks was kept, on either backend."""
    db = open_store(library.config).backend
    try:
        return [tuple(row) for row in db.connect().execute(sql, params).fetchall()]
    finally:
        db.close()


SETTLE_TIMEOUT = 120.0  # seconds SimCord waits for the bot to settle: a cap for loaded machines


def pytest_collection_modifyitems(items):
    """Every SimCord test waits for the bot with a generous cap (SimCord's own default is 5 s: a reader on a
    loaded 2-core machine can take longer than that for one answer), keeping the test's own options."""
    for item in items:
        marker = item.get_closest_marker("simcord")
        options = dict(marker.kwargs) if marker else {}
        options.setdefault("settle_timeout", SETTLE_TIMEOUT)
        item.add_marker(pytest.mark.simcord(**options))
