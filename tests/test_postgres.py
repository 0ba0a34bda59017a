"""One library in PostgreSQL shared by several processes: what one ingests, another answers from;
a writer killed mid-way loses nothing. (The library's own tests run on this backend too:
tests/test_library.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from index import Library, LibraryConfig
from tests.conftest import DEMO_QUESTION, ROOT, SAMPLE_NEWS, filler_news, write_jsonl

VOLCANO = {
    "url": "https://x.test/volcano",
    "title": "Volcano erupts in Iceland",
    "text": "The Sundhnukur volcano on the Reykjanes peninsula erupted on Tuesday night, the Icelandic"
    " Met Office said. Lava reached the defensive walls around the town of Grindavik by morning.",
    "published": "2025-11-20",
}


@pytest.fixture
def database_url(postgres) -> str:
    return postgres.new_database()


@pytest.fixture
def pg_library(database_url, embedder, reader, chunker, tmp_path):
    def make() -> Library:
        config = LibraryConfig(data_dir=tmp_path / "unused", database_url=database_url)
        return Library(config, embedder=embedder, reader=reader, chunker=chunker)

    return make


def newsbot_process(database_url: str, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(NEWSBOT_DATABASE_URL=database_url, NEWSBOT_INGEST_BATCH_ARTICLES="16")
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_a_story_one_process_ingests_is_answered_by_another(pg_library, database_url, tmp_path):
    answering = pg_library()
    answering.ingest([SAMPLE_NEWS])
    assert answering.ask(DEMO_QUESTION).text == "Yoshihiko Noda"
    before = answering.generation
    question = "Which volcano erupted on the Reykjanes peninsula?"
    process = newsbot_process(database_url, "ingest", str(write_jsonl(tmp_path / "fresh.jsonl", [VOLCANO])))
    committed = answered = None
    deadline = time.monotonic() + 120
    while answered is None and time.monotonic() < deadline:
        if committed is None and answering.generation > before:
            committed = time.monotonic()
        evidence = answering.ask(question).evidence
        if committed is not None and evidence and "Sundhnukur" in evidence[0].text:
            answered = time.monotonic()
        time.sleep(0.1)
    assert process.wait(timeout=120) == 0, process.stderr.read().decode()
    # The event, not a clock: on a busy machine catching up may take longer than on an idle one.
    assert committed is not None and answered is not None
    # The vector replica caught up from the log, not only the full-text index: it holds every passage.
    assert answering.stats()["vectors"] == answering.stats()["passages"]
    assert any("Sundhnukur" in hit.text for hit in answering.search(question, 3))


def test_kill_9_of_the_ingesting_process_loses_nothing(pg_library, database_url, tmp_path):
    library = pg_library()
    library.ingest([SAMPLE_NEWS])
    start = library.generation
    big = filler_news(tmp_path / "big.jsonl")
    process = newsbot_process(database_url, "ingest", str(big))
    deadline = time.monotonic() + 240
    while library.generation == start and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    reopened = pg_library()
    stats = reopened.stats()
    assert 0 < stats["articles"] - 6 < 400  # some batches landed, not all
    assert reopened.stats()["vectors"] == stats["passages"]  # the replica agrees with the database
    assert reopened.ask(DEMO_QUESTION).text == "Yoshihiko Noda"
    reopened.ingest([big])  # the killed writer's lock died with its session: a rerun finishes the job
    assert reopened.stats()["articles"] == 406
    assert library.stats()["vectors"] == reopened.stats()["passages"]  # the first process caught up


def test_an_unreachable_database_is_one_clear_error(tmp_path, embedder, reader, chunker):
    from index import NewsbotError

    config = LibraryConfig(data_dir=tmp_path, database_url="postgresql://newsbot:secret@127.0.0.1:9/news")
    library = Library(config, embedder=embedder, reader=reader, chunker=chunker)
    with pytest.raises(NewsbotError, match="cannot connect to the news database") as caught:
        library.stats()
    assert "secret" not in str(caught.value)  # the password is never shown


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://newsbot@127.0.0.1:9/news?password=hunter2-secret",
        "host=127.0.0.1 port=9 user=newsbot password=hunter2-secret dbname=news",
        "postgresql://newsbot:hunter2-secret@127.0.0.1:9,127.0.0.1:10/news",
        "postgresql://newsbot@127.0.0.1:9/news?password=hunter2-secret&connect_timeout=2x",  # a malformed DSN
    ],
)
def test_no_form_of_connection_string_shows_its_password(url, tmp_path, embedder, reader, chunker):
    """`status` and connection errors once showed a password passed as a query setting or in the
    key=value form, and a multi-host URL made `status` fail with a ValueError."""
    from index import NewsbotError
    from index.store.postgres import redacted

    assert "hunter2-secret" not in redacted(url) and "***" in redacted(url)
    library = Library(
        LibraryConfig(data_dir=tmp_path, database_url=url), embedder=embedder, reader=reader, chunker=chunker
    )
    assert "hunter2-secret" not in library.location
    with pytest.raises(NewsbotError) as caught:
        library.stats()
    assert "hunter2-secret" not in str(caught.value)


def test_a_failing_database_is_one_line_from_the_command_line(pg_library, database_url):
    """A PostgreSQL error mid-command (a table dropped under the library) is one line naming the
    database, not a traceback and not the SQLite file's advice."""
    import psycopg

    pg_library().ingest([SAMPLE_NEWS])
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE passages CASCADE")
    process = newsbot_process(database_url, "latest")
    _, stderr = process.communicate(timeout=120)
    text = stderr.decode()
    assert process.returncode == 1, text
    assert text.startswith("newsbot: error: the news library's PostgreSQL database failed"), text
    assert "Traceback" not in text and "data folder" not in text


def test_a_server_restart_is_survived_by_reconnecting(pg_library, postgres, tmp_path):
    """After PostgreSQL restarts, every pooled connection is dead: the first question, the first list of
    stories and the first ingest after it reconnect and succeed instead of failing."""
    library = pg_library()
    library.ingest([SAMPLE_NEWS])
    assert library.ask(DEMO_QUESTION).text == "Yoshihiko Noda"
    postgres.restart()
    assert library.ask(DEMO_QUESTION).text == "Yoshihiko Noda"
    assert library.latest(3)
    volcano = tmp_path / "volcano.jsonl"
    write_jsonl(volcano, [VOLCANO])
    assert library.ingest([volcano]).added == 1
    assert any(story.url == VOLCANO["url"] for story in library.latest(10))
