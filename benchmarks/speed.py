"""Speed benchmark: ingest throughput against the bare encoder, question latency, start-up, and the
bot's time to acknowledge and answer. Prints a table and writes JSON for comparing versions.

    python benchmarks/speed.py [--articles 300] [--questions 200] [--out benchmarks/results/speed.json]

Uses real news from ../shared/data/realtimeqa/ when it is there (a realistic article mix), else the
bundled sample news repeated under new URLs. Medians and ranges come from one process run, so
ratios hold on a noisy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import Article, Library, LibraryConfig  # noqa: E402
from index.library import passage_input  # noqa: E402
from index.sources import article_from_record  # noqa: E402

REALTIMEQA = ROOT.parent / "shared" / "data" / "realtimeqa"
SAMPLE = ROOT / "samples" / "news.jsonl"
DEMO = "who did Takaichi beat in the vote?"


def load_articles(count: int) -> tuple[list[Article], list[str], str]:
    path = REALTIMEQA / "2025" / "articles.jsonl.gz"
    if path.exists():
        articles = []
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                try:
                    articles.append(article_from_record(json.loads(line)))
                except ValueError:
                    continue
                if len(articles) == count:
                    break
        questions = []
        with gzip.open(REALTIMEQA / "2025" / "questions.jsonl.gz", "rt", encoding="utf-8") as lines:
            questions = [json.loads(line)["question"] for line in lines]
        return articles, questions, f"realtimeqa 2025 (first {len(articles)} articles)"
    base = [article_from_record(json.loads(line)) for line in SAMPLE.read_text().splitlines()]
    articles = [replace(a, url=f"{a.url}?copy={i}") for i in range(count // len(base) + 1) for a in base][:count]
    questions = [DEMO, "Which team won the World Series?", "When did Pope Francis die?"]
    return articles, questions, f"bundled sample news x{count // len(base) + 1}"


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "min": ordered[0],
        "max": ordered[-1],
        "n": len(ordered),
    }


def bench_ingest(library: Library, articles: list[Article]) -> dict:
    library.warm_up()
    started = time.perf_counter()
    report = library.ingest_articles(articles)
    ingest_seconds = time.perf_counter() - started
    # The bare encoder on the same passage texts, same process, right after.
    chunker = library.chunker
    t0 = time.perf_counter()
    texts = [passage_input(a.title, p.text) for a in articles for p in chunker.split(a)]
    split_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    library.embedder.encode(texts)
    encode_seconds = time.perf_counter() - t0
    ingest_rate = report.passages / ingest_seconds
    encode_rate = len(texts) / encode_seconds
    return {
        "articles": report.added,
        "passages": report.passages,
        "ingest_seconds": ingest_seconds,
        "ingest_passages_per_s": ingest_rate,
        "seconds_per_1000_passages": 1000 / ingest_rate,
        "sentence_split_seconds": split_seconds,
        "bare_encode_passages_per_s": encode_rate,
        "ingest_to_encode_ratio": ingest_rate / encode_rate,
    }


def bench_ask(library: Library, questions: list[str], count: int) -> dict:
    library.ask(DEMO)  # warm
    asked = (questions * (count // max(len(questions), 1) + 1))[:count]
    times = []
    for question in asked:
        t0 = time.perf_counter()
        library.ask(question)
        times.append((time.perf_counter() - t0) * 1000)
    return {"ask_ms": summary(times)}


def bench_startup(data_dir: Path) -> dict:
    """Seconds from a fresh `newsbot ask` process start to its printed answer."""
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "--data-dir", str(data_dir), "ask", DEMO, "--json"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        runs.append(time.perf_counter() - t0)
    return {"startup_to_first_answer_s": summary(runs)}


def bench_bot(library: Library) -> dict:
    """Interaction to first acknowledgement and to the answer, through SimCord's simulated Discord."""
    import simcord

    from bot.app import create_bot
    from bot.settings import Settings

    settings = Settings(data_dir=library.config.data_dir, question_cooldown_seconds=0, _env_file=None)

    async def run() -> dict:
        acks, answers = [], []
        async with simcord.run(create_bot(settings, library=library), shard_count=1) as env:
            channel = env.create_guild().create_text_channel("news")
            user = env.guild.add_member(env.create_user("reader"))
            import discord

            original_defer = discord.InteractionResponse.defer
            marks: dict[str, float] = {}

            async def timed_defer(self, *args, **kwargs):
                result = await original_defer(self, *args, **kwargs)
                marks["ack"] = time.perf_counter()
                return result

            discord.InteractionResponse.defer = timed_defer
            try:
                for _ in range(20):
                    t0 = time.perf_counter()
                    await user.slash(channel, "ask", question=DEMO)
                    done = time.perf_counter()
                    acks.append((marks["ack"] - t0) * 1000)
                    answers.append((done - t0) * 1000)
            finally:
                discord.InteractionResponse.defer = original_defer
        return {"bot_first_ack_ms": summary(acks), "bot_answer_ms": summary(answers)}

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "speed.json")
    args = parser.parse_args()

    articles, questions, corpus = load_articles(args.articles)
    with tempfile.TemporaryDirectory() as folder:
        library = Library(LibraryConfig(data_dir=Path(folder) / "data"))
        results = {"corpus": corpus}
        results.update(bench_ingest(library, articles))
        results.update(bench_ask(library, questions, args.questions))
        results.update(bench_bot(library))
        results.update(bench_startup(library.config.data_dir))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    for key, value in results.items():
        if isinstance(value, dict):
            value = "  ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items())
        elif isinstance(value, float):
            value = f"{value:.3f}"
        print(f"{key:<30} {value}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
