"""The question sets the reader is measured and fitted on, each with the library it is asked of:
RealTime QA's weeks, SQuAD's held-out titles as news, and people's plain questions over news (the
project's plain-news set and the held-out Wikinews documents). Shared by the fitting here
(`training.proposals`, `training.calibrate`, `training.tune`) and by the benchmarks that report on them."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import sys
from pathlib import Path

from index import Library, LibraryConfig
from index.intake.sources import article_from_record
from index.models import Article
from training.reader_data import SPLIT_SEED, squad_split

ROOT = Path(__file__).resolve().parent.parent

# RealTime QA: a week's questions over that week's articles (`benchmarks/realtimeqa.py`)
DATA = ROOT.parent / "shared" / "data" / "realtimeqa"


def load(year: str) -> tuple[dict[str, dict], list[dict]]:
    folder = DATA / year
    if not (folder / "articles.jsonl.gz").exists():
        sys.exit(
            f"realtimeqa data for {year} not found under {folder}; this benchmark needs ../shared/data/realtimeqa/"
        )
    with gzip.open(folder / "articles.jsonl.gz", "rt", encoding="utf-8") as lines:
        articles = {record["id"]: record for record in map(json.loads, lines)}
    with gzip.open(folder / "questions.jsonl.gz", "rt", encoding="utf-8") as lines:
        questions = [json.loads(line) for line in lines]
    return articles, questions


def week_records(articles: dict[str, dict], questions: list[dict], week: str) -> list[dict]:
    """The article records a week's questions come with: that week's corpus."""
    ids = sorted({a for q in questions if q["week"] == week for a in q["articles"] if a in articles})
    return [articles[i] for i in ids]


def holds_week(library: Library, records: list[dict]) -> bool:
    """Whether a week's index holds all its articles (a week cut short is resumed, not read)."""
    return library.stats()["articles"] >= len({r["url"] for r in records})


def week_library(year: str, week: str, records: list[dict], cache: Path, models: dict) -> Library:
    library = Library(LibraryConfig(data_dir=cache / year / week), **models)
    if not holds_week(library, records):
        articles = []
        for record in records:
            try:
                articles.append(article_from_record(record))
            except ValueError:
                continue
        library.ingest_articles(articles)
    return library


# SQuAD's held-out titles as news (`benchmarks/squad_news.py`)
REPORT_SAMPLE = 3000  # questions of the report titles read (of 8,203; answerable or not, as they come)
CALIBRATION_SAMPLE = 1250  # calibration questions read of the dev titles (any kind), and of the training titles


def held_out(half: str) -> tuple[list[Article], list[dict]]:
    """The articles (one a paragraph) and questions of one part of SQuAD (`training.reader_data.squad_split`):
    `report`, the 24 odd-indexed dev titles, `REPORT_SAMPLE` of their questions; `calibration`, `CALIBRATION_SAMPLE`
    questions of its 6 dev titles (answerable and SQuAD 2.0 unanswerable ones, as they come) and as
    many answerable ones of its 30 held-back training titles. Every paragraph of a part's titles is
    an article."""
    part = squad_split()[half]
    dev = [e for e in part if not e["id"].startswith("train/")]
    train = [e for e in part if e["id"].startswith("train/")]
    chosen = random.Random(SPLIT_SEED).sample(dev, min(REPORT_SAMPLE, len(dev)))
    if half == "calibration":  # reading is the slow part: a seeded sample of each kind
        rng = random.Random(SPLIT_SEED)
        chosen = rng.sample(dev, min(CALIBRATION_SAMPLE, len(dev))) + rng.sample(
            train, min(CALIBRATION_SAMPLE, len(train))
        )
    paragraphs: dict[tuple[str, str], int] = {}
    for example in part:
        paragraphs.setdefault((example["title"], example["text"]), len(paragraphs))
    questions = [{"question": e["question"], "answers": e["answers"], "title": e["title"]} for e in chosen]
    articles = [
        Article(
            url=f"https://squad.example/{slug(title)}/{number}",
            title=title.replace("_", " "),
            text=text,
            source="SQuAD",
        )
        for (title, text), number in paragraphs.items()
    ]
    return articles, questions


