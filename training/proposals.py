"""The reader's proposed spans for the question sets calibration and tuning use, cached on disk.

Reading is the slow part (a quarter of a second a question); valuing and pooling spans is not. So
the network reads each question once, through the library's own search (as of the question's
date), and `training.tune` and `training.calibrate` re-weigh the cached spans as often as they
like. The sets are never 2025:
- `news`: the 6 weeks of 2024 `training/reader.py` holds out (hard questions over a week of news);
- `squad`: the calibration half of SQuAD's held-out titles, ingested as news (`benchmarks/squad_news.py`):
  plain questions, and SQuAD 2.0's unanswerable ones.
- `plain-news-tune` and `wikinews-tune` (`benchmarks/plain_news.py`): people's plain questions over news, the
  tune halves of the project's plain-news set and of the held-out Wikinews documents.
`squad-report`, `plain-news-report` and `wikinews-report`, the other halves, are read the same way
for the reports and never for a choice.
A cache is keyed by the reader's weights, passages and precision and the set, so a new reading reads again.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from pathlib import Path

from index.intake import Chunker
from index.reader import ExtractiveReader
from index.reader.calibration import Calibration
from index.reader.network import has_bfloat16
from index.retrieval import Embedder
from training import question_sets
from training.reader_data import HELD_OUT_WEEKS
from training.scoring import is_excluded, normalise_answer

ROOT = Path(__file__).resolve().parent.parent

CACHE = ROOT / "benchmarks" / "cache"
SETS = ("news", "squad", "plain-news-tune", "wikinews-tune")  # what tuning and calibration read
REPORT_SETS = ("squad-report", "plain-news-report", "wikinews-report")  # what the reports read: never tuned on


def reader_key(reader: ExtractiveReader) -> str:
    """The weights, the passages and headline read, and the feed-forward layers' precision: what the
    spans depend on."""
    digest = hashlib.sha256(Path(reader.weights).read_bytes()).hexdigest()[:12]
    precision = "-bf16" if reader.bfloat16 and has_bfloat16() else ""
    return f"{digest}-p{reader.passages}-h{reader.headline_chars}{precision}"


def proposals(
    name: str, reader: ExtractiveReader | None = None, models: dict | None = None, headline_chars: int | None = None
) -> list[dict]:
    """[{"kind", "question", "gold", "spans"}] for every question of a set, read once and cached
    (by `reader`, or the bundled network reading `headline_chars` of each headline: None, as shipped)."""
    if headline_chars is None:
        headline_chars = Calibration.load().headline_chars
    reader = reader or ExtractiveReader(calibration=Calibration(), headline_chars=headline_chars)
    path = CACHE / "proposals" / f"{name}-{reader_key(reader)}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    models = models or {"embedder": Embedder(), "reader": reader, "chunker": Chunker()}
    if name not in (*SETS, *REPORT_SETS):
        raise ValueError(f"no question set {name!r}")
    if name == "news":
        records = _news(reader, models)
    elif name.startswith(("plain-news-", "wikinews-")):
        records = _people(name, reader, models)
    else:
        records = _squad(name, reader, models)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(records))
    partial.replace(path)
    return records


def _news(reader: ExtractiveReader, models: dict) -> list[dict]:
    articles, questions = question_sets.load("2024")
    weeks = sorted({q["week"] for q in questions})[-HELD_OUT_WEEKS:]
    records = []
    for week in weeks:
        records_of_week = question_sets.week_records(articles, questions, week)
        library = question_sets.week_library("2024", week, records_of_week, CACHE / "realtimeqa", models)
        for q in (q for q in questions if q["week"] == week):
            if is_excluded(q["question"]):
                continue
            text = library.check_question(q["question"])
            hits = library.search(text, as_of=q["date"])
            records.append(
                {"kind": "news", "question": text, "gold": q["answers"], "spans": reader.propose(text, hits)}
            )
        print(f"[proposals] news week {week}: {len(records)} questions", file=sys.stderr)
    return records


def _squad(name: str, reader: ExtractiveReader, models: dict) -> list[dict]:
    half = "report" if name == "squad-report" else "calibration"
    articles, questions = question_sets.held_out(half)
    library = question_sets.half_library(half, articles, CACHE / "squad-news", models)

    def labelled(q: dict) -> dict:
        return {"kind": "plain" if q["answers"] else "unanswerable", "title": q["title"]}

    return _read_all(name, library, questions, reader, labelled, every=250)


def _read_all(name: str, library, questions: list[dict], reader: ExtractiveReader, labelled, every: int) -> list[dict]:
    """Each question asked through the library's search, the network's spans kept with its gold answers
    and the fields `labelled(question)` gives."""
    records = []
    for number, q in enumerate(questions, start=1):
        text = library.check_question(q["question"])
        hits = library.search(text)
        records.append({**labelled(q), "question": text, "gold": q["answers"], "spans": reader.propose(text, hits)})
        if number % every == 0:
            print(f"[proposals] {name} {number}/{len(questions)}", file=sys.stderr)
    return records


def kind_of(question: dict) -> str:
    """What calibration calls a people's-news question: `wikinews` (QAMR over held-out Wikinews), or from
    the plain-news set `people` (answerable) and `people-unanswerable`."""
    if question["kind"] == "wikinews":
        return "wikinews"
    return "people" if question["answers"] else "people-unanswerable"


def _people(name: str, reader: ExtractiveReader, models: dict) -> list[dict]:
    set_name, split = name.rsplit("-", 1)
    articles, questions = question_sets.articles_and_questions(set_name, split)
    library = question_sets.set_library(set_name, split, articles, CACHE / "plain-news", models)

    def labelled(q: dict) -> dict:
        return {"kind": kind_of(q), "question_kind": q["kind"]}

    return _read_all(name, library, questions, reader, labelled, every=100)


def right(guess: str, golds: list[str]) -> float:
    """1.0 when the guess equals a gold answer after SQuAD normalisation (never for no gold)."""
    norm = normalise_answer(guess)
    return float(bool(norm) and any(norm == normalise_answer(g) for g in golds))


if __name__ == "__main__":
    for name in sys.argv[1:] or SETS:
        print(f"{name}: {len(proposals(name))} questions")
