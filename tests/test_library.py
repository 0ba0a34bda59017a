"""The library on both backends (SQLite and FAISS files; a real PostgreSQL server): ingest, update,
search, answers, abstention, listing."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from index import Library, LibraryConfig, NewsbotError, NothingIndexedError
from index.config import SearchWeights
from index.reader.spans import sentence_around
from index.retrieval.search import recency_gain
from index.store import ArticleStore
from index.store.schema import SQLITE_VERSION
from index.store.vectors import vector_file
from index.text import lexical_query
from tests.conftest import DEMO_QUESTION, SAMPLE_NEWS, stored, write_jsonl


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def make_library(request, backend, embedder, reader, chunker):
    """Every library a test makes shares one store: files in the folder given, or one fresh database."""
    database_url = request.getfixturevalue("postgres").new_database() if backend == "postgres" else None

    def make(data_dir, **options) -> Library:
        config = LibraryConfig(data_dir=data_dir, database_url=database_url, **options)
        return Library(config, embedder=embedder, reader=reader, chunker=chunker)

    return make


def test_demo_question_answered_with_quote_and_story(sample_library):
    answer = sample_library.ask(DEMO_QUESTION)
    assert answer.text == "Yoshihiko Noda"
    assert answer.quote[answer.answer_start : answer.answer_end] == "Yoshihiko Noda"
    assert "237" in answer.quote  # the article's own sentence that proves it
    assert answer.story.url == "https://news.example.org/2025/10/21/takaichi-becomes-prime-minister"
    assert answer.story.published == "2025-10-21"
    assert 0.0 <= answer.score <= 1.0


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much were the stolen Louvre jewels worth?", "88 million"),
        ("When did Pope Francis die?", "April 21"),
    ],
)
def test_other_sample_questions(sample_library, reader, question, expected):
    # Not here: "Which team won the World Series?", whose best span is the beaten team (a known miss
    # of the shipped reader, which abstains on it at its threshold).
    # The reader's best span is right; the shipped threshold gives it or, when unsure, abstains: never wrong.
    answer = sample_library.ask(question)
    assert answer.abstained or expected in answer.text
    best = reader.reading(question, answer.evidence).best
    assert expected in best.text
    # The quote is the article's own sentence, never its headline (the README says so).
    quote, _ = sentence_around(best.hit.text, best.start, best.end)
    ((text,),) = stored(sample_library, "SELECT text FROM articles WHERE url = ?", (best.hit.story.url,))
    assert quote in text and quote != best.hit.story.title


def test_unanswerable_question_abstains_and_offers_closest_stories(sample_library):
    answer = sample_library.ask("What is the boiling point of liquid nitrogen in kelvin?")
    assert answer.abstained and answer.text == ""
    assert answer.closest and all(story.url.startswith("https://news.example.org/") for story in answer.closest)


def test_reingest_is_idempotent(sample_library):
    before = sample_library.stats()
    report = sample_library.ingest([SAMPLE_NEWS])
    assert (report.added, report.updated, report.unchanged) == (0, 0, 6)
    after = sample_library.stats()
    assert (after["articles"], after["passages"]) == (before["articles"], before["passages"])
    assert after["generation"] == before["generation"]  # nothing written at all


def test_changed_article_replaces_its_passages(sample_library, tmp_path):
    url = "https://news.example.org/2025/11/01/dodgers-win-world-series"
    update = write_jsonl(
        tmp_path / "update.jsonl",
        [{"url": url, "title": "Correction", "text": "The Toronto Blue Jays won the deciding game, officials said."}],
    )
    report = sample_library.ingest([update])
    assert (report.added, report.updated) == (0, 1)
    stats = sample_library.stats()
    assert stats["articles"] == 6
    assert sample_library.stats()["vectors"] == stats["passages"]
    hits = sample_library.search("Will Smith home run eleventh inning", 50)
    assert all("Will Smith" not in hit.text for hit in hits)  # old passages gone from both indexes


def test_duplicate_urls_within_one_file_store_once(make_library, tmp_path):
    path = write_jsonl(
        tmp_path / "dupes.jsonl",
        [{"url": "https://x.test/a", "text": "First version."}, {"url": "https://x.test/a", "text": "Second version."}],
    )
    library = make_library(tmp_path / "data")
    library.ingest([path])
    assert library.stats()["articles"] == 1
    assert library.search("version", 5)[0].text == "Second version."


def test_asking_before_ingest(make_library, tmp_path):
    with pytest.raises(NothingIndexedError, match="no news indexed yet"):
        make_library(tmp_path / "empty").ask(DEMO_QUESTION)


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * 100_000])
def test_bad_questions(sample_library, question):
    with pytest.raises(NewsbotError, match="empty|too long"):
        sample_library.ask(question)


def test_question_with_search_syntax_is_safe(sample_library):
    question = 'who "beat" Noda? AND OR NOT NEAR( title:* -- ;DROP TABLE articles'
    answer = sample_library.ask(question)
    assert answer.evidence and any("Noda" in hit.text for hit in answer.evidence)
    assert lexical_query('a "quoted" NEAR(x) word*') == '"quoted" OR "near" OR "word"'


def test_model_change_requires_reindex_and_reindex_swaps_vectors(sample_library, embedder, reader, chunker, backend):
    other = type(embedder)("other-model")  # configured, never loaded
    library = Library(sample_library.config, embedder=other, reader=reader, chunker=chunker)
    with pytest.raises(NewsbotError, match="reindex"):
        library.ask(DEMO_QUESTION)
    # Reindexing with the real model again keeps answers and moves to a new generation file.
    generation = sample_library.generation
    progress = []
    assert sample_library.reindex(progress=lambda done, total: progress.append((done, total))) == 13
    assert progress[-1] == (13, 13)
    assert sample_library.generation == generation + 1
    if backend == "sqlite":  # one FAISS file, of the new generation
        assert vector_file(sample_library.config.data_dir, generation + 1).exists()
        assert not vector_file(sample_library.config.data_dir, generation).exists()
    assert sample_library.ask(DEMO_QUESTION).text == "Yoshihiko Noda"


def test_latest_newest_first_and_by_topic(sample_library):
    stories = sample_library.latest(3)
    # The shutdown story ran at 23:30 in Washington on the 12th: shown as its newsroom dated it.
    assert [s.published[:10] for s in stories] == ["2025-11-12", "2025-11-01", "2025-10-25"]
    topical = sample_library.latest(10, topic="Louvre jewels")
    assert [s.title for s in topical] == ["Thieves take French crown jewels from the Louvre in a seven-minute raid"]
    # A topic no story names, but one story is about: found by meaning. (A bare "baseball" is not:
    # one word scores lower with a passage about it, 0.39 here, and the rule `benchmarks/topics.py`
    # fitted for follows, briefs and `latest` alike gives the story a chance of 0.34, under 0.47.)
    assert [s.title for s in sample_library.latest(10, topic="baseball championship")] == [
        "Dodgers beat Blue Jays in Game 7 to repeat as World Series champions"
    ]
    assert sample_library.latest(10, topic="volcanic eruptions in Iceland") == []
    with pytest.raises(NewsbotError):
        sample_library.latest(0)


def test_an_oversized_article_is_cut_with_a_warning_and_stays_answerable(make_library, tmp_path):
    paragraph = "The harbour authority of Veskar counted 4,180 cargo ships this year. " * 40
    text = "The Veskar harbour named Ilse Marken its new harbour master.\n" + (paragraph + "\n") * 200
    path = write_jsonl(tmp_path / "long.jsonl", [{"url": "https://x.test/long", "title": "Veskar", "text": text}])
    library = make_library(tmp_path / "data", max_article_chars=20_000)
    report = library.ingest([path])
    assert report.added == 1 and report.problems == []
    assert len(report.warnings) == 1 and "max_article_chars is 20,000" in str(report.warnings[0])
    ((kept,),) = stored(library, "SELECT sum(length(text)) FROM passages")
    assert kept <= 20_000
    assert library.ask("Who is the new harbour master of Veskar?").text == "Ilse Marken"


def test_a_huge_headline_is_cut_with_a_warning_and_the_story_stays_answerable(make_library, tmp_path):
    """A 1 MB headline once went before every passage the reader read, and into the full-text index
    once a passage: a 50 MB store and questions that ran for minutes."""
    title = "Veskar harbour news " + "and more words of a headline that never ends " * 23_000
    text = "The Veskar harbour named Ilse Marken its new harbour master. Ships queued at the gate."
    path = write_jsonl(tmp_path / "title.jsonl", [{"url": "https://x.test/title", "title": title, "text": text}])
    library = make_library(tmp_path / "data")
    report = library.ingest([path])
    assert report.added == 1 and len(title) > 1_000_000
    assert len(report.warnings) == 1 and "max_title_chars is 300" in str(report.warnings[0])
    ((kept,),) = stored(library, "SELECT title FROM articles")
    assert len(kept) <= 300 and kept.startswith("Veskar harbour news") and kept.endswith("…")
    answer = library.ask("Who is the new harbour master of Veskar?")
    assert len(answer.evidence[0].story.title) <= 300


def test_a_story_dated_in_the_future_is_dated_when_ingested_and_never_pinned_first(sample_library, tmp_path):
    from datetime import UTC, datetime, timedelta

    soon = (datetime.now(UTC) + timedelta(hours=6)).isoformat(timespec="seconds")  # a time zone ahead: believed
    records = [
        {
            "url": "https://x.test/2099",
            "title": "Harbour opens in 2099",
            "text": "The harbour opened.",
            "published": "2099-01-01",
        },
        {"url": "https://x.test/soon", "title": "Ferry timetable", "text": "Ferries run hourly.", "published": soon},
    ]
    report = sample_library.ingest([write_jsonl(tmp_path / "future.jsonl", records)])
    assert report.added == 2
    today = datetime.now(UTC).date().isoformat()
    assert [str(warning) for warning in report.warnings] == [
        f"https://x.test/2099: dated 2099-01-01, more than a day after it was ingested; dated {today}, the day it"
        " was ingested, instead"
    ]
    newest = sample_library.latest(3)
    assert newest[0].title == "Ferry timetable" and newest[0].published == soon
    assert [s.published for s in newest if s.title == "Harbour opens in 2099"] == [today]
    again = sample_library.ingest([write_jsonl(tmp_path / "future.jsonl", records)])
    assert again.unchanged == 2  # the same story read again the same day changes nothing


def test_fingerprint_memory_is_bounded_by_a_prefix():
    from index.intake.dedup import FINGERPRINT_CHARS, fingerprint

    start = " ".join(f"word{i}" for i in range(60_000))
    assert len(start) > FINGERPRINT_CHARS
    assert fingerprint(start) == fingerprint(start + " and a very long tail" * 100_000)


def test_lone_surrogate_in_a_question_is_answered_not_fatal(sample_library):
    answer = sample_library.ask("who did Takaichi beat in the vote?\ud800")
    assert answer.text == "Yoshihiko Noda"


def test_dates_keep_their_offset_and_sort_by_instant(make_library, tmp_path):
    news = write_jsonl(
        tmp_path / "tz.jsonl",
        [
            {
                "url": "https://x.test/ny",
                "title": "Late in New York",
                "text": "Evening story.",
                "published": "2025-11-12T23:30-05:00",
            },
            {
                "url": "https://x.test/ldn",
                "title": "Early in London",
                "text": "Night story.",
                "published": "2025-11-13T01:00:00+00:00",
            },
        ],
    )
    library = make_library(tmp_path / "data")
    library.ingest([news])
    stories = library.latest(5)
    assert [s.title for s in stories] == ["Late in New York", "Early in London"]  # 04:30 UTC is the later one
    assert stories[0].published == "2025-11-12T23:30:00-05:00"


def test_a_version_2_store_is_migrated_on_open(sample_library, make_library, backend):
    import sqlite3

    if backend != "sqlite":
        pytest.skip("a SQLite store's own migration")

    data_dir = sample_library.config.data_dir
    sample_library.close()
    with sqlite3.connect(data_dir / "news.sqlite3") as conn:  # as newsbot before schema 3 left it
        conn.execute("DROP INDEX articles_by_time")
        conn.execute("ALTER TABLE articles DROP COLUMN published_utc")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    reopened = make_library(data_dir)
    latest = reopened.latest(6)
    assert len(latest) == 6 and latest == sample_library.latest(6)
    with sqlite3.connect(data_dir / "news.sqlite3") as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SQLITE_VERSION),)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"follows", "channel_posts"} <= tables  # what later versions added
        assert conn.execute(
            "SELECT count(*) FROM articles WHERE published_utc IS NULL AND published IS NOT NULL"
        ).fetchone() == (0,)


def test_among_close_matches_the_newer_story_ranks_first(make_library, tmp_path):
    news = write_jsonl(
        tmp_path / "bridge.jsonl",
        [
            {
                "url": "https://x.test/reopened",
                "title": "Harbour bridge reopens after repairs",
                "text": "The harbour bridge reopened to traffic on Monday after two years of repairs.",
                "published": "2024-03-04",
            },
            {
                "url": "https://x.test/closed",
                "title": "Harbour bridge shut again",
                "text": "The harbour bridge was shut to traffic again on Friday, a year after its repairs ended.",
                "published": "2025-03-07T09:00:00+01:00",
            },
        ],
    )
    library = make_library(tmp_path / "data")
    library.ingest([news])
    question = "harbour bridge reopened after repairs"

    def first(as_of: datetime) -> str:
        return library.search(question, 2, as_of=as_of)[0].story.url

    assert first(datetime(2030, 1, 1, tzinfo=UTC)) == "https://x.test/reopened"  # both old: the better match
    assert first(datetime(2025, 3, 8, tzinfo=UTC)) == "https://x.test/closed"  # asked the day after: the news


def test_the_recency_gain_fades_with_age_and_ignores_what_it_cannot_date():
    weights = SearchWeights(recency=0.5, recency_days=14.0, rrf_k=60)
    asked = datetime(2025, 3, 8, 12, tzinfo=UTC)
    fresh = recency_gain("2025-03-08T12:00:00+00:00", asked, weights)
    assert fresh == pytest.approx(0.5 / 61)
    assert recency_gain("2025-03-22T13:00:00+01:00", asked, weights) == pytest.approx(fresh)  # future: new
    assert recency_gain("2025-02-22T12:00:00+00:00", asked, weights) == pytest.approx(fresh / math.e)
    assert recency_gain("2025-02-22", asked, weights) == pytest.approx(fresh * math.exp(-(14.5 / 14)))
    assert recency_gain(None, asked, weights) == 0.0
    assert recency_gain("not a date", asked, weights) == 0.0
    assert recency_gain("2025-03-08", asked, SearchWeights(recency=0.0)) == 0.0


def test_an_article_another_ingest_wrote_meanwhile_counts_as_unchanged(make_library, tmp_path, monkeypatch):
    """Two ingests of one file at once: both read the store before either wrote, so both plan to write
    all six; the second to reach the write lock finds them there, the same, and changes nothing."""
    library = make_library(tmp_path / "twice")
    assert library.ingest([SAMPLE_NEWS]).added == 6
    generation = library.generation
    monkeypatch.setattr(ArticleStore, "article_digests", lambda self, urls: {})  # as the second process saw the store
    again = library.ingest([SAMPLE_NEWS])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 6)
    assert library.generation == generation
