"""What a reply offers to be trusted: the other stories that agree, the candidate answers when the
reader is unsure, and answers as of a moment. Real libraries in temp folders, the shipped reader."""

from __future__ import annotations

import json

import pytest

from bot.embeds import answer_embed
from bot.render import answer_text
from index import Library, LibraryConfig, NewsbotError
from index.dates import as_of_moment
from index.models import Article
from index.reader import ExtractiveReader
from index.reader.spans import names_a_time
from tests.conftest import write_jsonl
from tests.test_cli import newsbot

# Three outlets report one appointment in their own words; a fourth names someone else; a fifth
# line is the first story re-published word for word under another address.
APPOINTMENT = [
    Article(
        url="https://harbour-times.example/appointment",
        title="Council picks a new harbour master",
        text="The city council picked Marta Lindqvist as the new harbour master on Monday. She has worked "
        "at the port for twenty years.",
        published="2026-02-02",
        source="Harbour Times",
    ),
    Article(
        url="https://coast-radio.example/news/harbour-master",
        title="Lindqvist to run the harbour",
        text="Marta Lindqvist will be the next harbour master, councillors decided after a short debate. "
        "Fishing crews welcomed the choice.",
        published="2026-02-02",
        source="Coast Radio",
    ),
    Article(
        url="https://daily-wire.example/2026/02/02/port",
        title="Port gets a harbour master",
        text="Councillors voted on Monday to appoint Marta Lindqvist as harbour master of the town's busy "
        "port. The post had been empty since autumn.",
        published="2026-02-02",
        source="Daily Wire",
    ),
    Article(
        url="https://gossip-weekly.example/harbour",
        title="Harbour rumours",
        text="Before the vote, rumours said that Piet Jansen would become harbour master. He runs the sailing club.",
        published="2026-01-28",
        source="Gossip Weekly",
    ),
    Article(
        url="https://aggregator.example/copy/harbour-master",
        title="Council picks a new harbour master",
        text="The city council picked Marta Lindqvist as the new harbour master on Monday. She has worked "
        "at the port for twenty years.",
        published="2026-02-02",
        source="Aggregator",
    ),
]

# The same post, filled twice a week apart.
PORT_CHAIR = [
    Article(
        url="https://port.example/chair-1",
        title="Port authority names its chair",
        text="The port authority named Anna Berg as its chair on Sunday. The board meets again in spring.",
        published="2026-03-01",
        source="Port News",
    ),
    Article(
        url="https://port.example/chair-2",
        title="Port authority names its chair",
        text="The port authority named Lars Holm as its chair on Sunday. The board meets again in spring.",
        published="2026-03-08",
        source="Port News",
    ),
]


@pytest.fixture
def library_at(embedder, reader, chunker, tmp_path):
    """A library whose reader (the session's network) answers from the given confidence up."""

    def make(threshold: float, articles: list[Article]) -> Library:
        at = ExtractiveReader(threshold=threshold, calibration=reader.calibration, network=reader.network)
        library = Library(LibraryConfig(data_dir=tmp_path / "data"), embedder=embedder, reader=at, chunker=chunker)
        library.ingest_articles(articles)
        return library

    return make


@pytest.fixture
def appointment_library(library_at):
    return library_at(0.0, APPOINTMENT)


def test_an_answer_names_the_other_stories_that_agree_once_each(appointment_library):
    answer = appointment_library.ask("Who was appointed harbour master?")
    assert answer.text == "Marta Lindqvist"
    sources = {answer.story.source, *(c.story.source for c in answer.agreeing)}
    # three outlets agree; the re-published copy counts once (with the story it copies), the rumour not at all
    assert len(answer.agreeing) == 2, answer.agreeing
    assert "Gossip Weekly" not in sources
    assert not {"Harbour Times", "Aggregator"} <= sources
    assert {"Coast Radio", "Daily Wire"} <= sources | {answer.story.source}
    assert answer.story.url not in {c.story.url for c in answer.agreeing}
    for citation in answer.agreeing:
        assert "Marta Lindqvist" in citation.quote
    record = answer.as_dict()
    assert len(record["agreeing"]) == 2
    assert set(record["agreeing"][0]) == {"title", "url", "source", "published", "image", "quote"}
    assert "3 stories agree" in answer_text(answer)
    embed = answer_embed(answer)
    field = next(f for f in embed.fields if f.name == "3 stories agree")
    assert all(c.story.url in field.value for c in answer.agreeing)


def test_a_lone_story_has_no_agreeing_stories(library_at):
    library = library_at(0.0, PORT_CHAIR[:1])
    answer = library.ask("Who chairs the port authority?")
    assert answer.text == "Anna Berg" and answer.agreeing == [] and answer.as_dict()["agreeing"] == []


