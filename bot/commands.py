"""What each `newsbot` command does, over the library; `bot/cli.py` parses and dispatches."""

from __future__ import annotations

import dataclasses
import json
import math
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from bot.jobs import Terminated, die_of, poll_forever, sigterm_stops
from bot.render import (
    answer_text,
    event_lines,
    event_record,
    ingest_line,
    library_default,
    plural,
    source_lines,
    status_lines,
    story_line,
)
from bot.settings import Settings, in_setting_terms
from bot.terminal import loading, progress_bar, say
from index import Library, NewsbotError, as_of_moment, published_moment
from index.errors import Notice, RefusedURLError
from index.models import IngestReport


def cmd_ingest(args, settings: Settings) -> int:
    library = Library(settings.library_config())
    bar, update = progress_bar("articles")
    report = IngestReport()
    try:
        with bar, sigterm_stops() as latch:

            def batch_done(done: int, total: int | None) -> None:  # a batch is committed and counted here
                update(done, total)
                latch.check()

            library.ingest(args.paths, progress=batch_done, report=report)
            latch.check()
    except Terminated:  # each batch is its own transaction: what was committed stays, a rerun skips it
        say(
            f"newsbot: stopped by SIGTERM; {plural(report.added + report.updated, 'article')} committed"
            f" ({report.added} added, {report.updated} updated): run the same ingest again to finish the rest"
            " (what is already in is skipped as unchanged)",
            file=sys.stderr,
        )
        die_of(signal.SIGTERM)
    for problem in report.problems + report.warnings:
        say(f"newsbot: warning: {in_setting_terms(problem)}", file=sys.stderr)
    say(ingest_line(report))
    return 1 if report.problems else 0


def cmd_remove(args, settings: Settings) -> int:
    library = Library(settings.library_config())
    # A file ingested is named by its file: URL; its path names it too.
    references = [Path(r).resolve().as_uri() if Path(r).is_file() else r for r in args.references]
    removed, unknown = library.remove(references)
    for article_id, story in removed:
        say(f"removed {article_id}: {story_line(story)}")
    for reference in unknown:
        say(
            f"newsbot: error: no article with the URL or id {reference!r}; `newsbot latest --json` shows URLs",
            file=sys.stderr,
        )
    say(f"removed {plural(len(removed), 'article')}")
    return 1 if unknown else 0


def cmd_ask(args, settings: Settings) -> int:
    if (args.question is None) == (args.batch is None):
        raise NewsbotError("give either a question or --batch QUESTIONS.jsonl")
    as_of_moment(args.as_of)  # a bad --as-of is said before any model loads
    library = Library(settings.library_config())
    if args.question is not None:
        library.check_question(args.question)
    library.check_ready()  # said before the models load, and once, not once per line, for a batch
    loading("the embedding model and the reader")  # the first answer waits on them: say so on a terminal
    library.warm_up()
    if args.batch is None:
        answer = library.ask(args.question, as_of=args.as_of)
        say(json.dumps(answer.as_dict(), ensure_ascii=False) if args.json else answer_text(answer))
        return 0
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
    count = library_default(Library.latest, "count") if args.n is None else args.n
    stories = library.latest(count, args.topic)
    if args.json:
        say(json.dumps([s.as_dict() for s in stories], ensure_ascii=False))
    elif not stories and not library.has_news():
        say(f"no stories indexed yet in {library.location}; run `newsbot ingest PATH`")
    elif not stories:
        say(f"no story matches {args.topic!r}")
    else:
        for story in stories:
            say(story_line(story))
    return 0


def older_stories_hint(library: Library, hours: float) -> str:
    """For an empty brief: how many stories lie outside its window, and the --hours that reaches the newest."""
    newest = library.latest(1)
    moment = published_moment(newest[0].published) if newest else None
    if moment is None:
        return ""
    behind = (datetime.now(UTC) - moment).total_seconds() / 3600
    if behind <= hours:
        return ""
    count = library.stats()["articles"]
    return (
        f"{count:,} {'story is' if count == 1 else 'stories are'} older; the newest is from"
        f" {(newest[0].published or '')[:10]}: widen the window with --hours {math.ceil(behind)}"
    )


def cmd_brief(args, settings: Settings) -> int:
    library = Library(settings.library_config())
    if args.hours is None:  # the library's window, said with the events
        args.hours = library_default(Library.brief, "hours")
    count = library_default(Library.brief, "count") if args.n is None else args.n
    events = library.brief(args.hours, args.topic, count)
    if args.json:
        say(json.dumps([event_record(event) for event in events], ensure_ascii=False))
    elif not events:
        say(f"no stories in the last {args.hours:g} hours" + (f" about {args.topic!r}" if args.topic else ""))
        if hint := older_stories_hint(library, args.hours):
            say(hint)
    else:
        for number, event in enumerate(events, start=1):
            say(event_lines(number, event))
    return 0


