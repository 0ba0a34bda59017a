"""The story the project was specified around, asked twenty plain questions phrased unlike its own
sentences. The story is a publisher's text: it is read from ../shared/seed/ and never copied here;
this file holds only the questions and short expected answers."""

from __future__ import annotations

import pytest

from index.models import Article
from index.reader.spans import normalise, sentence_around
from tests.conftest import DEMO_QUESTION, ROOT

SEED = ROOT.parent / "shared" / "seed" / "takaichi-trump-call.txt"

QUESTIONS = [
    (DEMO_QUESTION, "Yoshihiko Noda"),
    ("How many votes did Takaichi get in the lower house?", "237"),
    ("How many lower-house votes went to Noda?", "149"),
    ("Whom did Takaichi replace as prime minister?", "Shigeru Ishiba"),
    ("How long did the phone conversation between Takaichi and Trump last?", "10 minutes"),
    ("In which city were the leaders when they spoke by phone?", "Kuala Lumpur"),
    ("On what date did the two leaders talk on the phone?", "October 25"),
    ("How old is Takaichi?", "64"),
    ("Which party is Noda the leader of?", "Constitutional Democratic Party of Japan"),
    ("Which party chose Takaichi as its president?", "Liberal Democratic Party"),
    ("When did Takaichi win her party's leadership contest?", "October 4"),
    ("Who is Japan's chief cabinet secretary?", "Minoru Kihara"),
    ("Which member of Japan's imperial family is Trump expected to see?", "Naruhito"),
    ("How many days will Trump spend in Japan?", "three"),
    ("In which city was the 2019 G20 summit that Trump attended?", "Osaka"),
    ("Which late prime minister do Takaichi's security views echo?", "Shinzo Abe"),
    ("Which news agency reported the vote count?", "Kyodo News"),
    ("How many ballots were cast in the lower house?", "465"),
    ("In what year did Trump last travel to Japan?", "2019"),
    ("What kind of meetings were the leaders attending in Kuala Lumpur?", "ASEAN-related Summit meetings"),
]


def right(answer: str, expected: str) -> bool:
    """The answer is the expected short answer, give or take case, articles and punctuation (an
    answer that only overlaps it, "Japan" for "Constitutional Democratic Party of Japan", is wrong)."""
    return bool(answer) and normalise(answer) == normalise(expected)


@pytest.fixture(scope="module")
def seed_library(embedder, reader, chunker, tmp_path_factory):
    if not SEED.exists():
        pytest.skip(f"the seed story is not at {SEED} (it lives in ../shared/seed/, beside the checkout)")
    from index import Library, LibraryConfig

    title, _, body = SEED.read_text(encoding="utf-8").partition("\n")
    article = Article(
        url="https://seed.example/takaichi-trump-call", title=title.strip(), text=body.strip(), published="2025-10-26"
    )
    library = Library(
        LibraryConfig(data_dir=tmp_path_factory.mktemp("seed")), embedder=embedder, reader=reader, chunker=chunker
    )
    library.ingest_articles([article])
    return library


# Measured 2026-12-07 with the reader fine-tuned on people's questions over Wikinews (issue 42), strictly
# (the expected short answer, not an overlap): the best span is right for 12 of the 20 (12 before) and 6 are
# answered right at the shipped threshold (5 before), 1 answered wrong ("465" for the votes Takaichi got).
# The card's question still abstains on the raw story, with "Yoshihiko Noda" offered as the unsure candidate
# and its sentence quoted (before: not among the top six): issue 42's floor is that it is at least shown.
# The floors leave a question or two of slack for another CPU's kernels; they catch a regression.
BEST_RIGHT_AT_LEAST = 11
ANSWERED_RIGHT_AT_LEAST = 4


def test_seed_story_questions(seed_library, reader):
    best_right = answered_right = answered_wrong = 0
    report = []
    for question, expected in QUESTIONS:
        text = seed_library.check_question(question)
        hits = seed_library.search(text, seed_library.config.top_k)
        reading = reader.reading(text, hits)
        answer = reader.answer(text, hits, reading)
        got = reading.best.text if reading.best else ""
        if right(got, expected):
            best_right += 1
            assert got in sentence_around(reading.best.hit.text, reading.best.start, reading.best.end)[0]
        if answer.text:  # an answer given is the best span, quoted
            assert answer.text == got and answer.quote[answer.answer_start : answer.answer_end] == got
            answered_right += right(answer.text, expected)
            answered_wrong += not right(answer.text, expected)
        report.append(f"{question!r}: expected {expected!r}, best span {got!r}, confidence {answer.score:.2f}")
    assert best_right >= BEST_RIGHT_AT_LEAST and answered_right >= ANSWERED_RIGHT_AT_LEAST, "\n".join(report)
    assert answered_wrong <= 2, "\n".join(report)


def test_the_cards_question_shows_its_answer_at_least_as_evidence(seed_library, reader):
    """On the raw seed story the card's question is answered "Yoshihiko Noda", or that answer is offered
    with its sentence when the reader is unsure: never only "no answer" for a story that says it."""
    text = seed_library.check_question(DEMO_QUESTION)
    answer = reader.answer(text, seed_library.search(text, seed_library.config.top_k))
    shown = [(answer.text, answer.quote)] if answer.text else [(c.text, c.quote) for c in answer.candidates]
    assert any(right(got, "Yoshihiko Noda") and "149" in quote for got, quote in shown), shown
