"""The pack a lent GPU trains from (`python -m training.packed pack`): the tokenised windows, the
frozen embedding rows they use in float16, and MiniLM's encoder with int8 matrices."""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path

import numpy as np
import torch

from index.reader.network import FROZEN

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / ".reader-pack"
SHARDS = ("reader-1.safetensors", "reader-2.safetensors")
PACE_FROM, PACE_OVER = 300, 300  # steps timed to fit the plan in --minutes (after start-up's slow ones)
WATCHED = 2000  # calibration windows whose span accuracy a run prints as it goes


# -- pack (here) ----------------------------------------------------------------------------------


def windows_arrays(features: list[dict], vocabulary: np.ndarray) -> dict[str, np.ndarray]:
    """Windows as flat arrays: token ids renumbered into the packed vocabulary (int16), each
    window's length, where its second segment starts, its answer tokens and its passage tokens."""
    lengths = np.array([len(f["ids"]) for f in features], dtype=np.int32)
    ids = np.concatenate([np.asarray(f["ids"], dtype=np.int64) for f in features])
    return {
        "ids": np.searchsorted(vocabulary, ids).astype(np.int16),
        "lengths": lengths.astype(np.int16),
        "second": np.array([f["types"].index(1) if 1 in f["types"] else len(f["types"]) for f in features], np.int16),
        "start": np.array([f["start"] for f in features], np.int16),
        "end": np.array([f["end"] for f in features], np.int16),
        "context": np.array([f["context"] for f in features], np.int16).reshape(-1, 2),
    }


def int8_rows(name: str, matrix: torch.Tensor) -> dict[str, torch.Tensor]:
    """A starting matrix in int8 with one float32 scale a row (half the bytes of float16: the pack
    must fit beside the tracked files). Only a run's starting point is rounded so, and training moves
    every value from there; the frozen embeddings, read as they are by the product, stay float16."""
    scale = matrix.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / 127
    return {name: torch.round(matrix / scale).to(torch.int8).contiguous(), f"{name}.scale": scale.contiguous()}


def from_int8_rows(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The matrices `int8_rows` stored, back in float32; other tensors as float32."""
    out = {}
    for name, tensor in state.items():
        if name.endswith(".scale"):
            continue
        scale = state.get(f"{name}.scale")
        out[name] = tensor.float() * scale if scale is not None else tensor.float()
    return out


def write_pack(features: list[dict], watched: list[dict], base: Path, folder: Path, meta: dict) -> dict:
    """The pack of `features` (training windows) and `watched` (windows a run scores as it goes),
    with the MiniLM folder `base`'s embeddings and encoder. Returns the sizes written."""
    from safetensors.torch import load_file, save_file

    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = np.unique(np.concatenate([np.asarray(f["ids"]) for f in features + watched] + [np.arange(1)]))
    if len(vocabulary) > np.iinfo(np.int16).max:
        raise ValueError(f"{len(vocabulary)} distinct tokens do not fit the pack's int16 ids")
    np.savez_compressed(folder / "train.npz", **windows_arrays(features, vocabulary))
    np.savez_compressed(folder / "watched.npz", **windows_arrays(watched, vocabulary))
    state = {k.removeprefix("bert."): v for k, v in load_file(str(base / "model.safetensors")).items()}
    frozen = {name.removeprefix("bert.") for name in FROZEN}
    embeddings, encoder = {}, {}
    for name, tensor in state.items():
        if name.startswith(("pooler.", "cls.")) or "position_ids" in name:
            continue
        if name.removesuffix(".weight") in frozen:
            rows = torch.from_numpy(vocabulary) if name.startswith("embeddings.word_") else slice(None)
            embeddings[f"bert.{name}"] = tensor[rows].to(torch.float16).contiguous()
        elif tensor.ndim == 2:
            encoder.update(int8_rows(f"bert.{name}", tensor.float()))
        else:
            encoder[f"bert.{name}"] = tensor.to(torch.float16).contiguous()
    save_file(embeddings, str(folder / "embeddings.safetensors"))
    save_file(encoder, str(folder / "minilm.safetensors"))
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    config["vocab_size"] = len(vocabulary)
    (folder / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    meta = {**meta, "windows": len(features), "watched": len(watched), "vocabulary": len(vocabulary)}
    (folder / "pack.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir())}


def pack(args: argparse.Namespace) -> None:
    from index.backbone import load_tokenizer
    from index.reader.network import base_location
    from training.mix import mixed
    from training.reader_data import featurise, news_examples, news_split, squad_split, without_titles

    base = Path(base_location())
    tokenizer = load_tokenizer(str(base))
    parts = squad_split()
    news, _ = news_split()
    quiz = news_examples(news, random.Random(args.seed), week_negatives=args.week_negatives)
    squad_train, quiz, people = mixed(parts["train"], quiz, args, args.seed)
    examples = without_titles(squad_train + quiz + people, args.drop_titles, random.Random(args.seed))
    watched = random.Random(args.seed).sample(parts["calibration"], min(WATCHED, len(parts["calibration"])))
    watched = without_titles(watched, args.drop_titles, random.Random(args.seed))
    keyed = [args.seed, args.max_length, len(examples), examples[-1]] + ([args.drop_titles] if args.drop_titles else [])
    key = hashlib.sha256(json.dumps(keyed).encode()).hexdigest()
    cache = Path("~/.cache/newsbot/pack").expanduser() / f"features-{key[:12]}.pt"
    if cache.exists():
        features, watched_features = torch.load(cache)
    else:
        started = time.time()
        features = featurise(tokenizer, examples, args.max_length, 64)
        watched_features = featurise(tokenizer, watched, args.max_length, 64)
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save((features, watched_features), cache)
        print(f"tokenised {len(examples):,} examples in {time.time() - started:.0f} s", flush=True)
    squad = len(squad_train)
    meta = {
        "squad_examples": squad,
        "news_examples": len(quiz),
        "wikinews_examples": len(people),
        "news_qa_sources": args.news_qa_sources if people else "",
        "quiz_negatives": args.quiz_negatives,
        "max_length": args.max_length,
        "seed": args.seed,
        "week_negatives": args.week_negatives,
        "drop_titles": args.drop_titles,
        "key": key[:12],
    }
    sizes = write_pack(features, watched_features, base, args.pack, meta)
    tracked = sum(p.stat().st_size for p in tracked_files())
    total = tracked + sum(sizes.values())
    print(
        f"{squad:,} SQuAD + {len(quiz):,} quiz news + {len(people):,} Wikinews examples -> {len(features):,} windows "
        f"({sum(1 for f in features if f['start']):,} with an answer); {len(watched_features):,} watched windows",
        flush=True,
    )
    for name, size in sizes.items():
        print(f"  {name}: {size / 2**20:.1f} MiB")
    print(
        f"pack {sum(sizes.values()) / 2**20:.1f} MiB + tracked files {tracked / 2**20:.1f} MiB = "
        f"{total / 2**20:.1f} MiB"
    )


def tracked_files() -> list[Path]:
    import subprocess

    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True).stdout
    return [ROOT / name for name in names.split("\0") if name and (ROOT / name).is_file()]


# -- train (there) --------------------------------------------------------------------------------
