"""The tuned topic encoder: topic phrases moved to where short stories about them lie, the stories'
own vectors untouched, and only where those vectors are the bundled model's."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from index.models import Article
from index.retrieval.topic_encoder import TOPIC_WEIGHTS, TopicEncoder
from index.retrieval.topics import TopicMatcher
from index.store import open_store

LONG_STORY = " ".join(
    f"Paragraph {n}: the regional council met again on Tuesday to discuss the budget for roads, parks and"
    " libraries, and agreed to publish the figures before the next meeting."
    for n in range(40)
)


def test_the_shipped_encoder_moves_a_topic_and_keeps_it_unit_length(embedder):
    encoder = TopicEncoder.shared(bundled=True)
    assert encoder is not None and TOPIC_WEIGHTS.is_file()
    topics = ["labour disputes", "baking", "Japan"]
    tuned, plain = encoder.encode(topics), embedder.encode(topics)
    assert tuned.shape == plain.shape and tuned.dtype == np.float32
    assert np.allclose(np.linalg.norm(tuned, axis=1), 1.0, atol=1e-4)
    assert all(0.3 < float(a @ b) < 0.999 for a, b in zip(tuned, plain, strict=True))  # moved, not replaced


def test_no_tuned_encoder_for_another_model_or_without_its_weights(embedder, tmp_path):
    assert TopicEncoder.shared(bundled=False) is None
    assert TopicEncoder.shared(bundled=True, weights=tmp_path / "missing.safetensors") is None

    class OtherModel:  # another embedding model: its passage vectors are not MiniLM's
        model_name = "some-org/another-model"
        dimension = embedder.dimension

        def encode(self, texts):
            return embedder.encode(texts)

    matcher = TopicMatcher(None, None, OtherModel())  # type: ignore[arg-type]
    assert matcher.encoder is None
    assert np.array_equal(matcher.tuned_vectors(["baking"]), matcher.vectors(["baking"]))


def test_weights_that_do_not_fit_minilm_are_refused_with_the_file_named(tmp_path):
    import torch
    from safetensors.torch import save_file

    wrong = tmp_path / "wrong.safetensors"
    save_file({"head.weight": torch.zeros(2, 2)}, str(wrong))
    with pytest.raises(ValueError, match="wrong.safetensors"):
        TopicEncoder(wrong).encode(["baking"])


def test_a_short_story_is_read_with_the_tuned_vector_a_long_one_with_the_plain(make_library, embedder, tmp_path):
    library = make_library(tmp_path / "data")
    library.ingest_articles(
        [
            Article(url="https://feed.example.org/short", title="Bakery wins bread prize",
                    text="A village bakery won the national prize for its rye loaf.", published="2026-12-07"),
            Article(url="https://feed.example.org/long", title="Council budget talks go on",
                    text=LONG_STORY, published="2026-12-07"),
        ]
    )  # fmt: skip
    parts = open_store(library.config)
    matcher = TopicMatcher(parts.articles, parts.vectors, embedder)
    assert matcher.encoder is not None
    stories = {h.story.url: h for h in parts.articles.newest_headlines(10)}
    features = matcher.features("baking", list(stories.values()))
    short = features[stories["https://feed.example.org/short"].article_id]
    long = features[stories["https://feed.example.org/long"].article_id]
    assert short.short and not long.short
    assert short.tuned != pytest.approx(short.closeness, abs=1e-4)
    assert long.tuned == pytest.approx(long.closeness)


def test_training_moves_a_topic_towards_its_stories_and_the_saved_layers_load_as_trained(embedder, tmp_path):
    """One tuned layer, a few steps over a handful of stories: the topic comes closer to the story
    about it than before; the file holds only that layer, and the product's encoder reads the same
    vectors the trainer had."""
    from training.topic_encoder import TopicTrainer, embedded

    stories = [
        ("Dockworkers end nine-day walkout", "Port staff accepted a pay rise and returned to the cranes."),
        ("Orchestra plans summer concerts", "Free concerts will be held in the city's parks in July."),
    ]
    data = embedded(embedder, ["labour disputes"], stories, [(0, 0, True), (0, 1, False)])
    trainer = TopicTrainer(layers=1, lr=1e-4)
    before = float(trainer.vectors(["labour disputes"])[0] @ data.vectors[0])
    rng = random.Random(0)
    for _ in range(8):
        trainer.epoch(data, rng)
    after = trainer.vectors(["labour disputes"])
    assert float(after[0] @ data.vectors[0]) > before
    out = tmp_path / "topics.safetensors"
    trainer.save(out)
    from safetensors import safe_open

    with safe_open(str(out), "pt") as saved:
        assert {name.split(".")[2] for name in saved.keys()} == {"5"}  # noqa: SIM118 (encoder.layer.5.*: the top one)
    reloaded = TopicEncoder(Path(out)).encode(["labour disputes"])
    assert np.allclose(reloaded, after, atol=2e-3)  # float16 on disk
