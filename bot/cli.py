"""`newsbot`: the command line over the news library (and the way to start the Discord bot)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bot.render import answer_text, printable, story_line
from bot.settings import DEFAULT_DATA_DIR, Settings, in_setting_terms, load_settings
from index import Library, NewsbotError
from index.dates import as_of_moment

log = logging.getLogger("newsbot")


def build_parser() -> argparse.ArgumentParser:
    # --data-dir is accepted before or after the command; SUPPRESS keeps a later parser from
    # resetting what an earlier one read.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help=f"the news library's folder (default: NEWSBOT_DATA_DIR, else {DEFAULT_DATA_DIR})",
    )
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="Answer questions about the news, with the article's own words as proof.",
        epilog="Settings come from NEWSBOT_* environment variables or a .env file in this folder"
        " (see .env.example). `newsbot COMMAND --help` explains each command.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str, **kwargs) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=description, parents=[common], **kwargs)

    ingest = command(
        "ingest",
        "index articles from files or folders",
        "Index news articles. Running it again on the same files changes nothing (articles are keyed"
        " by URL); a changed article replaces its old passages.",
    )
    ingest.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help='a .jsonl or .jsonl.gz file (one {"url", "text", "title", "published", "source"} object a'
        " line), a .txt/.md/.html file, or a folder of them",
    )

    ask = command(
        "ask",
        "answer a question from the indexed news",
        "Answer with the exact words of an article (the extractive answer), the sentence that says so,"
        " and the story; or say that the indexed news does not answer it.",
    )
    ask.add_argument("question", nargs="?", help="the question, in quotes (or use --batch)")
    ask.add_argument(
        "--batch",
        type=Path,
        metavar="QUESTIONS.jsonl",
        help='answer each line {"id", "question"} (a line may carry its own "as_of"); one output line per input'
        " line, in order",
    )
    ask.add_argument(
        "--as-of",
        metavar="WHEN",
        help="answer as the library would have then: a date (2026-03-06) or an ISO datetime; recency counts from"
        " that moment and stories published after it are left out",
    )
    ask.add_argument("--json", action="store_true", help="print JSON")

    latest = command("latest", "list the newest stories", "List the newest stories, newest first.")
    latest.add_argument("-n", type=int, default=10, help="how many (default 10)")
    latest.add_argument("--topic", help="only stories that name this or are about it")
    latest.add_argument("--json", action="store_true", help="print JSON")

    command(
        "reindex",
        "re-embed every passage (after a model change)",
        "Re-embed every passage with NEWSBOT_EMBEDDING_MODEL. Questions keep using the old vectors until"
        " the new ones are committed; an interrupted reindex leaves the old index in place.",
    )

    status = command(
        "status", "what the library holds", "Articles, passages, model, sources, last update and data folder."
    )
    status.add_argument("--json", action="store_true", help="print JSON")

    sources = command(
        "sources",
        "manage the sources `poll` and the bot read news from",
        "Manage the news sources that `newsbot poll` and the bot's background polling read.",
    )
    actions = sources.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="add an RSS/Atom feed, an article URL, or a JSONL file or folder",
        description="Remember a source; `newsbot poll` (or the bot) reads it when due.",
        parents=[common],
    )
    add.add_argument(
        "location", metavar="URL_OR_PATH", help="an http(s) feed or article URL, or a file or folder on this machine"
    )
    add.add_argument("--name", help="a short name (default: the host or file name)")
    add.add_argument("--interval", type=float, metavar="MINUTES", help="poll interval (default: the setting)")
    add.add_argument(
        "--no-check", action="store_true", help="add a web source without reading it once first (it may be down now)"
    )
    listing = actions.add_parser(
        "list", help="list sources with their health", description="List sources with their health.", parents=[common]
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    remove = actions.add_parser(
        "remove",
        help="stop reading a source (its stories stay indexed)",
        description="Stop reading a source; its stories stay indexed.",
        parents=[common],
    )
    remove.add_argument("source_id", type=int, metavar="ID", help="the id `newsbot sources list` shows")

    poll = command(
        "poll",
        "read every source once now, with a summary",
        "Read the configured sources now: one line per source, then a summary.",
    )
    poll.add_argument("--due", action="store_true", help="only the sources whose interval has passed")
    poll.add_argument(
        "--forever",
        action="store_true",
        help="keep polling each source when it is due, until stopped (the one poller beside several bot"
        " processes started with NEWSBOT_POLL_SOURCES=false)",
    )

    bot = command(
        "bot",
        "run the Discord bot",
        "Run the Discord bot in the foreground. The token comes from NEWSBOT_DISCORD_TOKEN (or DISCORD_TOKEN)"
        " in the environment or in a .env file in the current folder; copy .env.example to .env to start."
        " The README's 'Creating the Discord application' section shows where to get it.",
    )
    bot.add_argument(
        "--shard-ids",
        metavar="IDS",
        help="run only these shards, e.g. 0,1 (with --shard-count; other processes run the rest)",
    )
    bot.add_argument("--shard-count", type=int, metavar="N", help="how many shards all processes run together")
    bot.add_argument(
        "--no-poll", action="store_true", help="do not poll sources here (a `newsbot poll --forever` does)"
    )
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newsbot")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(**command_settings(args))
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
        )
        quiet_libraries()
        return COMMANDS[args.command](args, settings)
    except NewsbotError as exc:
        say(f"newsbot: error: {in_setting_terms(str(exc))}", file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as exc:  # a damaged file: say what and what to do, not a traceback
        folder = getattr(args, "data_dir", None) or "the data folder"
        say(
            f"newsbot: error: the news library's database is damaged or unreadable ({exc}); restore"
            f" {folder} from a backup, or move it aside and ingest the news again (a damaged FAISS file alone"
            " is rebuilt by itself; `newsbot reindex` re-embeds what SQLite still holds)",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        say("newsbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def say(text: str = "", file=None, flush: bool = False) -> None:
    """print(), with control characters from article text stripped (see `printable`)."""
    print(printable(str(text)), file=file or sys.stdout, flush=flush)


def quiet_libraries() -> None:
    """Model loading chatters on stderr (progress bars, hub notices); an operator wants none of it."""
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("sentence_transformers", "transformers", "huggingface_hub", "faiss", "httpx", "httpcore"):
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

    # " articles": tqdm puts the unit straight after the count ("12articles")
    bar = tqdm(unit=f" {unit}", disable=not sys.stderr.isatty(), file=sys.stderr, dynamic_ncols=True)

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
        say(f"newsbot: warning: {in_setting_terms(problem)}", file=sys.stderr)
    say(
        f"read {plural(report.read, 'article')}: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged; {plural(report.passages, 'passage')} indexed"
        + (f"; {len(report.problems)} problems" if report.problems else "")
    )
    return 1 if report.problems else 0


def cmd_ask(args, settings: Settings) -> int:
    if (args.question is None) == (args.batch is None):
        raise NewsbotError("give either a question or --batch QUESTIONS.jsonl")
    as_of_moment(args.as_of)  # a bad --as-of is said before any model loads
    library = Library(settings.library_config())
    if sys.stderr.isatty():  # the first answer waits on loading the models: say so on a terminal
        say("loading models…", file=sys.stderr, flush=True)
    if args.batch is None:
        answer = library.ask(args.question, as_of=args.as_of)
        say(json.dumps(answer.as_dict(), ensure_ascii=False) if args.json else answer_text(answer))
        return 0
    library.check_ready()  # fail once, not once per line, when nothing is indexed
    failures = 0
    for number, item_id, question, as_of, problem in _batch_questions(args.batch):
        record: dict = {"id": item_id}
        if problem is None:
            try:
                record.update(library.ask(question, as_of=as_of or args.as_of).as_dict())
            except NewsbotError as exc:
                problem = str(exc)
        if problem is not None:
            failures += 1
            record["error"] = problem
        if args.json:
            say(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            label = item_id if item_id is not None else f"line {number}"  # a line without an id: where it was
            say(f"{label}\t{record.get('answer', '')}\t{record.get('error', '')}".rstrip("\t"), flush=True)
    return 1 if failures else 0


def _batch_questions(path: Path) -> Iterator[tuple[int, object, str, str | None, str | None]]:
    """(line number, id, question, as_of, problem) for each non-empty line."""
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
                    yield number, None, "", None, f"{path}:{number}: not valid JSON ({exc.msg})"
                    continue
                if not isinstance(record, dict) or not isinstance(record.get("question"), str):
                    item = record.get("id") if isinstance(record, dict) else None
                    yield number, item, "", None, f'{path}:{number}: needs a "question" string'
                    continue
                as_of = record.get("as_of")
                if as_of is not None and not isinstance(as_of, str):
                    yield number, record.get("id"), "", None, f'{path}:{number}: "as_of" must be a date string'
                    continue
                yield number, record.get("id"), record["question"], as_of, None
        except UnicodeDecodeError:
            raise NewsbotError(f"{path}: not UTF-8 text") from None


def cmd_latest(args, settings: Settings) -> int:
    library = Library(settings.library_config())
    stories = library.latest(args.n, args.topic)
    if args.json:
        say(json.dumps([s.as_dict() for s in stories], ensure_ascii=False))
    elif not stories and not library.articles.has_passages():
        say(f"no stories indexed yet in {library.db.location}; run `newsbot ingest PATH`")
    elif not stories:
        say(f"no story matches {args.topic!r}")
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
        location = args.location.strip()
        if "://" in location and not args.no_check:  # read it once, so a typo or a dead feed is said now
            try:
                library.fetcher.get(location)
            except NewsbotError as exc:
                raise NewsbotError(f"{exc}; not added (`--no-check` adds it anyway)") from None
        source = library.add_source(location, args.name, args.interval)
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
    if args.forever:
        return poll_forever(library)
    if not library.sources():
        raise NewsbotError("no sources to poll; add one with `newsbot sources add URL`")
    bar, update = progress_bar("sources")
    with bar:
        report = library.poll(only_due=args.due, progress=update)
    for outcome in report.outcomes:
        say(outcome)
    say(report.line())
    return 1 if report.failures else 0


def poll_forever(library: Library, longest_sleep: float = 60.0) -> int:
    """Poll each source when it is due until SIGTERM or Ctrl-C; sources added meanwhile (by `sources
    add` or the bot) are picked up on the next pass. One line per source read, one per pass."""
    signal.signal(signal.SIGTERM, _stop)
    say(f"polling the sources of {library.db.location} until stopped", flush=True)
    try:
        while True:
            try:
                report = library.poll(only_due=True)
                due = [s.next_poll_at for s in library.sources()]
            except NewsbotError as exc:  # the database away for a moment: say so, try again later
                say(f"newsbot: warning: polling pass failed: {exc}", file=sys.stderr, flush=True)
                time.sleep(longest_sleep)
                continue
            if report.sources:
                for outcome in report.outcomes:
                    say(outcome)
                say(report.line(), flush=True)
                if due:
                    wait = max(min(due) - time.time(), 0.0)
                    say(f"next source due in {wait / 60:.0f} min", flush=True)
            time.sleep(min(max(min(due, default=time.time() + longest_sleep) - time.time(), 1.0), longest_sleep))
    except KeyboardInterrupt:
        say("stopped polling", flush=True)
        return 0


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


def cmd_bot(args, settings: Settings) -> int:
    from bot.app import run_bot

    run_bot(settings)
    return 0


def command_settings(args) -> dict:
    """Settings a command's own flags give; they win over the environment and `.env`."""
    given = {"data_dir": getattr(args, "data_dir", None)}
    if args.command == "bot":
        given.update(
            shard_ids=args.shard_ids, shard_count=args.shard_count, poll_sources=False if args.no_poll else None
        )
    return given


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
