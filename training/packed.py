"""Train the reader on a GPU lent for minutes: pack here, train there from the pack, join here.

    python -m training.packed pack [--pack .reader-pack]            # here, once (minutes)
    python -m training.packed train --pack .reader-pack --device cuda --out DIR [--minutes 7]
    python -m training.packed join DIR --out ~/.cache/newsbot/gpu/best.safetensors

`pack` writes, into one git-ignored folder, what a run needs beyond the tracked files: the
training windows of `training.reader` already tokenised (SQuAD's training part, see
`training.reader_data.squad_split`, and the 2022-2024 news pairs), a sample of calibration windows to
watch, the frozen MiniLM embeddings in float16 for only the vocabulary rows those windows use,
and MiniLM's own encoder weights, matrices in int8 with a scale a row (a run "from scratch" starts
there). Nothing else: the run needs
torch, numpy and safetensors, not the MiniLM package, the tokenizer or the shared data.

`train` reads the pack, trains for `--epochs` (fewer where `--minutes` would be overrun: over steps
300-600 it measures its pace and shortens the schedule so warm-up and decay still complete), with
bfloat16 autocast (`--bfloat16`, on by default on CUDA and on a CPU with bfloat16 instructions),
and writes the trained part in float16 as two shards of at most 11 MB (`reader-1.safetensors`,
`reader-2.safetensors`) to `--out`: at the end and every `--save-minutes`. `--init WEIGHTS` starts
from trained weights instead of MiniLM.

`join` makes one weights file (what `python -m training.reader --evaluate` and the product read) of the shards.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from pathlib import Path

import numpy as np
import torch

from index.backbone import Bert, BertShape
from index.reader.network import FROZEN, ReaderNet, has_bfloat16
from training.mix import add_mix_arguments
from training.pack import PACE_FROM, PACE_OVER, PACK, SHARDS, from_int8_rows, pack


class Windows:
    """A pack's windows on the device, padded to the longest; a batch is cut to its own longest."""

    def __init__(self, path: Path, device: str) -> None:
        arrays = np.load(path)
        lengths = arrays["lengths"].astype(np.int64)
        self.count, width = len(lengths), int(lengths.max())
        ids = np.zeros((self.count, width), dtype=np.int64)
        flat = arrays["ids"].astype(np.int64)
        positions = np.arange(width)
        mask = positions[None, :] < lengths[:, None]
        ids[mask] = flat
        types = (positions[None, :] >= arrays["second"][:, None]) & mask
        blocked = ~((positions[None, :] >= arrays["context"][:, :1]) & (positions[None, :] < arrays["context"][:, 1:]))
        blocked[:, 0] = False  # [CLS] stands for "no answer here"
        if lengths.sum() != len(flat):
            raise ValueError(f"{path}: the windows' lengths do not add up to their tokens")
        self.lengths = lengths
        self.ids = torch.from_numpy(ids).to(device)
        self.mask = torch.from_numpy(mask.astype(np.int64)).to(device)
        self.types = torch.from_numpy(types.astype(np.int64)).to(device)
        self.blocked = torch.from_numpy(blocked).to(device)
        self.start = torch.from_numpy(arrays["start"].astype(np.int64)).to(device)
        self.end = torch.from_numpy(arrays["end"].astype(np.int64)).to(device)

    def batch(self, rows: list[int]):
        width = int(self.lengths[rows].max())
        index = torch.tensor(rows, device=self.ids.device)
        cut = (slice(None), slice(0, width))
        return (
            self.ids[index][cut],
            self.mask[index][cut],
            self.types[index][cut],
            self.start[index],
            self.end[index],
            self.blocked[index][cut],
        )


