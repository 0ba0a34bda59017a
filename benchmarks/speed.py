"""Speed and scale benchmark: ingest against the bare encoder, question latency at 10k and 100k
passages, a 1M-passage vector index, start-up, and the bot's responsiveness. Prints a table and
writes JSON for comparing versions.

    python benchmarks/speed.py [--only ingest,ask,scale,startup,bot,titles] [--out benchmarks/results/speed.json]
    python benchmarks/speed.py --postgres temp --only ingest,ask --out benchmarks/results/speed-postgres.json

`--postgres URL` runs the ingest and ask sections on the PostgreSQL backend, one fresh database per
library on the server at URL (`temp`: a throwaway local server, as the tests start one).

Real news from ../shared/data/realtimeqa/ gives the article mix for ingest and the questions. The
10k/100k question-latency libraries are assembled from the realtimeqa benchmark's cached weekly
indexes (`python benchmarks/realtimeqa.py` builds them; their passages and vectors are copied
through the store's own write path, so nothing is re-embedded). The 1M index uses vectors made
from those real ones (each a real passage vector plus noise) and real question embeddings.
Without the shared data, the bundled sample news stands in where it can. Medians and ranges come
from one process run, so ratios hold on a noisy machine.
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
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from parts import StoreParts

from index import Article, Library, LibraryConfig
from index.config import IndexPolicy
from index.intake import Chunker
from index.intake.ingest import passage_input
from index.intake.sources import article_from_record
from index.reader import ExtractiveReader
from index.reader.network import has_bfloat16
from index.retrieval import Embedder
from index.store import ArticleStore
from index.store.vectors import VectorIndex

ROOT = Path(__file__).resolve().parent.parent

REALTIMEQA = ROOT.parent / "shared" / "data" / "realtimeqa"
CACHE = ROOT / "benchmarks" / "cache" / "realtimeqa"
SAMPLE = ROOT / "samples" / "news.jsonl"
DEMO = "who did Takaichi beat in the vote?"
SECTIONS = ("ingest", "ask", "scale", "startup", "bot", "titles")


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "min": ordered[0],
        "max": ordered[-1],
        "n": len(ordered),
    }


# -- inputs ---------------------------------------------------------------------------------------


def load_articles(count: int) -> tuple[list[Article], str]:
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
        return articles, f"realtimeqa 2025 (first {len(articles)} articles)"
    base = [article_from_record(json.loads(line)) for line in SAMPLE.read_text().splitlines()]
    articles = [replace(a, url=f"{a.url}?copy={i}") for i in range(count // len(base) + 1) for a in base][:count]
    return articles, f"bundled sample news x{count // len(base) + 1}"


def load_questions() -> list[str]:
    path = REALTIMEQA / "2025" / "questions.jsonl.gz"
    if not path.exists():
        return [DEMO, "Which team won the World Series?", "When did Pope Francis die?"]
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line)["question"] for line in lines]


def cached_articles(limit_passages: int, cache: Path = CACHE):
    """(article, passages, vectors) from the realtimeqa benchmark's cached weekly indexes (under
    `cache`), each URL once, until `limit_passages` passages."""
    seen: set[str] = set()
    total = 0
    for db in sorted(cache.glob("*/*/news.sqlite3")):
        for article, passages, vectors in StoreParts(LibraryConfig(data_dir=db.parent)).inventory.stories():
            if article.url in seen:
                continue
            seen.add(article.url)
            yield article, passages, vectors
            total += len(passages)
            if total >= limit_passages:
                return


def assemble_library(library: Library, passages: int) -> int:
    """Fill a library with up to `passages` cached real passages; returns how many it got."""
    parts = StoreParts(library.config)
    batch: list[tuple] = []
    written = 0
    for story in cached_articles(passages):
        batch.append(story)
        if sum(len(p) for _, p, _ in batch) >= 10_000:
            written += parts.write(batch)
            batch = []
    if batch:
        written += parts.write(batch)
    return written


def index_ram(path: Path) -> int:
    """Resident memory the saved index takes once loaded, measured in a fresh process."""
    code = (
        "import sys; from pathlib import Path; import faiss\n"
        "def rss():\n"
        "    line = next(l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmRSS:'))\n"
        "    return int(line.split()[1]) * 1024\n"
        "before = rss(); index = faiss.read_index(sys.argv[1]); print(rss() - before)"
    )
    child = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True)
    return int(child.stdout)


# -- sections -------------------------------------------------------------------------------------


def bench_ingest(library: Library, models: dict, articles: list[Article]) -> dict:
    library.warm_up()
    started = time.perf_counter()
    report = library.ingest_articles(articles)
    ingest_seconds = time.perf_counter() - started
    # The bare encoder on the same passage texts, same process, right after.
    texts = [passage_input(a.title, p.text) for a in articles for p in models["chunker"].split(a)]
    t0 = time.perf_counter()
    models["embedder"].encode(texts)
    encode_seconds = time.perf_counter() - t0
    ingest_rate = report.passages / ingest_seconds
    encode_rate = len(texts) / encode_seconds
    stages = dict(report.seconds)
    # Reading and splitting run on a worker thread while the encoder embeds the batch before: their
    # seconds overlap the others' and are shown apart; "other" is what the main thread spent outside
    # embedding and writing (waiting on the worker included).
    overlapped = {"split_overlapped": stages.pop("split", 0.0)}
    stages["other"] = ingest_seconds - sum(stages.values())
    stages.update(overlapped)
    return {
        "ingest": {
            "articles": report.added,
            "passages": report.passages,
            "seconds": ingest_seconds,
            "passages_per_s": ingest_rate,
            "seconds_per_1000_passages": 1000 / ingest_rate,
            "bare_encode_passages_per_s": encode_rate,
            "ingest_to_encode_ratio": ingest_rate / encode_rate,
            "stage_seconds": stages,
        }
    }


class StageClock:
    """Seconds per stage of `Library.ask`, measured from outside: while on, the methods each stage
    runs are wrapped on their classes to add their time to `seconds[stage]` (the product carries no
    timing code). "fusion" is what the ask spent besides the other stages (fusing, reading passages)."""

    STAGES = {
        "embed_question": (Embedder, "encode_question"),
        "dense_search": (VectorIndex, "search"),
        "lexical_search": (ArticleStore, "lexical_search"),
        "reading": (ExtractiveReader, "answer"),
    }

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._saved: list[tuple[type, str, object]] = []

    def __enter__(self) -> StageClock:
        for stage, (owner, name) in self.STAGES.items():
            original = getattr(owner, name)
            self._saved.append((owner, name, original))
            setattr(owner, name, self._timed(stage, original))
        return self

    def __exit__(self, *exc) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()

    def _timed(self, stage: str, method):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started

        return timed

    def ask(self, library: Library, question: str) -> dict[str, float]:
        """Ask once; the seconds of each stage (and "total")."""
        self.seconds = {}
        started = time.perf_counter()
        library.ask(question)
        total = time.perf_counter() - started
        stages = dict(self.seconds)
        stages["fusion"] = max(0.0, total - sum(stages.values()))
        stages["total"] = total
        return stages


def bench_ask(library: Library, questions: list[str], count: int, float32: Library | None = None) -> dict:
    """Question latency as shipped; beside it, with `float32` (the same library read by a reader
    with its feed-forward layers in float32), each question's reading time again
    (`reading_float32_ms`), interleaved so host drift hits both."""
    library.ask(DEMO)  # warm
    if float32 is not None:
        float32.ask(DEMO)
    asked = (questions * (count // max(len(questions), 1) + 1))[:count]
    totals, cpu, stages, float32_reading = [], [], {}, []
    with StageClock() as clock:
        for question in asked:
            c0 = time.process_time()
            timings = clock.ask(library, question)
            cpu.append((time.process_time() - c0) * 1000)
            totals.append(timings.pop("total") * 1000)
            for stage, seconds in timings.items():
                stages.setdefault(stage, []).append(seconds * 1000)
            if float32 is not None:
                float32_reading.append(clock.ask(float32, question)["reading"] * 1000)
    result = {
        "ask_ms": summary(totals),
        # CPU time of all this process's threads per question: steady while a shared host's wall
        # clock drifts (another tenant's load shows in ask_ms, not here), so it tells code from host.
        "ask_cpu_ms": summary(cpu),
        "stage_ms_p50": {stage: statistics.median(values) for stage, values in stages.items()},
        "stage_ms_p95": {stage: summary(values)["p95"] for stage, values in stages.items()},
    }
    if float32_reading:
        result["reading_float32_ms"] = summary(float32_reading)
        result["reading_bfloat16_to_float32"] = statistics.median(stages["reading"]) / statistics.median(
            float32_reading
        )
    return result


def footprint(library: Library) -> dict:
    data = library.config.data_dir
    stats = library.stats()
    passages = stats["passages"]
    size = StoreParts(library.config).inventory.database_bytes()  # SQLite's with its log folded in
    if library.config.database_url:
        return {
            "passages": passages,
            "postgres_bytes_per_passage": size / passages,
            "vector_index": stats["vector_index"],
        }
    sqlite_bytes = size
    faiss_bytes = sum(p.stat().st_size for p in data.glob("vectors-*.faiss"))
    return {
        "passages": passages,
        "sqlite_bytes_per_passage": sqlite_bytes / passages,
        "faiss_bytes_per_passage": faiss_bytes / passages,
        "vector_index": stats["vector_index"],
    }


def bench_ask_at_sizes(
    folder: Path, models: dict, questions: list[str], count: int, sizes: list[int], database=None
) -> dict:
    results = {}
    for size in sizes:
        url = database() if database else None
        library = Library(LibraryConfig(data_dir=folder / f"ask-{size}", database_url=url), **models)
        t0 = time.perf_counter()
        got = assemble_library(library, size)
        assembled = time.perf_counter() - t0
        if got < size * 0.9:
            results[str(size)] = {"skipped": f"only {got} cached passages; run benchmarks/realtimeqa.py for more"}
            continue
        float32 = None
        if has_bfloat16():  # the reader as shipped reads its feed-forward layers in bfloat16 here
            config = LibraryConfig(data_dir=folder / f"ask-{size}", database_url=url)
            float32 = Library(config, embedder=models.get("embedder"), reader=ExtractiveReader(bfloat16=False))
        timed = bench_ask(library, questions, count, float32)
        result = {"assembled_seconds": assembled, **footprint(library), **timed}
        results[str(size)] = result
        print(f"  ask at {got:,} passages: p50 {result['ask_ms']['p50']:.0f} ms", flush=True)
    return {"ask_at_size": results}


def synthetic_vectors(count: int, real: np.ndarray, seed: int = 0) -> np.ndarray:
    """`count` unit vectors, each a random real passage vector plus Gaussian noise (cosine ~0.85 to
    it, about a real passage's nearest neighbour), so the set keeps real embeddings' clustering."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, real.shape[1]), dtype=np.float32)
    scale = 0.6 / np.sqrt(real.shape[1])
    for at in range(0, count, 100_000):
        n = min(100_000, count - at)
        block = real[rng.integers(0, len(real), n)] + scale * rng.standard_normal((n, real.shape[1]), np.float32)
        out[at : at + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def bench_scale(folder: Path, embedder: Embedder, questions: list[str], count: int, queries: int) -> dict:
    import faiss

    real = [v for _, _, vectors in cached_articles(200_000) for v in vectors]
    if real:
        real, source = np.vstack(real), "real passage vectors plus noise"
    else:  # no realtimeqa cache: unstructured random directions (a harder case for IVF)
        real = np.random.default_rng(1).standard_normal((20_000, embedder.dimension)).astype(np.float32)
        real /= np.linalg.norm(real, axis=1, keepdims=True)
        source = "random unit vectors plus noise (no realtimeqa cache)"
    vectors = synthetic_vectors(count, real)
    asked = questions[:queries]
    query_vectors = np.vstack([embedder.encode_question(q) for q in asked])
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(query_vectors, 10)
    t0 = time.perf_counter()
    exact.search(query_vectors[:20], 10)
    exact_ms = (time.perf_counter() - t0) / 20 * 1000
    del exact

    policy = IndexPolicy()
    ids = np.arange(count, dtype=np.int64)
    t0 = time.perf_counter()
    index = VectorIndex.build(vectors.shape[1], ids, vectors, policy)
    build_seconds = time.perf_counter() - t0
    path = index.save(folder, 1)
    disk = path.stat().st_size
    del index, vectors
    ram = index_ram(path)
    index = VectorIndex.load(path, policy)
    times, recalls = [], []
    for vector, expected in zip(query_vectors, truth, strict=True):
        t0 = time.perf_counter()
        found = index.retrieval.search(vector, 10)
        times.append((time.perf_counter() - t0) * 1000)
        recalls.append(len({i for i, _ in found} & set(expected.tolist())) / 10)
    return {
        "scale": {
            "passages": count,
            "vectors": source,
            "index": index.kind,
            "lists": index.lists,
            "nprobe": policy.nprobe,
            "build_seconds": build_seconds,
            "ram_bytes": ram,
            "disk_bytes": disk,
            "index_bytes_per_passage": disk / count,
            "search_ms": summary(times),
            "exact_search_ms_per_query": exact_ms,
            "recall_at_10": float(np.mean(recalls)),
            "queries": len(asked),
        }
    }


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


class LoopWatch:
    """Measures event-loop stalls from outside: a thread schedules a callback every `interval`
    seconds and records how late the loop runs it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float = 0.01) -> None:
        self.loop, self.interval = loop, interval
        self.delays: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sent = time.perf_counter()
            done = threading.Event()

            def ran(sent=sent, done=done) -> None:
                self.delays.append((time.perf_counter() - sent) * 1000)
                done.set()

            self.loop.call_soon_threadsafe(ran)
            done.wait(10)
            time.sleep(self.interval)

    def __enter__(self) -> LoopWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def bench_bot(library: Library, reindex_library: Library | None) -> dict:
    """Through SimCord's simulated Discord: interaction to first acknowledgement and to the
    answer, then the worst event-loop stall while an admin /reindex runs beside questions."""
    import discord
    import simcord

    from bot.app import create_bot
    from bot.settings import Settings

    async def run(target: Library, reindex: bool) -> dict:
        settings = Settings(data_dir=target.config.data_dir, question_cooldown_seconds=0, _env_file=None)
        acks, answers, results = [], [], {}
        async with simcord.run(create_bot(settings, library=target), shard_count=1) as env:
            guild = env.create_guild()
            channel = guild.create_text_channel("news")
            user = guild.add_member(env.create_user("reader"))
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
                    acks.append((marks["ack"] - t0) * 1000)
                    answers.append((time.perf_counter() - t0) * 1000)
            finally:
                discord.InteractionResponse.defer = original_defer
            results["bot_first_ack_ms"] = summary(acks)
            results["bot_answer_ms"] = summary(answers)
            if reindex:
                editors = guild.create_role("Editors", permissions=discord.Permissions(manage_guild=True))
                admin = guild.add_member(env.create_user("editor"), roles=[editors])
                during = []
                t0 = time.perf_counter()
                cog = env.bot.get_cog("AdminCog")
                with LoopWatch(asyncio.get_running_loop()) as watch:
                    await admin.slash(channel, "reindex")
                    while cog.job is None or not cog.job.state.finished:
                        q0 = time.perf_counter()
                        await user.slash(channel, "ask", question=DEMO)
                        during.append((time.perf_counter() - q0) * 1000)
                        await env.advance_time(2)  # lets the progress loop edit its message
                        await asyncio.sleep(0.2)
                    seconds = time.perf_counter() - t0
                    for _ in range(3):  # the final edit
                        await env.advance_time(2)
                        await asyncio.sleep(0.05)
                results["reindex"] = {
                    "passages": target.stats()["passages"],
                    "seconds": seconds,
                    "result": next((m.content for m in reversed(channel.history()) if "Reindex" in m.content), ""),
                    "loop_stall_ms": summary(watch.delays),
                    "answers_during_reindex_ms": summary(during) if during else None,
                }
        return results

    results = asyncio.run(run(library, reindex=False))
    if reindex_library is not None:
        results["reindex_beside_questions"] = asyncio.run(run(reindex_library, reindex=True))["reindex"]
    return results


def bench_titles(folder: Path, models: dict, lengths=(60, 2_000, 20_000, 1_000_000), repeats: int = 5) -> dict:
    """`ask` time and store size with one story of 40 passages under ever longer headlines: headlines
    are cut at ingest (NEWSBOT_MAX_TITLE_CHARS), so neither should grow with the headline."""
    text = "\n".join(
        f"Paragraph {i}: the Veskar harbour board met on day {i} and counted {100 + i} ships at the quay."
        " Harbour master Ilse Marken said the new crane would arrive in spring."
        for i in range(40)
    )
    rows = {}
    for length in lengths:
        title = ("Veskar harbour news " * (length // 20 + 1))[:length]
        library = Library(LibraryConfig(data_dir=folder / f"title-{length}"), **models)
        library.ingest_articles([Article(url=f"https://title.test/{length}", title=title, text=text)])
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            library.ask("Who is the harbour master of Veskar?")
            times.append(time.perf_counter() - started)
        size = sum(f.stat().st_size for f in (folder / f"title-{length}").iterdir() if f.is_file())
        rows[str(length)] = {"ask_median_ms": 1000 * statistics.median(times), "store_bytes": size}
        print(f"  headline of {length:,} characters: ask {rows[str(length)]['ask_median_ms']:.0f} ms", flush=True)
    return {"titles": rows}


def show(results: dict, indent: str = "") -> None:
    for key, value in results.items():
        if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
            print(f"{indent}{key}")
            show(value, indent + "  ")
            continue
        if isinstance(value, dict):
            value = "  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items())
        elif isinstance(value, float):
            value = f"{value:.3f}"
        print(f"{indent}{key:<32} {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument("--articles", type=int, default=300, help="articles ingested for the ingest section")
    parser.add_argument("--questions", type=int, default=200, help="questions timed per library size")
    parser.add_argument("--sizes", default="10000,100000", help="passage counts for question latency")
    parser.add_argument("--scale-passages", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "speed.json")
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server for the ingest and ask sections, or temp")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if only - set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(only - set(SECTIONS)))}")

    if args.postgres and only - {"ingest", "ask"}:
        parser.error("--postgres measures the ingest and ask sections only")
    questions = load_questions()
    results: dict = {"backend": "postgres" if args.postgres else "sqlite"}
    server, database = postgres_databases(args.postgres) if args.postgres else (None, None)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        models = {"embedder": Embedder(), "reader": ExtractiveReader(), "chunker": Chunker()}
        config = LibraryConfig(data_dir=folder / "ingest", database_url=database() if database else None)
        library = Library(config, **models)
        library.warm_up()

        def save() -> None:  # after every section, so a failure later keeps what was measured
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2))

        if "ingest" in only:
            articles, corpus = load_articles(args.articles)
            results["ingest_corpus"] = corpus
            results.update(bench_ingest(library, models, articles))
            print(f"  ingest ratio {results['ingest']['ingest_to_encode_ratio']:.2f}", flush=True)
            save()
        else:
            library.ingest([SAMPLE])
        sizes = [int(s) for s in args.sizes.split(",") if s]
        if "ask" in only:
            results.update(bench_ask_at_sizes(folder, models, questions, args.questions, sizes, database))
            save()
        if "scale" in only:
            results.update(bench_scale(folder, models["embedder"], questions, args.scale_passages, args.questions))
            print(f"  scale recall@10 {results['scale']['recall_at_10']:.3f}", flush=True)
            save()
        if "startup" in only:
            results.update(bench_startup(library.config.data_dir))
            save()
        if "titles" in only:
            results.update(bench_titles(folder, models))
            save()
        if "bot" in only:
            big = Library(LibraryConfig(data_dir=folder / f"ask-{sizes[0]}"), **models) if sizes else None
            if big is not None and not big.has_news():
                assemble_library(big, sizes[0])
            results.update(bench_bot(library, big if big is not None and big.has_news() else None))
            save()
    if server is not None:
        server.stop()
    show(results)
    print(f"written to {args.out}")


def postgres_databases(url: str):
    """(a server this run started or None, a function giving the URL of a fresh database on it)."""
    from tests.postgres_server import new_database

    server = None
    if url == "temp":
        from tests.postgres_server import PostgresServer, find_binaries

        binaries = find_binaries()
        if binaries is None:
            sys.exit("no PostgreSQL server binaries found for --postgres temp (set NEWSBOT_TEST_PG_BIN)")
        server = PostgresServer(binaries).start()
        url = server.url()

    def fresh() -> str:
        return new_database(url, prefix="newsbot_bench_")

    return server, fresh


if __name__ == "__main__":
    main()
