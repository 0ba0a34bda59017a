"""A library on a full disk: reading works (nothing is created to read), a write says the disk is
full, never "damaged". Needs a small tmpfs, so root; skipped otherwise."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import SAMPLE_NEWS, write_jsonl
from tests.test_cli import newsbot


@pytest.fixture
def full_disk(tmp_path):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def fill(folder) -> None:
    with open(folder / "filler", "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass


def test_a_full_disk_still_reads_and_a_write_says_the_disk_is_full(full_disk, tmp_path):
    library = full_disk / "library"
    assert newsbot("ingest", str(SAMPLE_NEWS), data_dir=library).returncode == 0
    fill(full_disk)
    for args in (["latest"], ["status"], ["follows", "list"], ["ask", "Which team won the World Series?"]):
        result = newsbot(*args, data_dir=library)
        assert result.returncode == 0, (args, result.stderr)
        assert "damaged" not in result.stderr
    assert "Dodgers" in newsbot("ask", "Which team won the World Series?", data_dir=library).stdout
    more = write_jsonl(tmp_path / "more.jsonl", [{"url": "https://x.test/m", "title": "More", "text": "More news."}])
    wrote = newsbot("ingest", str(more), data_dir=library)
    assert wrote.returncode == 1 and "is full" in wrote.stderr and "damaged" not in wrote.stderr
    assert len(wrote.stderr.strip().splitlines()) == 1