def cmd_follows(args, settings: Settings) -> int:
    from bot.follow_commands import follows_command

    return follows_command(args, Library(settings.library_config()))


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
        for line in status_lines(stats):
            say(line)
    return 0


def cmd_sources(args, settings: Settings) -> int:
    library = Library(settings.library_config())
    if args.action == "add":
        location = args.location.strip()
        found: Notice | str = ""
        title = ""
        if "://" in location and not args.no_check:  # read it once, so a typo or a dead feed is said now
            try:
                found, title = library.probe_source(location)
            except NewsbotError as exc:
                if isinstance(exc, RefusedURLError):  # refused as it stands: `--no-check` would be too
                    raise
                raise NewsbotError(
                    f"{exc}; not added (`--no-check` adds it anyway)", parameters=exc.parameters
                ) from None
        # Unnamed, a feed is named by its title (else by its host; `--no-check`: its first poll names it).
        name = args.name or title or None
        source = library.add_source(location, name, args.interval, resolve=not args.no_check)
        said = f"added source {source.id} ({source.kind}): {source.name} {source.shown().location}"
        say(said + (f": {in_setting_terms(found)}" if found else ""))
    elif args.action == "import":
        return import_sources(library, args.file, check=not args.no_check)
    elif args.action == "export":
        return export_sources(library, args.file)
    elif args.action == "remove":
        source = library.remove_source(args.source_id)
        say(f"removed source {source.id}: {source.name}")
    elif args.json:
        say(json.dumps([dataclasses.asdict(s.shown()) for s in library.sources()], ensure_ascii=False))
    elif not (sources := library.sources()):
        say("no sources yet; add one with `newsbot sources add URL`")
    else:
        for source in sources:
            for line in source_lines(source):
                say(line)
    return 0


def import_sources(library: Library, file: str, *, check: bool) -> int:
    """`sources import`: a line per outline not added, then how many were; 1 when any was not."""
    from index import import_opml

    report = import_opml(read_opml_file(file), library.add_source, library.probe_source if check else None)
    for line in report.lines:
        say(in_setting_terms(line))
    say(report.summary())
    return 1 if report.lines else 0


def read_opml_file(file: str) -> bytes:
    """The bytes of an OPML file, read no further than the most an import reads."""
    from index import MAX_OPML_BYTES

    try:
        with Path(file).expanduser().open("rb") as opml:
            return opml.read(MAX_OPML_BYTES + 1)
    except OSError as exc:
        raise NewsbotError(f"cannot read {file[:200]}: {exc.strerror or exc}") from None


def export_sources(library: Library, file: str | None) -> int:
    from index import write_opml

    opml, left_out = write_opml(library.sources())
    if file is None:
        sys.stdout.write(opml)
    else:
        try:
            path = Path(file).expanduser()
            path.touch(mode=0o600)  # the addresses keep their credentials: readable by the owner only
            path.write_text(opml, encoding="utf-8")
        except OSError as exc:
            raise NewsbotError(f"cannot write {file[:200]}: {exc.strerror or exc}") from None
        say(f"wrote {plural(opml.count('<outline '), 'feed')} to {file}")
    if left_out:
        say(
            f"newsbot: {plural(left_out, 'file source')} left out (a feed reader reads web feeds only)", file=sys.stderr
        )
    return 0


def cmd_poll(args, settings: Settings) -> int:
    library = Library(settings.library_config())
    if args.forever:
        return poll_forever(library, say)
    if not library.sources():
        raise NewsbotError("no sources to poll; add one with `newsbot sources add URL`")
    bar, update = progress_bar("sources")
    with bar:
        report = library.poll(only_due=args.due, progress=update)
    for outcome in report.outcomes:
        say(outcome)
    say(report.line())
    return 1 if report.failures else 0


def cmd_bot(args, settings: Settings) -> int:
    from bot.app import run_bot

    run_bot(settings)
    return 0


COMMANDS = {
    "ingest": cmd_ingest,
    "remove": cmd_remove,
    "ask": cmd_ask,
    "latest": cmd_latest,
    "brief": cmd_brief,
    "follows": cmd_follows,
    "reindex": cmd_reindex,
    "status": cmd_status,
    "sources": cmd_sources,
    "poll": cmd_poll,
    "bot": cmd_bot,
}
