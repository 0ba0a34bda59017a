"""The training mix both trainers draw (`training.reader` on the CPU, `training.packed pack` for a
GPU): SQuAD's training part (all, or a sample replayed), RealTime QA's quiz news (its positives, and
a share of its distant-label negatives) and people's questions over Wikinews text (`training.news_qa`)."""

from __future__ import annotations

import argparse
import random

# The sets training.news_qa reads, as its examples name them. Nothing heavy is imported here: the
# GPU side of training.packed parses these flags with only torch, numpy and safetensors installed.
NEWS_QA_SOURCES = ("qamr", "qasrl-v2_1/orig", "qasrl-gs", "qanom")


def add_mix_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that choose the mix, the same in both trainers."""
    parser.add_argument(
        "--news-qa",
        type=int,
        default=0,
        help="this many people's questions over Wikinews text (training.news_qa: QAMR, QA-SRL, QANom; 0: none)",
    )
    parser.add_argument(
        "--news-qa-sources",
        default=",".join(NEWS_QA_SOURCES),
        help="which of the news QA sets --news-qa draws from (comma-separated)",
    )
    parser.add_argument(
        "--squad-sample", type=int, default=0, help="replay this many SQuAD training examples, drawn (0: all)"
    )
    parser.add_argument(
        "--quiz-negatives",
        type=float,
        default=1.0,
        help="share of RealTime QA's distant-label negatives kept (1: all; the positives are always kept)",
    )


def mixed(
    squad_train: list[dict], quiz: list[dict], args: argparse.Namespace, seed: int
) -> tuple[list[dict], list[dict], list[dict]]:
    """(SQuAD, quiz news, Wikinews) examples as the flags of `add_mix_arguments` choose them, seeded."""
    if not 0 <= args.quiz_negatives <= 1:
        raise SystemExit(f"--quiz-negatives is a share from 0 to 1, not {args.quiz_negatives}")
    if args.quiz_negatives < 1:
        kept = random.Random(seed)
        quiz = [e for e in quiz if "start" in e or kept.random() < args.quiz_negatives]
    if args.squad_sample:
        squad_train = random.Random(seed).sample(squad_train, min(args.squad_sample, len(squad_train)))
    people: list[dict] = []
    if args.news_qa:
        from training import news_qa

        sources = set(args.news_qa_sources.split(","))
        unknown = sources - set(NEWS_QA_SOURCES)
        if unknown:
            known = ", ".join(NEWS_QA_SOURCES)
            raise SystemExit(f"--news-qa-sources: no set {', '.join(sorted(unknown))} (known: {known})")
        people = [e for e in news_qa.examples("train", seed=seed) if e["source"] in sources]
        people = random.Random(seed).sample(people, min(args.news_qa, len(people)))
    return squad_train, quiz, people
