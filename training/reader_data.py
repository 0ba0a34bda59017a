"""The reader's training data, read from ../shared/data and never copied into the project: SQuAD's
titles split into train / calibration / report parts, the RealTime QA news pairs, and their
tokenised windows."""

from __future__ import annotations

import gzip
import json
import math
import random
import re
import sys
from pathlib import Path

from tqdm import tqdm

from index.reader.network import encode_pairs
from training.scoring import is_excluded, normalise_answer

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
CALIBRATION_TRAIN_TITLES = 30  # SQuAD training titles held back for calibration's plain questions
HELD_OUT_WEEKS = 6  # the last weeks of 2024
SPLIT_SEED = 13  # which SQuAD training titles are held back: fixed, so every run leaves out the same ones
_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"[a-z0-9]+")
STOP = set(
    "a an the of to in on for and or but is are was were be been by with at from as that this it its which who whom "
    "what when where why how did do does has have had will would can could not no than then there their they he she "
    "his her him we you your our i me my about after before into over under up down out new said says say also "
    "according".split()
)


def passages_of(text: str, max_words: int = 80) -> list[str]:
    """The article cut like the product cuts it: whole sentences of one paragraph run, ≤ max_words."""
    out = []
    for paragraph in text.split("\n"):
        run, words = [], 0
        for sentence in _SENTENCE.split(paragraph.strip()):
            if not sentence:
                continue
            count = len(sentence.split())
            if run and words + count > max_words:
                out.append(" ".join(run))
                run, words = [], 0
            run.append(sentence)
            words += count
        if run:
            out.append(" ".join(run))
    return [p for p in out if len(p.split()) >= 5]


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in STOP}


def find_answer(passage: str, answer: str) -> int:
    at = passage.find(answer)
    return at if at >= 0 else passage.lower().find(answer.lower())


# -- data -------------------------------------------------------------------------------------


def squad_rows(name: str) -> list[tuple[str, str, dict]]:
    """(title, paragraph, question) of one SQuAD file, each question id once."""
    path = DATA / "squad" / name
    if not path.exists():
        sys.exit(f"SQuAD data not found at {path}; this script needs ../shared/data/squad/")
    seen, rows = set(), []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for paragraph in map(json.loads, lines):
            for qa in paragraph["qas"]:
                if qa["id"] in seen:
                    continue
                seen.add(qa["id"])
                rows.append((paragraph["title"], paragraph["context"], qa))
    return rows


def answer_start(context: str, answer: str, question: str) -> int:
    """Where the answer stands in its paragraph: of several occurrences, the one with most of the
    question's words within 150 characters (SQuAD gives no offsets; 9,438 training answers occur
    twice or more); -1 where it is absent."""
    starts, at = [], find_answer(context, answer)
    while at >= 0:
        starts.append(at)
        found = context.find(answer, at + 1)
        at = found if found >= 0 else -1
    if len(starts) <= 1:
        return starts[0] if starts else -1
    words = content_words(question)

    def near(start: int) -> int:
        return len(words & content_words(context[max(0, start - 150) : start + len(answer) + 150]))

    return max(starts, key=lambda start: (near(start), -start))


