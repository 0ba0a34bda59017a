"""A crash at any moment leaves the previous index usable; a lagging FAISS copy is repaired."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from index.store.vectors import vector_file
from tests.conftest import DEMO_QUESTION, ROOT, SAMPLE_NEWS, filler_news, write_jsonl


def _generation(db) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])


def test_kill_9_during_ingest_leaves_a_working_index(sample_library, make_library, tmp_path):
    data_dir = sample_library.config.data_dir
    start_generation = sample_library.generation
    big = filler_news(tmp_path / "big.jsonl")
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(data_dir), "NEWSBOT_INGEST_BATCH_ARTICLES": "16"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "ingest", str(big)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 240
    # Wait until the ingest has committed at least one batch, then kill it mid-flight.
    while _generation(data_dir / "news.sqlite3") == start_generation and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    reopened = make_library(data_dir)
    stats = reopened.stats()
    assert 0 < stats["articles"] - 6 < 400  # some batches landed, not all
    assert reopened.stats()["vectors"] == stats["passages"]  # FAISS agrees with SQLite
    assert reopened.ask(DEMO_QUESTION).text == "Yoshihiko Noda"
    # A rerun finishes the job without duplicating anything.
    reopened.ingest([big])
    assert reopened.stats()["articles"] == 406


def test_missing_or_corrupt_vector_file_is_rebuilt_from_sqlite(sample_library, make_library):
    data_dir = sample_library.config.data_dir
    path = vector_file(data_dir, sample_library.generation)
    path.write_bytes(b"not a faiss index")
    (data_dir / "vectors-99.faiss.999999999.partial").write_bytes(b"half-written")  # a crashed writer's leftovers
    reopened = make_library(data_dir)
    assert reopened.ask(DEMO_QUESTION).text == "Yoshihiko Noda"
    path.unlink()
    reopened = make_library(data_dir)
    assert reopened.stats()["vectors"] == reopened.stats()["passages"]
    assert path.exists()  # repaired copy saved for the next process
    assert not list(data_dir.glob("*.partial"))  # and the dead writer's leftovers are gone


@pytest.mark.parametrize("wrong", ["dimension", "count"])
def test_a_vector_file_of_the_wrong_shape_is_rebuilt(sample_library, make_library, wrong):
    """A valid FAISS file of another dimension once broke every ask; one with the wrong number of
    vectors was used as it was."""
    import faiss
    import numpy as np

    data_dir = sample_library.config.data_dir
    path = vector_file(data_dir, sample_library.generation)
    count = sample_library.stats()["passages"]
    dimension = 16 if wrong == "dimension" else 384
    foreign = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    rows = count if wrong == "dimension" else 3
    foreign.add_with_ids(np.ones((rows, dimension), dtype=np.float32), np.arange(rows, dtype=np.int64))
    faiss.write_index(foreign, str(path))
    reopened = make_library(data_dir)
    assert reopened.ask(DEMO_QUESTION).text == "Yoshihiko Noda"
    assert reopened.stats()["vectors"] == count


def test_a_full_disk_leaves_the_library_readable(sample_library, make_library, tmp_path, monkeypatch):
    """FAISS reports a failed write (a full disk) as RuntimeError: it once escaped the ingest after
    SQLite had committed, and every later ask crashed trying to save the rebuilt copy again."""
    import faiss

    def disk_full(index, name):
        raise RuntimeError(f"Error in faiss::FileIOWriter: could not write {name}: No space left on device")

    monkeypatch.setattr(faiss, "write_index", disk_full)
    news = write_jsonl(
        tmp_path / "more.jsonl",
        [{"url": "https://x.test/full", "title": "Full disk", "text": "The Veskar ferry carried 812 cars in May."}],
    )
    report = sample_library.ingest([news])
    assert report.added == 1
    data_dir = sample_library.config.data_dir
    assert not list(data_dir.glob("*.partial"))
    reopened = make_library(data_dir)  # the saved copy lags: rebuilt in memory, saving fails quietly
    assert reopened.ask(DEMO_QUESTION).text == "Yoshihiko Noda"
    assert reopened.stats()["articles"] == 7
    monkeypatch.undo()  # space again: the next open saves the copy
    again = make_library(data_dir)
    again.stats()  # loads the vector index
    assert vector_file(data_dir, again.generation).exists()


def test_reading_commands_work_while_another_process_writes(sample_library, make_library):
    data_dir = sample_library.config.data_dir
    generation = sample_library.generation
    writer = sqlite3.connect(data_dir / "news.sqlite3", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
    try:
        # The reads finish while the writer still holds its lock (they would block until it let go
        # if they waited on it); no clock involved, so a busy machine cannot fail this.
        results: list = []
        reading = threading.Thread(
            target=lambda: results.extend(
                [make_library(data_dir).stats()["articles"], make_library(data_dir).ask(DEMO_QUESTION).text]
            )
        )
        reading.start()
        reading.join(timeout=300)
        assert not reading.is_alive() and results == [6, "Yoshihiko Noda"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert _generation(data_dir / "news.sqlite3") == generation


def test_reader_in_another_library_sees_new_articles(sample_library, make_library, tmp_path):
    reader_side = make_library(sample_library.config.data_dir)
    assert reader_side.ask(DEMO_QUESTION).text == "Yoshihiko Noda"
    fresh = write_jsonl(
        tmp_path / "fresh.jsonl",
        [
            {
                "url": "https://x.test/volcano",
                "title": "Volcano erupts in Iceland",
                "text": "The Sundhnukur volcano on the Reykjanes peninsula erupted on Tuesday night.",
            }
        ],
    )
    sample_library.ingest([fresh])
    evidence = reader_side.ask("Which volcano erupted in Iceland?").evidence
    assert any("Sundhnukur" in hit.text for hit in evidence)  # found without reopening anything


def test_many_processes_opening_a_new_store_at_once_create_it_once(tmp_path):
    # Separate Database objects open the lock file separately, as separate processes would.
    import threading

    from index.store.sqlite import Database

    data_dir = tmp_path / "fresh"
    barrier, errors = threading.Barrier(8), []

    def open_store() -> None:
        barrier.wait()
        try:
            Database(data_dir).connect().execute("SELECT count(*) FROM sources").fetchone()
        except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_library_on_a_read_only_mount_can_be_read_not_changed(make_library, tmp_path):
    """`status`, `ask` and `latest` once failed there with "not writable" (WAL without its -shm)."""
    from index import NewsbotError

    data_dir = tmp_path / "data"
    written = make_library(data_dir)
    written.ingest([SAMPLE_NEWS])
    written.close()  # the last connection gone: SQLite removes its -wal and -shm
    assert not list(data_dir.glob("news.sqlite3-*"))
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    made = subprocess.run(["mount", "--bind", str(data_dir), str(mounted)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make a bind mount here ({made.stderr.decode().strip()})")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(mounted)], capture_output=True).returncode:
            pytest.skip("cannot remount read-only here")
        library = make_library(mounted)
        assert library.stats()["articles"] == 6
        assert library.ask(DEMO_QUESTION).text == "Yoshihiko Noda"
        assert library.latest(3)
        with pytest.raises(NewsbotError, match="not writable"):
            library.ingest([SAMPLE_NEWS])
    finally:
        subprocess.run(["umount", "--lazy", str(mounted)], capture_output=True)  # files may still be open
