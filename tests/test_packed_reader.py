"""The GPU path of reader training, end to end on the CPU with a tiny pack: pack, train a few
steps, join the shards into one weights file the product's reader network loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from index.reader.network import FROZEN, base_location, build_net, load_trained
from training.pack import SHARDS, write_pack
from training.packed import Windows, main
from training.reader_data import featurise

VOTE = "The count ended late. Sanae Takaichi beat Yoshihiko Noda, taking 237 of the 465 ballots."
QUESTIONS = [
    ("Who did Takaichi beat?", "Yoshihiko Noda"),
    ("How many ballots did Takaichi take?", "237"),
    ("How many ballots were cast?", "465"),
]


@pytest.fixture(scope="module")
def tokenizer():
    return build_net()[1]


def examples() -> list[dict]:
    out = [
        {"question": q, "title": "Vote", "text": VOTE, "start": VOTE.index(a), "answer": a, "answers": [a]}
        for q, a in QUESTIONS
    ]
    out.append({"question": "What fell all day?", "title": "Weather", "text": "Fog lingered by the coast."})
    return out


def test_a_pack_holds_the_windows_renumbered_into_its_own_vocabulary(tokenizer, tmp_path):
    features = featurise(tokenizer, examples(), max_length=64, stride=16)
    sizes = write_pack(features, features[:2], Path(base_location()), tmp_path, {"test": True})
    assert {"train.npz", "watched.npz", "embeddings.safetensors", "minilm.safetensors"} <= set(sizes)
    windows = Windows(tmp_path / "train.npz", "cpu")
    vocabulary = np.unique(np.concatenate([np.asarray(f["ids"]) for f in features] + [np.arange(1)]))
    embeddings = load_file(str(tmp_path / "embeddings.safetensors"))["bert.embeddings.word_embeddings.weight"]
    assert embeddings.shape[0] == len(vocabulary) < 200  # only the rows the windows use
    full = load_file(str(Path(base_location()) / "model.safetensors"))
    word = next(v for k, v in full.items() if k.endswith("word_embeddings.weight"))
    for row, feature in enumerate(features):
        length = len(feature["ids"])
        packed = windows.ids[row, :length].numpy()
        assert vocabulary[packed].tolist() == feature["ids"]  # the same tokens, renumbered
        assert windows.types[row, :length].tolist() == feature["types"]
        assert (int(windows.start[row]), int(windows.end[row])) == (feature["start"], feature["end"])
        allowed = (~windows.blocked[row, :length]).nonzero().flatten().tolist()
        assert allowed == [0, *range(*feature["context"])]  # [CLS] and the passage's tokens only
        # the packed embedding of each token is MiniLM's own row, in float16
        assert torch.allclose(embeddings[packed].float(), word[feature["ids"]].float(), atol=1e-3)


def test_training_from_a_pack_writes_shards_the_reader_loads(tokenizer, tmp_path):
    features = featurise(tokenizer, examples(), max_length=64, stride=16)
    pack = tmp_path / "pack"
    write_pack(features, features, Path(base_location()), pack, {})
    out = tmp_path / "run"
    main(["train", "--pack", str(pack), "--out", str(out), "--steps", "4", "--batch", "2", "--report-every", "2"])
    assert all((out / name).stat().st_size < 16 * 2**20 for name in SHARDS)
    joined = tmp_path / "reader.safetensors"
    main(["join", str(out), "--out", str(joined)])
    trained = load_file(str(joined))
    net, _ = build_net()
    assert set(trained) == {k for k in net.state_dict() if not k.startswith(FROZEN)}
    before = {k: v.clone() for k, v in net.state_dict().items()}
    load_trained(net, joined)
    changed = [k for k, v in net.state_dict().items() if not torch.equal(v, before[k])]
    assert "span.weight" in changed and any(k.startswith("bert.encoder.layer.5.") for k in changed)
    assert not any(k.startswith(FROZEN) for k in changed)  # the embeddings stay MiniLM's
    ids = torch.tensor([features[0]["ids"]])
    start, _, relevance = net(ids, torch.ones_like(ids), torch.tensor([features[0]["types"]]))
    assert torch.isfinite(start).all() and torch.isfinite(relevance).all()