def squad_split() -> dict[str, list[dict]]:
    """SQuAD's questions in three parts that never share a title (fixed, not seeded by a run):

    - `report`: the odd-indexed of the 48 dev titles sorted by name: never trained, tuned or
      calibrated on; the held-out reading set every SQuAD figure is reported on.
    - `calibration`: every other even-indexed dev title (index 2, 6, 10, ...) with its SQuAD 2.0
      unanswerable questions, and `CALIBRATION_TRAIN_TITLES` titles of the training file held back
      from training (its answerable plain questions): what calibration and tuning fit on.
    - `train`: the training file's other titles and the remaining even dev titles (0, 4, 8, ...),
      whose unanswerable questions are the training negatives.
    Each example: question, title, text and answers; an answerable one also start and answer."""
    dev = squad_rows("squad-dev.jsonl.gz")
    titles = sorted({title for title, _, _ in dev})
    report, even = set(titles[1::2]), titles[0::2]
    calibration_dev = set(even[1::2])
    train_rows = squad_rows("squad-train.jsonl.gz")
    train_titles = sorted({title for title, _, _ in train_rows})
    held = set(random.Random(SPLIT_SEED).sample(train_titles, CALIBRATION_TRAIN_TITLES))
    parts: dict[str, list[dict]] = {"train": [], "calibration": [], "report": []}
    for title, context, qa in dev + train_rows:
        if title in report:
            part = "report"
        elif title in calibration_dev or title in held:
            part = "calibration"
        else:
            part = "train"
        example = {
            "id": qa["id"],
            "question": qa["question"],
            "title": title,
            "text": context,
            "answers": qa["answers"],
        }
        if qa["answers"]:
            answer = qa["answers"][0]
            example["start"] = answer_start(context, answer, qa["question"])
            if example["start"] < 0:
                continue
            example["answer"] = context[example["start"] : example["start"] + len(answer)]
        parts[part].append(example)
    return parts


def without_titles(examples: list[dict], share: float, rng: random.Random) -> list[dict]:
    """The examples with the title dropped from `share` of them (chosen by `rng`): the product reads
    passages without their headline (`reader.json`'s headline_chars), so training can read them so too."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the share of titles dropped must be between 0 and 1, not {share}")
    return [dict(e, title="") if e.get("title") and rng.random() < share else e for e in examples]


def news_questions(year: str) -> list[tuple[dict, list[tuple[str, str]]]]:
    """Each question of a year with the (headline, passage) pairs of its articles."""
    folder = DATA / "realtimeqa" / year
    if not folder.exists():
        sys.exit(f"RealTime QA data not found at {folder}; this script needs ../shared/data/realtimeqa/")
    with gzip.open(folder / "articles.jsonl.gz", "rt", encoding="utf-8") as lines:
        articles = {r["id"]: r for r in map(json.loads, lines)}
    cut: dict[str, list[tuple[str, str]]] = {}
    out = []
    with gzip.open(folder / "questions.jsonl.gz", "rt", encoding="utf-8") as lines:
        for question in map(json.loads, lines):
            if is_excluded(question["question"]) or not question["articles"]:
                continue
            passages = []
            for article_id in question["articles"]:
                if article_id not in articles:
                    continue
                if article_id not in cut:
                    record = articles[article_id]
                    cut[article_id] = [(record.get("title") or "", p) for p in passages_of(record.get("text") or "")]
                passages.extend(cut[article_id])
            out.append((question, passages))
    return out


def rank_passages(question: str, passages: list[tuple[str, str]]) -> list[int]:
    """Passages by idf-weighted share of the question's words (a cheap stand-in for retrieval)."""
    words = content_words(question)
    bags = [content_words(f"{t} {p}") for t, p in passages]
    df = {w: sum(1 for b in bags if w in b) for w in words}
    n = len(bags) + 1
    scores = [sum(math.log(n / (1 + df[w])) + 1 for w in words if w in b) for b in bags]
    return sorted(range(len(passages)), key=lambda i: -scores[i])


class WeekPool:
    """Every passage of one week's articles, with an inverted index of their words: where the
    product's search finds the passages that compete with the right one (other stories of the week)."""

    def __init__(self, passages: list[tuple[str, str]]) -> None:
        self.passages = passages
        self.postings: dict[str, list[int]] = {}
        for i, (title, passage) in enumerate(passages):
            for word in content_words(f"{title} {passage}"):
                self.postings.setdefault(word, []).append(i)

    def ranked(self, question: str, top: int) -> list[tuple[str, str]]:
        n = len(self.passages) + 1
        scores: dict[int, float] = {}
        for word in content_words(question):
            hits = self.postings.get(word, ())
            weight = math.log(n / (1 + len(hits))) + 1
            for i in hits:
                scores[i] = scores.get(i, 0.0) + weight
        return [self.passages[i] for i in sorted(scores, key=lambda i: (-scores[i], i))[:top]]


