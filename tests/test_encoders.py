"""The two networks newsbot runs without their usual libraries read exactly as those libraries do:
`index/backbone/bert.py` against transformers' BertModel (bit for bit, as float32 and with the reader's int8
attention), and the embedder's plain mean-pooling path against sentence-transformers."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from index.backbone import Bert, BertShape
from index.reader.network import as_shipped
from index.retrieval.embed import resolve_model_location
from index.retrieval.encoder import PooledEncoder, is_plain_mean_pooling

MINILM = Path(resolve_model_location("all-MiniLM-L6-v2"))
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "news.jsonl"


def sample_texts() -> list[str]:
    stories = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    texts = [s["text"][:1200] for s in stories] + [s["title"] for s in stories]
    return [*texts, "who did Takaichi beat in the vote?", "  padded with spaces  ", "Tokyo"]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(MINILM), local_files_only=True)


@pytest.fixture(scope="module")
def both_berts():
    from transformers import BertConfig, BertModel

    theirs = BertModel(BertConfig.from_pretrained(str(MINILM), local_files_only=True), add_pooling_layer=False)
    from safetensors.torch import load_file

    theirs.load_state_dict(load_file(str(MINILM / "model.safetensors")), strict=False)
    ours = Bert(BertShape.read(MINILM)).load_checkpoint(MINILM / "model.safetensors")
    return theirs.eval(), ours.eval()


def _same_reading(theirs, ours, tokenizer) -> None:
    texts = sample_texts()
    with torch.inference_mode():
        for begin in range(0, len(texts), 4):  # padded batches, as the embedder reads
            inputs = tokenizer(
                texts[begin : begin + 4], padding=True, truncation=True, max_length=256, return_tensors="pt"
            )
            expected = theirs(**inputs).last_hidden_state
            got = ours(inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"])
            real = inputs["attention_mask"].bool()
            assert torch.equal(expected[real], got[real])
        for text in texts[:6]:  # one window alone, unpadded, as the reader reads
            inputs = tokenizer([text], truncation=True, max_length=256, return_tensors="pt")
            expected = theirs(**inputs).last_hidden_state
            assert torch.equal(expected, ours(inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"]))


def test_our_bert_reads_bit_for_bit_as_transformers(both_berts, tokenizer):
    _same_reading(*both_berts, tokenizer)


def test_and_so_it_does_at_the_readers_precision(both_berts, tokenizer):
    """int8 attention, bfloat16 feed-forward layers where the CPU has them (`as_shipped`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, ours = (as_shipped(net) for net in both_berts)
    _same_reading(theirs, ours, tokenizer)


def test_the_embedders_own_path_gives_sentence_transformers_vectors():
    from sentence_transformers import SentenceTransformer

    texts = sample_texts()
    assert is_plain_mean_pooling(MINILM)
    ours = PooledEncoder(MINILM).encode(texts, batch_size=4)
    theirs = SentenceTransformer(str(MINILM), device="cpu", local_files_only=True).encode(
        texts, batch_size=4, normalize_embeddings=True, convert_to_numpy=True
    )
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert float(np.abs(ours - theirs).max()) < 1e-5


def test_other_model_shapes_go_to_sentence_transformers(tmp_path):
    folder = tmp_path / "cls-pooled"
    shutil.copytree(MINILM, folder)
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert not is_plain_mean_pooling(folder)
    (folder / "modules.json").unlink()
    assert not is_plain_mean_pooling(folder)
