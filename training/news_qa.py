"""People's questions over news text, for the reader's training: QAMR, QA-SRL 2.1 and QANom on
Wikinews sentences (../shared/data/newsqa/, never copied into the project).

Each set gives questions about one tokenised sentence with token-span answers. Here the sentences of
one Wikinews document are put back together by their ids (`Wiki1k:wikinews:<doc>:<par>:<sent>`),
detokenised, and cut as the product cuts a story (whole sentences of one paragraph, at most 80
words), so a question is read in a passage of several sentences with its answer as character
offsets. Negatives (the product reads passages that do not answer beside the one that does): a
passage of the same document, or the best-matching passage of another, that lacks the answer.

Documents are split by a fixed hash of their id: `held` (about one in eight) is never trained on
and is what `--evaluate` and the calibration read as plain news; the rest is `train`.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from training.reader_data import DATA, content_words
from training.scoring import contains

NEWSQA = DATA / "newsqa"
PASSAGE_WORDS = 80
HELD_SHARE = 8  # one document in this many is held out

_OPEN = {"-LRB-": "(", "-LSB-": "[", "-LCB-": "{", "``": "\u201c", "$": "$", "#": "#"}
_CLOSE = {"-RRB-": ")", "-RSB-": "]", "-RCB-": "}", "''": "\u201d"}
_NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", "%", "'s", "'S", "n't", "'re", "'ve", "'ll", "'d", "'m", "'", "..."}


def detokenise(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Penn Treebank tokens as running text, with each token's (start, end) character offsets."""
    text, offsets, glue = "", [], True
    for token in tokens:
        shown = _OPEN.get(token) or _CLOSE.get(token) or token
        if text and not glue and token not in _CLOSE and token not in _NO_SPACE_BEFORE:
            text += " "
        offsets.append((len(text), len(text) + len(shown)))
        text += shown
        glue = token in _OPEN
    return text, offsets


def document_of(sentence_id: str) -> tuple[str, int, int] | None:
    """(document, paragraph, sentence) of a Wikinews sentence id; None for other sources."""
    parts = sentence_id.split(":")
    if len(parts) != 5 or parts[1] != "wikinews":
        return None
    return parts[2], int(parts[3]), int(parts[4])


def is_held(document: str) -> bool:
    return int(hashlib.sha256(document.encode()).hexdigest(), 16) % HELD_SHARE == 0


@dataclass
class Question:
    sentence: str  # sentence id
    question: str
    span: tuple[int, int]  # token range [start, end)
    source: str


@dataclass
class Corpus:
    """Wikinews sentences by id (tokens) and the questions asked about them."""

    sentences: dict[str, list[str]] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)


def _contiguous(indices: list[int]) -> tuple[int, int] | None:
    if not indices:
        return None
    first, last = min(indices), max(indices)
    return (first, last + 1) if last - first + 1 == len(set(indices)) else None


def read_qamr(corpus: Corpus) -> None:
    path = NEWSQA / "qamr"
    with open(path / "wiki-sentences.tsv", encoding="utf-8") as lines:
        for line in lines:
            sentence_id, _, text = line.rstrip("\n").partition("\t")
            if document_of(sentence_id):
                corpus.sentences[sentence_id] = text.split(" ")
    with open(path / "dev.tsv", encoding="utf-8", newline="") as lines:
        for row in csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) < 7 or not document_of(row[0]) or row[0] not in corpus.sentences:
                continue
            span = _contiguous([int(i) for i in row[6].split()])
            if span:
                corpus.questions.append(Question(row[0], row[5], span, "qamr"))


def read_qasrl(corpus: Corpus, name: str, files: list[str]) -> None:
    """QA-SRL-style files: a question's span is the one most of its valid judgments gave."""
    for file in files:
        path = NEWSQA / "qasrl" / name / f"{file}.jsonl.gz"
        if not path.exists():
            continue
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for record in map(json.loads, lines):
                sentence_id = record["sentenceId"]
                if not document_of(sentence_id):
                    continue
                corpus.sentences.setdefault(sentence_id, record["sentenceTokens"])
                for entry in record["verbEntries"].values():
                    for label in entry["questionLabels"].values():
                        judgments = label["answerJudgments"]
                        valid = [j for j in judgments if j.get("isValid")]
                        if len(valid) * 2 <= len(judgments):
                            continue
                        spans = Counter(tuple(s) for j in valid for s in j["spans"])
                        if not spans:
                            continue
                        (start, end), _ = spans.most_common(1)[0]
                        corpus.questions.append(Question(sentence_id, label["questionString"], (start, end), name))


@functools.cache
def load_corpus() -> Corpus:
    """Every set's Wikinews sentences and questions (read once a process; treat as read-only)."""
    if not NEWSQA.exists():
        raise FileNotFoundError(f"the news QA sets are not at {NEWSQA}; this needs ../shared/data/newsqa/")
    corpus = Corpus()
    read_qamr(corpus)
    read_qasrl(corpus, "qasrl-v2_1/orig", ["dev", "test"])
    read_qasrl(corpus, "qasrl-gs", ["dev", "test"])
    read_qasrl(corpus, "qanom", ["train", "dev", "test"])
    return corpus


