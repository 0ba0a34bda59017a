"""The reader's training steps: its trained part saved and frozen, batches of windows, the
listwise term, and validation on held-out questions (used by `training.reader` and `training.packed`)."""

from __future__ import annotations

import math
import random
from pathlib import Path

import torch

from index.reader.network import FROZEN, ReaderNet, best_spans, encode_pairs
from training.reader_data import rank_passages
from training.scoring import f1, normalise_answer


def trained_state(net: ReaderNet) -> dict[str, torch.Tensor]:
    """Every tensor training may change: all but the frozen embedding tables (read from MiniLM)."""
    return {k: v for k, v in net.state_dict().items() if not k.startswith(FROZEN)}


def freeze_embeddings(net: ReaderNet) -> None:
    for name, parameter in net.named_parameters():
        if name.startswith(FROZEN):
            parameter.requires_grad_(False)


def save_net(net: ReaderNet, path: Path, meta: dict[str, str]) -> None:
    """The trained part in float16 safetensors (what `index.reader.load_trained` reads)."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in trained_state(net).items()}
    partial = path.with_suffix(".partial")
    save_file(state, str(partial), metadata=meta)
    partial.replace(path)


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
    answer, which, _ = read_with_margin(net, tokenizer, question, passages, device, max_length)
    return answer, which


@torch.no_grad()
def read_with_margin(net, tokenizer, question: str, passages: list[tuple[str, str]], device: str, max_length: int):
    """(answer, passage index, the answer's span margin over "no answer") as `read` chooses it."""
    windows = encode_pairs(tokenizer, [(question, t, p) for t, p in passages], max_length, 64)
    start, end, relevance = net(
        windows.input_ids.to(device), windows.attention_mask.to(device), windows.token_type_ids.to(device)
    )
    start, end, relevance = start.float().cpu(), end.float().cpu(), relevance.float().cpu()
    best = (-math.inf, "", -1, -math.inf)
    for row in range(len(windows.passage)):
        spans = best_spans(start, end, windows, row, top=1)
        if not spans:
            continue
        margin = spans[0].score - float(start[row, 0] + end[row, 0])
        value = float(relevance[row]) + margin
        if value > best[0]:
            text = passages[windows.passage[row]][1]
            best = (value, text[spans[0].start : spans[0].end], windows.passage[row], margin)
    return best[1], best[2], best[3]


def validate(
    net, tokenizer, squad_valid, news_valid, device: str, max_length: int, headline_chars=None, wikinews_valid=()
) -> dict:
    """SQuAD EM/F1 (gold paragraph given) and news EM/evidence (the 12 passages ranked first);
    `headline_chars`: how much of each title or headline is read (None: all of it, as in training).
    `wikinews_valid` (training.news_qa's held questions): EM/F1 with the gold passage given, and the
    median margin of the answer over "no answer" (news read as unanswerable shows as a low margin)."""
    net.eval()

    def shown(title: str) -> str:
        return title if headline_chars is None else title[:headline_chars]

    em = f1s = n = 0
    for example in squad_valid:
        if not example["answers"]:
            continue
        answer, _ = read(
            net, tokenizer, example["question"], [(shown(example["title"]), example["text"])], device, max_length
        )
        em += max(normalise_answer(answer) == normalise_answer(g) for g in example["answers"])
        f1s += max(f1(answer, g) for g in example["answers"])
        n += 1
    result = {"squad_em": 100 * em / max(n, 1), "squad_f1": 100 * f1s / max(n, 1)}
    em = evidence = 0
    for question, passages in news_valid:
        order = rank_passages(question["question"], passages)[:12]
        chosen = [(shown(passages[i][0]), passages[i][1]) for i in order]
        answer, which = read(net, tokenizer, question["question"], chosen, device, max_length)
        golds = question["answers"]
        em += max(normalise_answer(answer) == normalise_answer(g) for g in golds)
        quote = f" {normalise_answer(chosen[which][1])} " if which >= 0 else ""
        evidence += any(f" {normalise_answer(g)} " in quote for g in golds if normalise_answer(g))
    m = max(len(news_valid), 1)
    result.update(news_em=100 * em / m, news_evidence=100 * evidence / m)
    if wikinews_valid:
        em = f1s = 0
        margins = []
        for example in wikinews_valid:
            answer, _, margin = read_with_margin(
                net, tokenizer, example["question"], [("", example["text"])], device, max_length
            )
            em += normalise_answer(answer) == normalise_answer(example["answer"])
            f1s += f1(answer, example["answer"])
            margins.append(margin)
        k = len(wikinews_valid)
        result.update(wikinews_em=100 * em / k, wikinews_f1=100 * f1s / k, wikinews_margin=sorted(margins)[k // 2])
    net.train()
    return result


# -- training -----------------------------------------------------------------------------------
