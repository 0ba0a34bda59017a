"""Train the extractive reader (index/reader_model.py) from the bundled MiniLM weights.

    python benchmarks/train_reader.py [--steps 2000] [--batch 16] [--work ~/.cache/newsbot/reader]
    python benchmarks/train_reader.py --export            # best checkpoint -> index/weights/reader.safetensors
    python benchmarks/train_reader.py --evaluate WEIGHTS --squad-valid 0   # validation numbers only

The command behind the shipped weights, and their numbers, are in index/weights/README.md.
`--init WEIGHTS` starts a further round from trained weights. The SQuAD titles and news weeks held
out do not depend on --seed.

Data (read from ../shared/data, never copied into the project):
- SQuAD 1.1 + 2.0 dev (`squad/`): paragraphs of all but a seeded handful of held-out Wikipedia
  titles; SQuAD 2.0's unanswerable questions are negatives (span -> [CLS], relevance 0).
- RealTime QA 2022-2024 (`realtimeqa/`): each question's articles cut into passages of at most 80
  words; passages holding the gold answer are positives (distant labels), the passages that share
  most words with the question but lack the answer are hard negatives. `--week-negatives N` adds,
  per answerable question, the N passages of the same week's other stories that match it best and
  lack the answer: the passages the product's search puts beside the right one. The last weeks of
  2024 are held out to pick checkpoints; 2025 is never read here.

Loss: span cross-entropy ([CLS] for "no answer") plus the relevance head's binary cross-entropy,
window by window. `--listwise` makes every other step a batch of whole news questions (each with
its windows that hold the answer and those that do not) and adds a softmax cross-entropy over each
question's relevance scores: the product picks the passage that outranks the others, so that is
what this term trains.

Seeded; a checkpoint every `--save-every` steps in `--work` (outside the work tree), so a rerun
with the same arguments resumes where the last one stopped. Validation EM/F1 (held-out SQuAD
titles, and held-out 2024 news weeks choosing among each question's passages) is printed as it
goes and the best checkpoint kept. On a GPU (the `device` tool, when one is lent) pass
`--device cuda`: the same script, the same data, about a minute a thousand steps.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import random
import re
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.realtimeqa import f1, is_excluded, normalise_answer  # noqa: E402
from index.reader import WEIGHTS_FILE as WEIGHTS  # noqa: E402
from index.reader_model import (  # noqa: E402
    FROZEN,
    ReaderNet,
    as_shipped,  # noqa: E402
    best_spans,
    build_net,
    encode_pairs,
    has_bfloat16,
    load_trained,
)

# -- the network's trained part: what training changes, and how it is saved ------------------------


def trained_state(net: ReaderNet) -> dict[str, torch.Tensor]:
    """Every tensor training may change: all but the frozen embedding tables (read from MiniLM)."""
    return {k: v for k, v in net.state_dict().items() if not k.startswith(FROZEN)}


def freeze_embeddings(net: ReaderNet) -> None:
    for name, parameter in net.named_parameters():
        if name.startswith(FROZEN):
            parameter.requires_grad_(False)


def save_net(net: ReaderNet, path: Path, meta: dict[str, str]) -> None:
    """The trained part in float16 safetensors (what `index.reader_model.load_trained` reads)."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in trained_state(net).items()}
    partial = path.with_suffix(".partial")
    save_file(state, str(partial), metadata=meta)
    partial.replace(path)


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


def batches(features: list[dict], batch: int, seed: int):
    """Length-bucketed batches in a seeded order, forever (epoch after epoch)."""
    epoch = 0
    while True:
        rng = random.Random(seed * 1000 + epoch)
        order = list(range(len(features)))
        rng.shuffle(order)
        groups = []
        for at in range(0, len(order), batch * 50):
            chunk = sorted(order[at : at + batch * 50], key=lambda i: len(features[i]["ids"]))
            groups.extend(chunk[j : j + batch] for j in range(0, len(chunk), batch))
        rng.shuffle(groups)
        yield from groups
        epoch += 1