@dataclass
class Passage:
    document: str
    paragraph: int
    text: str
    where: dict[str, int]  # sentence id -> its first character in text


def passages(corpus: Corpus) -> list[Passage]:
    """Each document's sentences in id order, one paragraph's run cut at PASSAGE_WORDS words."""
    paragraphs: dict[tuple[str, int], list[tuple[int, str]]] = defaultdict(list)
    for sentence_id in corpus.sentences:
        place = document_of(sentence_id)
        if place:
            paragraphs[place[0], place[1]].append((place[2], sentence_id))
    out = []
    for (document, paragraph), members in sorted(paragraphs.items()):
        run: list[str] = []
        words = 0
        for _, sentence_id in sorted(members):
            count = len(corpus.sentences[sentence_id])
            if run and words + count > PASSAGE_WORDS:
                out.append(_joined(corpus, document, paragraph, run))
                run, words = [], 0
            run.append(sentence_id)
            words += count
        if run:
            out.append(_joined(corpus, document, paragraph, run))
    return out


def _joined(corpus: Corpus, document: str, paragraph: int, sentence_ids: list[str]) -> Passage:
    text, where = "", {}
    for sentence_id in sentence_ids:
        if text:
            text += " "
        where[sentence_id] = len(text)
        text += detokenise(corpus.sentences[sentence_id])[0]
    return Passage(document, paragraph, text, where)


def examples(part: str = "train", negative_share: float = 0.25, seed: int = 13) -> list[dict]:
    """Training (or held) examples in training.reader_data's form: question, title "", text, start,
    answer; negatives without start. `negative_share` negatives per question, half of them from the
    same document, half the best-matching passage of another document."""
    if part not in ("train", "held"):
        raise ValueError(f"part is train or held, not {part!r}")
    corpus = load_corpus()
    cut = [p for p in passages(corpus) if is_held(p.document) == (part == "held")]
    by_sentence = {sentence_id: p for p in cut for sentence_id in p.where}
    by_document: dict[str, list[Passage]] = defaultdict(list)
    for p in cut:
        by_document[p.document].append(p)
    bags = [content_words(p.text) for p in cut]
    postings: dict[str, list[int]] = defaultdict(list)
    for i, bag in enumerate(bags):
        for word in bag:
            postings[word].append(i)
    rng = random.Random(seed)
    out, seen = [], set()
    for q in corpus.questions:
        passage = by_sentence.get(q.sentence)
        if passage is None or (q.sentence, q.question.lower()) in seen:
            continue
        seen.add((q.sentence, q.question.lower()))
        _, offsets = detokenise(corpus.sentences[q.sentence])
        if q.span[1] > len(offsets):
            continue
        base = passage.where[q.sentence]
        start, end = base + offsets[q.span[0]][0], base + offsets[q.span[1] - 1][1]
        answer = passage.text[start:end]
        group = f"{q.source}:{q.sentence}:{q.question}"
        out.append(
            {
                "question": q.question,
                "title": "",
                "text": passage.text,
                "start": start,
                "answer": answer,
                "group": group,
                "document": passage.document,
                "source": q.source,
            }
        )
        if rng.random() >= negative_share:
            continue
        if rng.random() < 0.5:
            pool = [p for p in by_document[passage.document] if p is not passage and not contains(p.text, answer)]
            other = rng.choice(pool) if pool else None
        else:
            scores: Counter[int] = Counter()
            for word in content_words(q.question):
                for i in postings.get(word, ()):
                    if cut[i].document != passage.document:
                        scores[i] += 1
            ranked = [cut[i] for i, _ in scores.most_common(5) if not contains(cut[i].text, answer)]
            other = ranked[0] if ranked else None
        if other is not None:
            out.append(
                {
                    "question": q.question,
                    "title": "",
                    "text": other.text,
                    "group": group,
                    "document": other.document,
                    "source": q.source,
                }
            )
    return out


def held_documents() -> dict[str, list[Passage]]:
    """The held-out documents' passages, by document: what benchmarks read as stories."""
    docs: dict[str, list[Passage]] = defaultdict(list)
    for p in passages(load_corpus()):
        if is_held(p.document):
            docs[p.document].append(p)
    return dict(docs)


if __name__ == "__main__":
    for part in ("train", "held"):
        rows = examples(part)
        positives = [r for r in rows if "start" in r]
        print(f"{part}: {len(positives):,} questions, {len(rows) - len(positives):,} negatives")
    sample = random.Random(1).sample([r for r in examples("train") if "start" in r], 5)
    for r in sample:
        print(r["question"], "->", r["answer"], "|", r["text"][max(0, r["start"] - 40) : r["start"] + 60])