def length_batches(lengths: np.ndarray, batch: int, seed: int, epoch: int) -> list[list[int]]:
    """One epoch in length-bucketed batches (windows of like length together), in a seeded order."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    groups = []
    for at in range(0, len(order), batch * 50):
        chunk = sorted(order[at : at + batch * 50], key=lambda i: lengths[i])
        groups.extend(chunk[j : j + batch] for j in range(0, len(chunk), batch))
    rng.shuffle(groups)
    return groups


def packed_net(folder: Path, init: Path | None) -> ReaderNet:
    """The reader network over the pack's vocabulary: MiniLM's encoder (or `init`'s trained weights)
    and the pack's frozen embeddings."""
    from safetensors.torch import load_file

    net = ReaderNet(Bert(BertShape.read(folder)))
    state = {k: v.float() for k, v in load_file(str(folder / "embeddings.safetensors")).items()}
    state.update(from_int8_rows(load_file(str(init or folder / "minilm.safetensors"))))
    missing, unexpected = net.load_state_dict(state, strict=False)
    heads = ("span.", "relevance.")  # new heads start untrained from MiniLM; trained weights carry them
    if unexpected or any(init is not None or not k.startswith(heads) for k in missing):
        raise ValueError(f"the pack does not fit the network: missing {missing[:3]}, unexpected {unexpected[:3]}")
    for name, parameter in net.named_parameters():
        if name.startswith(FROZEN):
            parameter.requires_grad_(False)
    return net


def save_shards(net: ReaderNet, out: Path, meta: dict[str, str]) -> None:
    """The trained part (all but the frozen embeddings) in float16, layers 3 and up in the second shard."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to(torch.float16).contiguous().cpu()
        for k, v in net.state_dict().items()
        if not k.startswith(FROZEN)
    }
    later = {k for k in state if k.startswith("bert.encoder.layer.") and int(k.split(".")[3]) >= 3}
    for name, keys in zip(SHARDS, (set(state) - later, later), strict=True):
        partial = out / f"{name}.partial"
        save_file({k: state[k] for k in sorted(keys)}, str(partial), metadata=meta)
        partial.replace(out / name)


@torch.no_grad()
def watch(net: ReaderNet, windows: Windows, device: str, bfloat16: bool) -> dict[str, float]:
    """Span exactly right (start and end token), answerable and not, over the watched windows."""
    net.eval()
    right = answerable = abstained = unanswerable = 0
    for at in range(0, windows.count, 128):
        ids, mask, types, start_gold, end_gold, blocked = windows.batch(list(range(at, min(at + 128, windows.count))))
        with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=bfloat16):
            start, end, _ = net(ids, mask, types)
        start = start.float().masked_fill(blocked, -1e4).argmax(-1)
        end = end.float().masked_fill(blocked, -1e4).argmax(-1)
        has = start_gold > 0
        right += int(((start == start_gold) & (end == end_gold) & has).sum())
        answerable += int(has.sum())
        abstained += int(((start == 0) & ~has).sum())
        unanswerable += int((~has).sum())
    net.train()
    return {"span_exact": 100 * right / max(answerable, 1), "no_answer_kept": 100 * abstained / max(unanswerable, 1)}


def train(args: argparse.Namespace) -> None:
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = args.device
    bfloat16 = args.bfloat16 if args.bfloat16 is not None else device.startswith("cuda") or has_bfloat16()
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.time()
    net = packed_net(args.pack, args.init).to(device)
    data = Windows(args.pack / "train.npz", device)
    watched = Windows(args.pack / "watched.npz", device)
    per_epoch = math.ceil(data.count / args.batch)
    plan = {"total": args.steps or int(args.epochs * per_epoch)}
    print(
        f"{data.count:,} windows, {per_epoch:,} steps an epoch of {args.batch}; plan {plan['total']:,} steps on "
        f"{device}{' in bfloat16' if bfloat16 else ''}; loaded in {time.time() - started:.1f} s",
        flush=True,
    )
    decay = [p for n, p in net.named_parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for n, p in net.named_parameters() if p.requires_grad and p.ndim <= 1]
    optimiser = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr
    )

    def factor(step: int) -> float:
        warmup = max(1, int(plan["total"] * args.warmup))
        return min((step + 1) / warmup, max(0.0, (plan["total"] - step) / max(1, plan["total"] - warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, factor)
    meta = {"lr": str(args.lr), "batch": str(args.batch), "seed": str(args.seed), "init": str(args.init or "MiniLM")}
    ce = torch.nn.CrossEntropyLoss()
    bce = torch.nn.BCEWithLogitsLoss()
    kind = device.split(":")[0]
    step, epoch, running = 0, 0, None
    began = last_save = time.time()
    paced_from = began
    net.train()
    while step < plan["total"]:
        for rows in length_batches(data.lengths, args.batch, args.seed, epoch):
            if step >= plan["total"]:
                break
            ids, mask, types, start_gold, end_gold, blocked = data.batch(rows)
            with torch.autocast(device_type=kind, dtype=torch.bfloat16, enabled=bfloat16):
                start, end, relevance = net(ids, mask, types)
            start = start.float().masked_fill(blocked, -1e4)
            end = end.float().masked_fill(blocked, -1e4)
            loss = (ce(start, start_gold) + ce(end, end_gold)) / 2 + bce(relevance.float(), (start_gold > 0).float())
            loss.backward()
            torch.nn.utils.clip_grad_norm_(decay + no_decay, 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad(set_to_none=True)
            step += 1
            if step % 50 == 0:
                value = float(loss.detach())
                running = value if running is None else 0.9 * running + 0.1 * value
            if step == PACE_FROM:
                paced_from = time.time()
            if step == PACE_FROM + PACE_OVER and args.minutes:
                pace = (time.time() - paced_from) / PACE_OVER
                fits = int((args.minutes * 60 - (time.time() - started)) / pace) + step
                if fits < plan["total"]:
                    print(f"{pace * 1000:.0f} ms a step: the plan cut from {plan['total']:,} to {fits:,}", flush=True)
                    plan["total"] = fits
            if args.report_every and (step % args.report_every == 0 or step == plan["total"]):
                seen = watch(net, watched, device, bfloat16)
                rate = (time.time() - began) / step
                shown = running if running is not None else float(loss.detach())
                print(
                    f"step {step:,}/{plan['total']:,} epoch {step / per_epoch:.2f} loss {shown:.3f} "
                    f"lr {schedule.get_last_lr()[0]:.2e} watched span exact {seen['span_exact']:.1f} no-answer "
                    f"kept {seen['no_answer_kept']:.1f}; {rate * 1000:.0f} ms a step, {rate * 1000:.0f} s "
                    "per 1,000 steps",
                    flush=True,
                )
            if args.save_minutes and time.time() - last_save > args.save_minutes * 60:
                save_shards(net, args.out, {**meta, "step": str(step)})
                last_save = time.time()
        epoch += 1
    save_shards(net, args.out, {**meta, "step": str(step), "final": "yes"})
    spent = time.time() - began
    print(
        f"done: {step:,} steps ({step / per_epoch:.2f} epochs) in {spent / 60:.1f} min, "
        f"{1000 * spent / max(step, 1):,.0f} s per 1,000 steps",
        flush=True,
    )


# -- join (here) ----------------------------------------------------------------------------------


def join(folder: Path, out: Path) -> None:
    """One weights file of a run's shards (what `index.reader.load_trained` reads)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    state, meta = {}, {}
    for name in SHARDS:
        with safe_open(str(folder / name), framework="pt") as shard:
            meta = shard.metadata() or {}
            state.update({key: shard.get_tensor(key) for key in shard.keys()})  # noqa: SIM118
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out), metadata=meta)
    print(f"{folder} -> {out} ({out.stat().st_size / 1e6:.1f} MB, step {meta.get('step')})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    packing = commands.add_parser("pack", help="write the pack (here; needs ../shared/data and the MiniLM package)")
    packing.add_argument("--pack", type=Path, default=PACK)
    packing.add_argument("--seed", type=int, default=13)
    packing.add_argument("--max-length", type=int, default=192)
    packing.add_argument("--week-negatives", type=int, default=0)
    packing.add_argument(
        "--drop-titles",
        type=float,
        default=0.0,
        help="share of examples read without their title or headline (1: all, as the product reads since 2026-12-07)",
    )
    add_mix_arguments(packing)
    training = commands.add_parser("train", help="train from a pack (there)")
    training.add_argument("--pack", type=Path, default=PACK)
    training.add_argument("--out", type=Path, required=True, help="folder for the two weight shards")
    training.add_argument("--device", default="cpu")
    training.add_argument("--init", type=Path, help="start from these trained weights instead of MiniLM")
    training.add_argument("--epochs", type=float, default=2.0)
    training.add_argument("--steps", type=int, default=0, help="a fixed step count instead of --epochs")
    training.add_argument("--minutes", type=float, default=0.0, help="shorten the plan to end within this (0: never)")
    training.add_argument("--batch", type=int, default=32)
    training.add_argument("--lr", type=float, default=1e-4)
    training.add_argument("--warmup", type=float, default=0.05, help="share of the steps spent warming up")
    training.add_argument("--seed", type=int, default=13)
    training.add_argument("--bfloat16", action=argparse.BooleanOptionalAction, default=None)
    training.add_argument("--threads", type=int, default=0)
    training.add_argument("--report-every", type=int, default=500, help="steps between watched scores (0: never)")
    training.add_argument("--save-minutes", type=float, default=2.0)
    joining = commands.add_parser("join", help="one weights file of a run's shards (here)")
    joining.add_argument("folder", type=Path)
    joining.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    {"pack": pack, "train": train, "join": lambda a: join(a.folder, a.out)}[args.command](args)


if __name__ == "__main__":
    main()