def test_when_unsure_the_reply_offers_candidates_not_a_claim_that_the_news_is_silent(library_at):
    library = library_at(1.0, APPOINTMENT)  # never sure enough to answer
    answer = library.ask("Who was appointed harbour master?")
    assert answer.abstained
    assert 1 <= len(answer.candidates) <= 3
    assert answer.candidates[0].text == "Marta Lindqvist"
    assert len({normalise_text(c.text) for c in answer.candidates}) == len(answer.candidates)
    for candidate in answer.candidates:
        assert candidate.quote[candidate.answer_start : candidate.answer_end] == candidate.text
        assert 0.0 <= candidate.score < 1.0 and candidate.story.url
    record = answer.as_dict()
    assert record["answer"] == "" and record["candidates"][0]["answer"] == "Marta Lindqvist"
    assert set(record["candidates"][0]) == {"answer", "score", "quote", "title", "url", "source", "published", "image"}
    text = answer_text(answer)
    assert text.startswith("Not sure") and "does not answer" not in text and "Marta Lindqvist" in text
    embed = answer_embed(answer)
    assert embed.title == "Not sure" and "does not answer" not in str(embed.to_dict())


def test_a_confident_answer_offers_no_candidates(appointment_library):
    answer = appointment_library.ask("Who was appointed harbour master?")
    assert not answer.abstained and answer.candidates == [] and answer.as_dict()["candidates"] == []


def normalise_text(text: str) -> str:
    return " ".join(text.lower().split())


def test_the_newer_story_answers_unless_asked_as_of_an_earlier_day(library_at):
    library = library_at(0.0, PORT_CHAIR)
    now = library.ask("Who is the chair of the port authority?", as_of="2026-03-20")
    assert now.text == "Lars Holm" and now.story.published == "2026-03-08"
    before = library.ask("Who is the chair of the port authority?", as_of="2026-03-05")
    assert before.text == "Anna Berg" and before.story.published == "2026-03-01"
    assert before.as_of == "2026-03-05T23:59:59+00:00"
    assert all(hit.story.published <= "2026-03-05" for hit in before.evidence)
    # a story dated the day asked about counts as known that day
    assert library.ask("Who is the chair of the port authority?", as_of="2026-03-08").text == "Lars Holm"


def test_as_of_reads_dates_and_datetimes_and_refuses_anything_else():
    assert as_of_moment("2026-03-06").isoformat() == "2026-03-06T23:59:59+00:00"
    assert as_of_moment("2026-03-06T18:00").isoformat() == "2026-03-06T18:00:00+00:00"
    assert as_of_moment("2026-03-06T18:00:00+09:00").utcoffset().total_seconds() == 9 * 3600
    assert as_of_moment(None) is None
    with pytest.raises(NewsbotError, match="cannot read 'last tuesday'"):
        as_of_moment("last tuesday")


def test_a_question_that_names_a_time_is_recognised():
    assert names_a_time("Who chaired the port authority in 2019?")
    assert names_a_time("Who was the first chair of the port authority?")
    assert not names_a_time("Who is the chair of the port authority?")


def test_cli_as_of_for_one_question_and_per_batch_line(tmp_path):
    data_dir = tmp_path / "data"
    news = write_jsonl(
        tmp_path / "port.jsonl",
        [
            {"url": a.url, "title": a.title, "text": a.text, "published": a.published, "source": a.source}
            for a in PORT_CHAIR
        ],
    )
    assert newsbot("ingest", str(news), data_dir=data_dir).returncode == 0
    question = "Who is the chair of the port authority?"
    result = newsbot("ask", question, "--as-of", "2026-03-05", "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["as_of"] == "2026-03-05T23:59:59+00:00"
    assert "Lars Holm" not in json.dumps(record)  # the later story is left out everywhere
    batch = write_jsonl(
        tmp_path / "q.jsonl",
        [
            {"id": "then", "question": question, "as_of": "2026-03-02"},
            {"id": "default", "question": question},
            {"id": "bad", "question": question, "as_of": "someday"},
        ],
    )
    result = newsbot("ask", "--batch", str(batch), "--as-of", "2026-03-04", "--json", data_dir=data_dir)
    records = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert records["then"]["as_of"].startswith("2026-03-02") and records["default"]["as_of"].startswith("2026-03-04")
    assert "cannot read 'someday'" in records["bad"]["error"] and result.returncode == 1
    refused = newsbot("ask", question, "--as-of", "tomorrow-ish", data_dir=data_dir)
    assert refused.returncode == 1 and "cannot read 'tomorrow-ish'" in refused.stderr
    assert "Traceback" not in refused.stderr
