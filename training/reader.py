"""Train the extractive reader (index/reader/network.py) from the bundled MiniLM weights.

    python -m training.reader [--steps 2000] [--batch 16] [--work ~/.cache/newsbot/reader]
    python -m training.reader --export            # best checkpoint -> index/weights/reader.safetensors
    python -m training.reader --evaluate WEIGHTS --squad-valid 0   # validation numbers only

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
import hashlib
import json
import random
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from index.reader.calibration import WEIGHTS_FILE as WEIGHTS
from index.reader.calibration import Calibration
from index.reader.network import as_shipped, build_net, has_bfloat16, load_trained
from training import news_qa
from training.mix import add_mix_arguments, mixed
from training.reader_data import SPLIT_SEED, featurise, news_examples, news_split, squad_split, without_titles
from training.reader_steps import (
    batches,
    collate,
    freeze_embeddings,
    group_batches,
    listwise_loss,
    question_groups,
    save_net,
    trained_state,
    validate,
)


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
        "--news-repeat",
        type=int,
        default=1,
        help="each news example this many times in an epoch (news is otherwise about 1 window in 10)",
    )
    parser.add_argument(
        "--drop-titles",
        type=float,
        default=0.0,
        help="share of examples read without their title or headline (1: all, as the product reads since 2026-12-07)",
    )
    add_mix_arguments(parser)
    parser.add_argument(
        "--wikinews-valid",
        type=int,
        default=0,
        help="also validate on this many held-out Wikinews questions (training.news_qa's held documents)",
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
        "--as-shipped",
        action="store_true",
        help="with --evaluate: read as the product reads (index.reader.as_shipped, and only as much of each title as"
        " the shipped calibration's headline_chars)",
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
    wikinews_valid = []
    if args.wikinews_valid:
        held = [e for e in news_qa.examples("held", seed=SPLIT_SEED) if "start" in e]
        wikinews_valid = random.Random(SPLIT_SEED).sample(held, min(args.wikinews_valid, len(held)))
    held_weeks = {question["week"] for question, _ in news_valid}
    if args.evaluate:
        load_trained(net, args.evaluate)
        headline_chars = None
        if args.as_shipped:
            net = as_shipped(net.eval())
            headline_chars = Calibration.load().headline_chars
        result = validate(
            net, tokenizer, squad_valid, news_valid, args.device, args.max_length, headline_chars, wikinews_valid
        )
        answerable = sum(1 for e in squad_valid if e["answers"])
        print(
            f"{args.evaluate}: {answerable} answerable held-out SQuAD questions, {len(news_valid)} held-out news "
            "questions: " + " ".join(f"{k} {v:.1f}" for k, v in result.items())
        )
        return
    if args.news_repeat < 1:
        sys.exit("--news-repeat must be at least 1")
    read_titles = 0 if args.drop_titles == 1 else None  # validate as it trains: without titles when all dropped
    news_part = news_examples(news, random.Random(args.seed), week_negatives=args.week_negatives)
    squad_train, news_part, people = mixed(squad_train, news_part, args, args.seed)
    examples = without_titles(
        squad_train + news_part * args.news_repeat + people, args.drop_titles, random.Random(args.seed)
    )
    keyed = [args.seed, args.max_length, len(examples), examples[-1]] + ([args.drop_titles] if args.drop_titles else [])
    key = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:12]
    cache = args.work / f"features-{key}.pt"
    if cache.exists():
        features = torch.load(cache)
    else:
        features = featurise(tokenizer, examples, args.max_length, 64)
        torch.save(features, cache)
    positives = sum(1 for f in features if f["start"])
    print(
        f"{len(squad_train):,} SQuAD, {len(news_part) * args.news_repeat:,} quiz news and {len(people):,} Wikinews "
        f"examples -> {len(features):,} "
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
            result = validate(
                net, tokenizer, squad_valid, news_valid, args.device, args.max_length, read_titles, wikinews_valid
            )
            score = result["squad_f1"] + result["news_em"] * 2 + result.get("wikinews_f1", 0.0)
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