def question_groups(features: list[dict], most: int = 10) -> list[list[int]]:
    """The windows of each news question (at most `most`), where at least one holds an answer and
    one does not: what a listwise step ranks against each other."""
    groups: dict[str, list[int]] = {}
    for i, feature in enumerate(features):
        if feature.get("group") is not None:
            groups.setdefault(feature["group"], []).append(i)
    return [
        members[:most]
        for members in groups.values()
        if any(features[i]["start"] for i in members) and not all(features[i]["start"] for i in members)
    ]


def group_batches(groups: list[list[int]], per_batch: int, seed: int):
    """Batches of `per_batch` whole question groups in a seeded order, forever."""
    epoch = 0
    while True:
        order = list(range(len(groups)))
        random.Random(seed * 1000 + epoch + 500).shuffle(order)
        for at in range(0, len(order) - per_batch + 1, per_batch):
            yield [i for g in order[at : at + per_batch] for i in groups[g]]
        epoch += 1


def listwise_loss(relevance: torch.Tensor, features: list[dict], indices: list[int]) -> torch.Tensor:
    """Cross-entropy of each question's relevance scores against its windows that hold the answer:
    the right passage must outrank the others of its week, not only score high on its own."""
    losses = []
    members: dict[str, list[int]] = {}
    for row, i in enumerate(indices):
        members.setdefault(features[i]["group"], []).append(row)
    for rows in members.values():
        scores = relevance[rows]
        right = torch.tensor([bool(features[indices[r]]["start"]) for r in rows])
        losses.append(torch.logsumexp(scores, 0) - torch.logsumexp(scores[right], 0))
    return torch.stack(losses).mean()


