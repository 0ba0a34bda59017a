"""The pluggable Hugging Face reader path, with a tiny randomly initialised QA model built here
(no hub): it checks the plumbing (spans, offsets, quote, abstention), not answer quality."""

from __future__ import annotations

import pytest

from index.models import Hit, Story
from index.neural_reader import TransformersReader, sentence_around

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch

    folder = tmp_path_factory.mktemp("tiny-qa")
    words = "who did takaichi beat in the vote noda won 237 votes to 149 . ? yoshihiko rain fell".split()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
    )
    transformers.BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def hits() -> list[Hit]:
    story = Story("Vote", "https://x.test/vote", "2025-10-21", "wire")
    return [Hit(1, "Rain fell. Takaichi beat Yoshihiko Noda 237 votes to 149. Noda won 149.", story, 1.0, 0)]


def test_reader_returns_a_span_of_the_passage_with_its_sentence(tiny_model):
    reader = TransformersReader(tiny_model, threshold=0.0)
    answer = reader.read("who did takaichi beat in the vote?", hits())
    assert answer.text and answer.text in hits()[0].text
    assert answer.quote[answer.answer_start : answer.answer_end] == answer.text
    assert answer.quote in hits()[0].text and answer.story.url == "https://x.test/vote"


def test_reader_abstains_below_threshold(tiny_model):
    answer = TransformersReader(tiny_model, threshold=1.0).read("who won?", hits())
    assert answer.abstained and answer.closest
    assert TransformersReader(tiny_model).read("who won?", []).abstained


def test_unloadable_model_is_a_clear_error(tmp_path):
    from index.errors import NewsbotError

    with pytest.raises(NewsbotError, match="cannot load reader model"):
        TransformersReader(str(tmp_path / "missing")).warm_up()


def test_sentence_around():
    text = "First one. Second has the answer here. Third."
    start = text.index("answer")
    assert sentence_around(text, start, start + 6) == ("Second has the answer here.", 11)