def slug(title: str) -> str:
    return re.sub(r"\W+", "-", title)


def half_library(half: str, articles: list[Article], cache: Path, models: dict) -> Library:
    library = Library(LibraryConfig(data_dir=cache / f"{half}-by-title"), **models)
    if library.stats()["articles"] < len(articles):
        library.ingest_articles(articles)
    return library


# people's plain questions over news (`benchmarks/plain_news.py`)
SET = ROOT / "benchmarks" / "data" / "plain_news.json"
REALTIMEQA = ROOT.parent / "shared" / "data" / "realtimeqa"
SPLITS = ("tune", "report")
WIKINEWS_SAMPLE = 500  # questions read per half of the held-out Wikinews documents


def plain_news_set() -> dict:
    if not SET.exists():
        sys.exit(f"the plain-news set is missing at {SET}")
    return json.loads(SET.read_text(encoding="utf-8"))


def plain_news_articles(data: dict) -> list[Article]:
    wanted: dict[str, set[str]] = {}
    for entry in data["articles"]:
        wanted.setdefault(entry["year"], set()).add(entry["id"])
    articles = []
    for year, ids in sorted(wanted.items()):
        path = REALTIMEQA / year / "articles.jsonl.gz"
        if not path.exists():
            sys.exit(f"RealTime QA {year} not found at {path}; this benchmark needs ../shared/data/realtimeqa/")
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for record in map(json.loads, lines):
                if record["id"] in ids:
                    articles.append(article_from_record(record))
    return articles


def plain_news_questions(split: str) -> list[dict]:
    return [
        {"question": q["question"], "answers": q["answers"], "kind": q["kind"]}
        for q in plain_news_set()["questions"]
        if q["split"] == split
    ]


def wikinews_half(document: str) -> str:
    return SPLITS[int(hashlib.sha256(f"half:{document}".encode()).hexdigest(), 16) % 2]


def wikinews_articles_and_questions(split: str) -> tuple[list[Article], list[dict]]:
    """The held-out Wikinews documents of one half, each paragraph a story, and a seeded sample of the
    questions people wrote on them."""
    from training import news_qa

    documents = {d: ps for d, ps in news_qa.held_documents().items() if wikinews_half(d) == split}
    articles = []
    for document, passages in sorted(documents.items()):
        by_paragraph: dict[int, list[str]] = {}
        for passage in passages:
            by_paragraph.setdefault(passage.paragraph, []).append(passage.text)
        for paragraph, texts in sorted(by_paragraph.items()):
            text = " ".join(texts)
            articles.append(
                Article(
                    url=f"https://wikinews.example/{document}/{paragraph}",
                    title=" ".join(text.split()[:10]),
                    text=text,
                    source="Wikinews",
                )
            )
    questions = [
        {"question": e["question"], "answers": [e["answer"]], "kind": "wikinews"}
        for e in news_qa.examples("held")
        if "start" in e and e["document"] in documents and e["source"] == "qamr"
    ]
    questions = random.Random(13).sample(questions, min(WIKINEWS_SAMPLE, len(questions)))
    return articles, questions


def articles_and_questions(name: str, split: str) -> tuple[list[Article], list[dict]]:
    if name == "plain-news":
        return plain_news_articles(plain_news_set()), plain_news_questions(split)
    if name == "wikinews":
        return wikinews_articles_and_questions(split)
    raise ValueError(f"no question set {name!r}")


def set_library(name: str, split: str, articles: list[Article], cache: Path, models: dict) -> Library:
    # the plain-news set is one library for both splits (every question meets every story)
    folder = cache / (name if name == "plain-news" else f"{name}-{split}")
    library = Library(LibraryConfig(data_dir=folder), **models)
    if library.stats()["articles"] < len({a.url for a in articles}):
        library.ingest_articles(articles)
    return library