def collate(features: list[dict], indices: list[int], device: str):
    rows = [features[i] for i in indices]
    width = max(len(r["ids"]) for r in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for i, r in enumerate(rows):
        ids[i, : len(r["ids"])] = torch.tensor(r["ids"])
        types[i, : len(r["types"])] = torch.tensor(r["types"])
        mask[i, : len(r["ids"])] = 1
    start = torch.tensor([r["start"] for r in rows])
    end = torch.tensor([r["end"] for r in rows])
    blocked = torch.ones_like(ids, dtype=torch.bool)  # tokens that cannot be an answer
    for i, r in enumerate(rows):
        blocked[i, r["context"][0] : r["context"][1]] = False
    blocked[:, 0] = False  # [CLS] stands for "no answer here"
    return ids.to(device), mask.to(device), types.to(device), start.to(device), end.to(device), blocked.to(device)


# -- validation ---------------------------------------------------------------------------------


@torch.no_grad()
def read(net, tokenizer, question: str, passages: list[tuple[str, str]], device: str, max_length: int):
    """(answer, passage index) the way the product reads: best relevance + span margin wins."""
    windows = encode_pairs(tokenizer, [(question, t, p) for t, p in passages], max_length, 64)
    start, end, relevance = net(
        windows.input_ids.to(device), windows.attention_mask.to(device), windows.token_type_ids.to(device)
    )
    start, end, relevance = start.float().cpu(), end.float().cpu(), relevance.float().cpu()
    best = (-math.inf, "", -1)
    for row in range(len(windows.passage)):
        spans = best_spans(start, end, windows, row, top=1)
        if not spans:
            continue
        margin = spans[0].score - float(start[row, 0] + end[row, 0])
        value = float(relevance[row]) + margin
        if value > best[0]:
            text = passages[windows.passage[row]][1]
            best = (value, text[spans[0].start : spans[0].end], windows.passage[row])
    return best[1], best[2]


def validate(net, tokenizer, squad_valid, news_valid, device: str, max_length: int) -> dict:
    net.eval()
    em = f1s = n = 0
    for example in squad_valid:
        if not example["answers"]:
            continue
        answer, _ = read(net, tokenizer, example["question"], [(example["title"], example["text"])], device, max_length)
        em += max(normalise_answer(answer) == normalise_answer(g) for g in example["answers"])
        f1s += max(f1(answer, g) for g in example["answers"])
        n += 1
    result = {"squad_em": 100 * em / max(n, 1), "squad_f1": 100 * f1s / max(n, 1)}
    em = evidence = 0
    for question, passages in news_valid:
        order = rank_passages(question["question"], passages)[:12]
        chosen = [passages[i] for i in order]
        answer, which = read(net, tokenizer, question["question"], chosen, device, max_length)
        golds = question["answers"]
        em += max(normalise_answer(answer) == normalise_answer(g) for g in golds)
        quote = f" {normalise_answer(chosen[which][1])} " if which >= 0 else ""
        evidence += any(f" {normalise_answer(g)} " in quote for g in golds if normalise_answer(g))
    m = max(len(news_valid), 1)
    result.update(news_em=100 * em / m, news_evidence=100 * evidence / m)
    net.train()
    return result


# -- training -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=8e-5)
    parser.add_argument("--max-length", type=int, default=192)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument("--validate-every", type=int, default=400)
    parser.add_argument(
        "--squad-valid", type=int, default=400, help="held-out SQuAD questions read per validation (0: all)"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--work", type=Path, default=Path("~/.cache/newsbot/reader").expanduser())
    parser.add_argument(
        "--week-negatives",
        type=int,
        default=0,
        help="per answerable news question, this many passages of the week's other stories that lack the answer",
    )
    parser.add_argument(
        "--listwise",
        action="store_true",
        help="every other step ranks whole news questions' windows against each other (softmax over relevance)",
    )
    parser.add_argument(
        "--bfloat16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bfloat16 autocast (default: on CUDA, and on a CPU with bfloat16 instructions)",
    )
    parser.add_argument("--init", type=Path, help="start from these reader weights (a second round) instead of MiniLM")
    parser.add_argument("--export", action="store_true", help="write the best checkpoint to index/weights and stop")
    parser.add_argument(
        "--evaluate", type=Path, help="only validate these weights, on every held-out SQuAD question (--squad-valid 0)"
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="with --evaluate: on the held-out report titles (SQuAD dev's odd-indexed 24), not the calibration ones",
    )
    parser.add_argument(
        "--as-shipped", action="store_true", help="with --evaluate: read as the product reads (reader_model.as_shipped)"
    )
    args = parser.parse_args()
    bfloat16 = args.bfloat16 if args.bfloat16 is not None else args.device.startswith("cuda") or has_bfloat16()
    if args.threads:
        torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    best_path = args.work / "best.safetensors"
    if args.export:
        if not best_path.exists():
            sys.exit(f"no checkpoint to export at {best_path}; train first")
        WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
        WEIGHTS.write_bytes(best_path.read_bytes())
        print(f"exported {best_path} -> {WEIGHTS} ({WEIGHTS.stat().st_size / 1e6:.1f} MB)")
        return

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    net, tokenizer = build_net()
    if args.init:
        load_trained(net, args.init)
        print(f"starting from {args.init}", flush=True)
    freeze_embeddings(net)
    net.to(args.device)

    parts = squad_split()
    squad_train = parts["train"]
    squad_valid = parts["report" if args.evaluate and args.report else "calibration"]
    if args.squad_valid:
        squad_valid = random.Random(SPLIT_SEED).sample(squad_valid, min(args.squad_valid, len(squad_valid)))
    news, news_valid = news_split()
    held_weeks = {question["week"] for question, _ in news_valid}
    if args.evaluate:
        load_trained(net, args.evaluate)
        if args.as_shipped:
            net = as_shipped(net.eval())
        result = validate(net, tokenizer, squad_valid, news_valid, args.device, args.max_length)
        answerable = sum(1 for e in squad_valid if e["answers"])
        print(
            f"{args.evaluate}: {answerable} answerable held-out SQuAD questions, {len(news_valid)} held-out news "
            "questions: " + " ".join(f"{k} {v:.1f}" for k, v in result.items())
        )
        return
    examples = squad_train + news_examples(news, random.Random(args.seed), week_negatives=args.week_negatives)
    key = hashlib.sha256(
        json.dumps([args.seed, args.max_length, len(examples), examples[-1]], sort_keys=True).encode()
    ).hexdigest()[:12]
    cache = args.work / f"features-{key}.pt"
    if cache.exists():
        features = torch.load(cache)
    else:
        features = featurise(tokenizer, examples, args.max_length, 64)
        torch.save(features, cache)
    positives = sum(1 for f in features if f["start"])
    print(
        f"{len(squad_train):,} SQuAD and {len(examples) - len(squad_train):,} news examples -> {len(features):,} "
        f"windows ({positives:,} with an answer); validating on {len(squad_valid)} SQuAD questions of "
        f"the calibration titles and {len(news_valid)} questions of 2024 weeks {min(held_weeks)}.."
        f"{max(held_weeks)}",
        flush=True,
    )

    parameters = [p for p in net.parameters() if p.requires_grad]
    decay = [p for n, p in net.named_parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for n, p in net.named_parameters() if p.requires_grad and p.ndim <= 1]
    optimiser = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr
    )
    warmup = max(1, args.steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (args.steps - s) / max(1, args.steps - warmup)))
    )
    state_path = args.work / "checkpoint.pt"
    run_args = [args.steps, args.batch, args.lr, args.max_length, args.seed, key, str(args.init), args.listwise]
    step, best = 0, {"score": -1.0}
    if state_path.exists():
        state = torch.load(state_path, weights_only=False)
        if state["args"] == run_args:
            net.load_state_dict(state["net"], strict=False)
            optimiser.load_state_dict(state["optimiser"])
            schedule.load_state_dict(state["schedule"])
            step, best = state["step"], state["best"]
            torch.set_rng_state(state["rng"])
            print(f"resumed at step {step}", flush=True)
        else:
            print("a checkpoint for other arguments is there; starting afresh", flush=True)

    def save() -> None:
        partial = state_path.with_suffix(".partial")
        torch.save(
            {
                "args": run_args,
                "net": trained_state(net),
                "optimiser": optimiser.state_dict(),
                "schedule": schedule.state_dict(),
                "step": step,
                "best": best,
                "rng": torch.get_rng_state(),
            },
            partial,
        )
        partial.replace(state_path)

    stream = batches(features, args.batch, args.seed)
    groups = group_batches(question_groups(features), 2, args.seed) if args.listwise else None

    def next_batch(at: int) -> tuple[list[int], bool]:
        if groups is not None and at % 2 == 1:
            return next(groups), True
        return next(stream), False

    for done in range(step):  # the same order as an uninterrupted run
        next_batch(done)
    net.train()
    bce = torch.nn.BCEWithLogitsLoss()
    ce = torch.nn.CrossEntropyLoss()
    bar = tqdm(total=args.steps, initial=step, desc="training", dynamic_ncols=True, mininterval=10)
    running, started = None, time.time()
    while step < args.steps:
        indices, ranking = next_batch(step)
        ids, mask, types, start_gold, end_gold, blocked = collate(features, indices, args.device)
        with torch.autocast(device_type=args.device.split(":")[0], dtype=torch.bfloat16, enabled=bfloat16):
            start, end, relevance = net(ids, mask, types)
        start = start.float().masked_fill(blocked, -1e4)
        end = end.float().masked_fill(blocked, -1e4)
        loss = (ce(start, start_gold) + ce(end, end_gold)) / 2 + bce(relevance.float(), (start_gold > 0).float())
        if ranking:
            loss = loss + listwise_loss(relevance, features, indices)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad(set_to_none=True)
        step += 1
        running = float(loss) if running is None else 0.98 * running + 0.02 * float(loss)
        bar.update(1)
        bar.set_postfix(loss=f"{running:.3f}")
        if step % args.validate_every == 0 or step == args.steps:
            result = validate(net, tokenizer, squad_valid, news_valid, args.device, args.max_length)
            score = result["squad_f1"] + result["news_em"] * 2
            line = " ".join(f"{k} {v:.1f}" for k, v in result.items())
            mark = ""
            if score > best["score"]:
                best = {"score": score, "step": step, **result}
                save_net(net, best_path, {"step": str(step), **{k: f"{v:.2f}" for k, v in result.items()}})
                mark = " (best)"
            tqdm.write(f"step {step}: {line}{mark}; {(time.time() - started) / 60:.1f} min")
            sys.stdout.flush()
        if step % args.save_every == 0 or step == args.steps:
            save()
    bar.close()
    print(f"done: best step {best.get('step')}: " + " ".join(f"{k} {v}" for k, v in best.items()), flush=True)


if __name__ == "__main__":
    main()
