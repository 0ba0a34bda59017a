"""Passages are runs of whole sentences whose offsets point back into the article."""

from index.models import Article


def test_passages_are_sentence_aligned_and_bounded(chunker):
    sentences = [f"Sentence number {i} says something about the council budget vote today." for i in range(30)]
    text = " ".join(sentences[:15]) + "\n" + " ".join(sentences[15:])
    passages = chunker.split(Article(url="u", text=text))
    assert len(passages) > 3
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text
        assert passage.text.startswith("Sentence number") and passage.text.endswith(".")
        assert len(passage.text.split()) <= chunker.max_words
    assert all("\n" not in text[a:b] for a, b in chunker.sentences(text))  # no sentence spans a paragraph break
    assert [p.ordinal for p in passages] == list(range(len(passages)))
    joined = " ".join(p.text for p in passages)
    assert all(s in joined for s in sentences)


def test_overlong_sentence_is_its_own_passage(chunker):
    long_sentence = "word " * 200 + "end."
    passages = chunker.split(Article(url="u", text=f"Short one. {long_sentence} Short two."))
    assert any(p.text.startswith("word word") for p in passages)
    assert passages[0].text == "Short one."
