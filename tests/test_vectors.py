"""The vector index picks exact or IVF search by corpus size and migrates atomically when it changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from index.config import EXACT, IVF, IndexPolicy, LibraryConfig
from index.store.vectors import VectorIndex, vector_file
from tests.conftest import DEMO_QUESTION, SAMPLE_NEWS, write_jsonl


def clustered(count: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(count // 20, 2), dimension))
    points = centres[rng.integers(0, len(centres), count)] + 0.3 * rng.standard_normal((count, dimension))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32)


def test_policy_chooses_by_size_with_hysteresis():
    policy = IndexPolicy(exact_below=1000)
    assert policy.kind_for(999) == EXACT
    assert policy.kind_for(1000) == IVF
    assert policy.kind_for(900, current=IVF) == IVF  # no flapping around the line
    assert policy.kind_for(799, current=IVF) == EXACT
    with pytest.raises(ValidationError):  # the bound is the configuration's, checked once
        LibraryConfig(data_dir=Path("unused"), exact_search_below=0)


def test_ivf_index_keeps_ids_finds_neighbours_and_supports_removal():
    vectors = clustered(3000)
    ids = np.arange(10_000, 13_000)
    policy = IndexPolicy(exact_below=1000, nprobe=8)
    approximate = VectorIndex.build(32, ids, vectors, policy)
    exact = VectorIndex.build(32, ids, vectors, IndexPolicy(exact_below=10_000))
    assert (approximate.kind, exact.kind) == (IVF, EXACT)
    assert approximate.lists == policy.lists_for(3000) and len(approximate) == 3000

    queries = clustered(50, seed=1)
    recall = np.mean(
        [len({i for i, _ in approximate.search(q, 10)} & {i for i, _ in exact.search(q, 10)}) / 10 for q in queries]
    )
    assert recall >= 0.9
    top_id, top_score = approximate.search(vectors[5], 1)[0]
    assert top_id == 10_005 and top_score == pytest.approx(1.0, abs=0.02)

    smaller = approximate.with_changes(np.array([10_005]), np.array([20_000]), vectors[5:6])
    assert smaller.kind == IVF and len(smaller) == 3000
    assert smaller.search(vectors[5], 1)[0][0] == 20_000
    assert approximate.search(vectors[5], 1)[0][0] == 10_005  # the original is untouched


def test_ivf_index_survives_save_and_load(tmp_path):
    policy = IndexPolicy(exact_below=500, nprobe=4)
    index = VectorIndex.build(32, np.arange(800), clustered(800), policy)
    path = index.save(tmp_path, 7)
    assert path == vector_file(tmp_path, 7)
    loaded = VectorIndex.load(path, IndexPolicy(exact_below=500, nprobe=6))
    assert loaded.kind == IVF and len(loaded) == 800
    assert loaded.search(clustered(800)[3], 1)[0][0] == 3


def test_grown_ivf_index_asks_for_new_lists():
    policy = IndexPolicy(exact_below=500)
    index = VectorIndex.build(32, np.arange(600), clustered(600), policy)
    assert not index.needs_rebuild(700)
    assert index.needs_rebuild(4 * 600)  # lists trained for 600 are too few for 2,400
    assert index.needs_rebuild(300)  # back below the line: exact again


def extra_articles(count: int) -> list[dict]:
    topics = ["harbour", "orchard", "railway", "glacier", "museum", "vineyard", "bridge", "festival", "library"]
    return [
        {
            "url": f"https://news.example.org/old/{n}",
            "title": f"Town council debates the {topics[n % len(topics)]} plan, part {n}",
            "text": f"Councillors in district {n} argued for hours about the {topics[n % len(topics)]}. "
            f"The vote was postponed to a later meeting. Residents said the plan number {n} "
            "would change the skyline and asked for another consultation.",
            "published": "2001-05-0" + str(1 + n % 9),
            "source": "Archive Wire",
        }
        for n in range(count)
    ]


def finds_demo_passage(library) -> bool:
    """The passage that answers the demo question is among the top hits (what the index must keep)."""
    return any("Yoshihiko Noda" in hit.text for hit in library.search(DEMO_QUESTION, 3))


def test_store_migrates_to_ivf_and_back_atomically(make_library, tmp_path):
    policy = {"exact_search_below": 20, "ivf_nprobe": 64}
    library = make_library(tmp_path / "data", **policy)
    library.ingest([SAMPLE_NEWS])
    assert library.stats()["vector_index"] == EXACT and library.stats()["vectors"] == 13

    library.ingest([write_jsonl(tmp_path / "old.jsonl", extra_articles(12))])
    passages = library.stats()["passages"]
    assert passages >= 20
    assert library.stats()["vector_index"] == IVF and library.stats()["vectors"] == passages
    files = sorted(p.name for p in library.config.data_dir.glob("vectors-*.faiss"))
    assert files == [vector_file(library.config.data_dir, library.generation).name]  # one generation on disk
    assert finds_demo_passage(library)

    # Another process opening the folder reads the IVF file as saved, not a rebuild.
    reopened = make_library(tmp_path / "data", **policy)
    assert reopened.stats()["vector_index"] == IVF
    assert finds_demo_passage(reopened)

    # Retention drops the old articles: below 80% of the line the index is exact again.
    removed = library.remove_old(days=3650)
    assert removed == 12
    assert library.stats()["vector_index"] == EXACT and library.stats()["vectors"] == 13
    assert finds_demo_passage(library)


def test_missing_ivf_file_is_rebuilt_as_ivf(make_library, tmp_path):
    policy = {"exact_search_below": 20, "ivf_nprobe": 64}
    library = make_library(tmp_path / "data", **policy)
    library.ingest([SAMPLE_NEWS, write_jsonl(tmp_path / "old.jsonl", extra_articles(12))])
    vector_file(library.config.data_dir, library.generation).unlink()
    reopened = make_library(tmp_path / "data", **policy)
    stats = reopened.stats()
    assert stats["vector_index"] == IVF and stats["vectors"] == stats["passages"]


def test_settings_carry_the_index_policy(tmp_path):
    from bot.settings import Settings

    config = Settings(data_dir=tmp_path, exact_search_below=1234, ivf_nprobe=7, _env_file=None).library_config()
    assert config.index_policy == IndexPolicy(exact_below=1234, nprobe=7)


def test_ingest_reports_time_by_stage(sample_library, tmp_path):
    report = sample_library.ingest([write_jsonl(tmp_path / "old.jsonl", extra_articles(2))])
    assert report.added == 2
    assert set(report.seconds) == {"split", "embed", "sqlite", "vectors"} and report.seconds["embed"] > 0