def week_pools(items) -> dict[str, WeekPool]:
    by_week: dict[str, dict[tuple[str, str], None]] = {}
    for question, passages in items:
        by_week.setdefault(question["week"], {}).update(dict.fromkeys(passages))
    return {week: WeekPool(list(passages)) for week, passages in by_week.items()}


def news_examples(
    items, rng: random.Random, positives: int = 2, negatives: int = 3, week_negatives: int = 0
) -> list[dict]:
    """Distant-labelled news windows: passages holding a gold answer, the question's own passages that
    share most words with it but lack the answer, and (`week_negatives`) the best-matching passages of
    the week's other stories that lack it."""
    examples = []
    pools = week_pools(items) if week_negatives else {}
    for question, passages in items:
        text = question["question"]
        order = rank_passages(text, passages)
        golds = [g for g in question["answers"] if normalise_answer(g)]
        pos, neg = [], []
        for i in order:
            title, passage = passages[i]
            normalised = f" {normalise_answer(passage)} "
            if any(f" {normalise_answer(g)} " in normalised for g in golds):
                for gold in golds:
                    at = find_answer(passage, gold)
                    if at >= 0 and len(pos) < positives:
                        pos.append(
                            {"title": title, "text": passage, "start": at, "answer": passage[at : at + len(gold)]}
                        )
                        break
            elif len(neg) < negatives:
                neg.append({"title": title, "text": passage})
        if len(order) > 20 and rng.random() < 0.5:
            title, passage = passages[rng.choice(order[20:])]
            if not any(f" {normalise_answer(g)} " in f" {normalise_answer(passage)} " for g in golds):
                neg.append({"title": title, "text": passage})
        if not pos:
            neg = neg[:2]
        elif week_negatives:
            own = set(passages)
            others = [
                (title, passage)
                for title, passage in pools[question["week"]].ranked(text, 4 * week_negatives + len(own))
                if (title, passage) not in own
                and not any(f" {normalise_answer(g)} " in f" {normalise_answer(passage)} " for g in golds)
            ]
            neg += [{"title": title, "text": passage} for title, passage in others[:week_negatives]]
        for example in pos + neg:
            example["question"] = text
            example["group"] = question.get("id") or text
            examples.append(example)
    return examples


def news_split() -> tuple[list, list]:
    """RealTime QA questions with their passages: 2022, 2023 and 2024 but its last
    `HELD_OUT_WEEKS` weeks to train on, those weeks to validate on. 2025 is never read here."""
    news = news_questions("2022") + news_questions("2023")
    news_2024 = news_questions("2024")
    held_weeks = set(sorted({q["week"] for q, _ in news_2024})[-HELD_OUT_WEEKS:])
    news += [item for item in news_2024 if item[0]["week"] not in held_weeks]
    return news, [item for item in news_2024 if item[0]["week"] in held_weeks]


def featurise(tokenizer, examples: list[dict], max_length: int, stride: int) -> list[dict]:
    """Token windows with their labels: the answer's first/last token, or [CLS] (0) and relevance 0."""
    features = []
    for at in tqdm(range(0, len(examples), 256), desc="tokenising", unit_scale=256, leave=False):
        chunk = examples[at : at + 256]
        windows = encode_pairs(tokenizer, [(e["question"], e["title"], e["text"]) for e in chunk], max_length, stride)
        for row, item in enumerate(windows.passage):
            example = chunk[item]
            length = int(windows.attention_mask[row].sum())
            start_token = end_token = 0
            offsets = windows.offsets[row]
            inside = [i for i, o in enumerate(offsets) if o is not None]
            if not inside:
                continue
            if "start" in example:
                a, b = example["start"], example["start"] + len(example["answer"])
                if offsets[inside[0]][0] <= a and offsets[inside[-1]][1] >= b:
                    start_token = next(i for i in inside if offsets[i][1] > a)
                    end_token = max(i for i in inside if offsets[i][0] < b)
            features.append(
                {
                    "ids": windows.input_ids[row, :length].tolist(),
                    "types": windows.token_type_ids[row, :length].tolist(),
                    "start": start_token,
                    "end": end_token,
                    "context": (inside[0], inside[-1] + 1),
                    "group": example.get("group"),
                }
            )
    return features
