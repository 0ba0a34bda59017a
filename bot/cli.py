"""`newsbot`: the command line over the news library (and the way to start the Discord bot)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.render import answer_text, printable, story_line
from bot.settings import Settings, load_settings
from index import Library, NewsbotError

log = logging.getLogger("newsbot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsbot", description="Answer questions about the news, with quotes.")
    parser.add_argument("--data-dir", type=Path, help="data folder (default: NEWSBOT_DATA_DIR or ./newsbot-data)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="index articles from JSONL(.gz) files or folders (idempotent by url)")
    ingest.add_argument("paths", nargs="+", metavar="PATH")

    ask = commands.add_parser("ask", help="answer a question from the indexed news")
    ask.add_argument("question", nargs="?", help="the question (or use --batch)")
    ask.add_argument(
        "--batch",
        type=Path,
        metavar="QUESTIONS.jsonl",
        help='answer each line {"id", "question"}; one output line per input line',
    )
    ask.add_argument("--json", action="store_true", help="print JSON")

    latest = commands.add_parser("latest", help="list the newest stories")
    latest.add_argument("-n", type=int, default=10, help="how many (default 10)")
    latest.add_argument("--topic", help="only stories about this")
    latest.add_argument("--json", action="store_true", help="print JSON")

    commands.add_parser("reindex", help="re-embed every passage (after a model change), atomically")

    status = commands.add_parser("status", help="articles, passages, model, last update")
    status.add_argument("--json", action="store_true", help="print JSON")

    sources = commands.add_parser("sources", help="manage the sources `poll` and the bot read news from")
    actions = sources.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an RSS/Atom feed, an article URL, or a JSONL file or folder")
    add.add_argument("location", metavar="URL_OR_PATH")
    add.add_argument("--name", help="a short name (default: the host or file name)")
    add.add_argument("--interval", type=float, metavar="MINUTES", help="poll interval (default: the setting)")
    listing = actions.add_parser("list", help="list sources with their health")
    listing.add_argument("--json", action="store_true", help="print JSON")
    remove = actions.add_parser("remove", help="stop reading a source (its stories stay indexed)")
    remove.add_argument("source_id", type=int, metavar="ID")

    poll = commands.add_parser("poll", help="read every source once now, with a summary")
    poll.add_argument("--due", action="store_true", help="only the sources whose interval has passed")

    commands.add_parser("bot", help="run the Discord bot (token from NEWSBOT_DISCORD_TOKEN or DISCORD_TOKEN)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(data_dir=args.data_dir)
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
        )
        quiet_libraries()
        return COMMANDS[args.command](args, settings)
    except NewsbotError as exc:
        say(f"newsbot: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        say("newsbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


def say(text: str = "", file=None, flush: bool = False) -> None:
    """print(), with control characters from article text stripped (see `printable`)."""
    print(printable(str(text)), file=file or sys.stdout, flush=flush)


def quiet_libraries() -> None:
    """Model loading chatters on stderr (progress bars, hub notices); an operator wants none of it."""
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("sentence_transformers", "transformers", "huggingface_hub", "faiss"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass


def progress_bar(unit: str):
    """A tqdm bar on a terminal, nothing when stderr is piped; returns (bar, callback)."""
    from tqdm import tqdm

    bar = tqdm(unit=unit, disable=not sys.stderr.isatty(), file=sys.stderr, dynamic_ncols=True)

    def update(count: int, total: int | None) -> None:
        if total is not None:
            bar.total = total
            bar.n = count
            bar.refresh()
        else:
            bar.update(count)

    return bar, update


def cmd_ingest(args, settings: Settings) -> int:
    library = Library(settings.library_config())
    bar, update = progress_bar("articles")
    with bar:
        report = library.ingest(args.paths, progress=update)
    for problem in report.problems + report.warnings:
        say(f"newsbot: warning: {problem}", file=sys.stderr)
    say(
        f"read {report.read} articles: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged; {report.passages} passages indexed"
        + (f"; {len(report.problems)} problems" if report.problems else "")
    )
    return 1 if report.problems else 0


def cmd_ask(args, settings: Settings) -> int:
    if (args.question is None) == (args.batch is None):
        raise NewsbotError("give either a question or --batch QUESTIONS.jsonl")
    library = Library(settings.library_config())
    if args.batch is None:
        answer = library.ask(args.question)
        say(json.dumps(answer.as_dict(), ensure_ascii=False) if args.json else answer_text(answer))
        return 0
    library.check_ready()  # fail once, not once per line, when nothing is indexed
    failures = 0
    for item_id, question, problem in _batch_questions(args.batch):
        record: dict = {"id": item_id}
        if problem is None:
            try:
                record.update(library.ask(question).as_dict())
            except NewsbotError as exc:
                problem = str(exc)
        if problem is not None:
            failures += 1
            record["error"] = problem
        if args.json:
            say(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            say(f"{item_id}\t{record.get('answer', '')}\t{record.get('error', '')}".rstrip("\t"), flush=True)
    return 1 if failures else 0


def _batch_questions(path: Path) -> Iterator[tuple[object, str, str | None]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise NewsbotError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield None, "", f"{path}:{number}: not valid JSON ({exc.msg})"
                    continue
                if not isinstance(record, dict) or not isinstance(record.get("question"), str):
                    item = record.get("id") if isinstance(record, dict) else None
                    yield item, "", f'{path}:{number}: needs a "question" string'
                    continue
                yield record.get("id"), record["question"], None
        except UnicodeDecodeError:
            raise NewsbotError(f"{path}: not UTF-8 text") from None


def cmd_latest(args, settings: Settings) -> int:
    stories = Library(settings.library_config()).latest(args.n, args.topic)
    if args.json:
        say(json.dumps([s.as_dict() for s in stories], ensure_ascii=False))
    elif not stories:
        say("no stories indexed yet; run `newsbot ingest PATH`")
    else:
        for story in stories:
            say(story_line(story))
    return 0


def cmd_reindex(args, settings: Settings) -> int:
    library = Library(settings.library_config())
    bar, update = progress_bar("passages")
    with bar:
        count = library.reindex(progress=update)
    say(f"re-embedded {count} passages with {settings.embedding_model}")
    return 0


def cmd_status(args, settings: Settings) -> int:
    stats = Library(settings.library_config()).stats()
    if args.json:
        say(json.dumps(stats, ensure_ascii=False))
    else:
        width = max(len(k) for k in stats)
        for key, value in stats.items():
            say(f"{key.replace('_', ' '):<{width}}  {value if value is not None else '-'}")
    return 0


def cmd_sources(args, settings: Settings) -> int:
    library = Library(settings.library_config())
    if args.action == "add":
        source = library.add_source(args.location, args.name, args.interval)
        say(f"added source {source.id} ({source.kind}): {source.name} {source.location}")
    elif args.action == "remove":
        source = library.remove_source(args.source_id)
        say(f"removed source {source.id}: {source.name}")
    elif args.json:
        say(json.dumps([dataclasses.asdict(s) for s in library.sources()], ensure_ascii=False))
    elif not (sources := library.sources()):
        say("no sources yet; add one with `newsbot sources add URL`")
    else:
        for s in sources:
            health = "ok" if not s.failing else f"FAILING x{s.failures}: {s.last_error}"
            say(f"{s.id:>4}  {s.kind:<4}  {s.name}  {s.location}")
            say(f"      {health}; last read {s.last_polled_at or 'never'}")
    return 0


def cmd_poll(args, settings: Settings) -> int:
    library = Library(settings.library_config())
    if not library.sources():
        raise NewsbotError("no sources to poll; add one with `newsbot sources add URL`")
    bar, update = progress_bar("sources")
    with bar:
        report = library.poll(only_due=args.due, progress=update)
    for failure in report.failures:
        say(f"newsbot: warning: {failure}", file=sys.stderr)
    say(report.line())
    return 1 if report.failures else 0


def cmd_bot(args, settings: Settings) -> int:
    from bot.app import run_bot

    run_bot(settings)
    return 0


COMMANDS = {
    "ingest": cmd_ingest,
    "ask": cmd_ask,
    "latest": cmd_latest,
    "reindex": cmd_reindex,
    "status": cmd_status,
    "sources": cmd_sources,
    "poll": cmd_poll,
    "bot": cmd_bot,
}

if __name__ == "__main__":
    sys.exit(main())
