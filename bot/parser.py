"""`newsbot`'s command line: the commands, their arguments and their help."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.settings import DEFAULT_DATA_DIR


class CommandLine(argparse.ArgumentParser):
    """argparse with its errors on one line, naming where the help is; an unquoted question gets a
    hint to quote it."""

    def parse_args(self, args=None, namespace=None):
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            hint = ""
            if getattr(parsed, "command", None) == "ask":
                hint = '; put the question in quotes: newsbot ask "who won the vote?"'
            self.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return parsed

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    # --data-dir is accepted before or after the command; SUPPRESS keeps a later parser from
    # resetting what an earlier one read.
    common = CommandLine(add_help=False)
    common.add_argument(
        "--data-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help=f"the news library's folder (default: NEWSBOT_DATA_DIR, else {DEFAULT_DATA_DIR})",
    )
    parser = CommandLine(
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

    for add in (_ingest, _remove, _ask, _latest, _brief, _reindex, _status, _poll, _bot):
        add(command)
    _sources(command, common)
    _follows(command, common)
    return parser


def _ingest(command) -> None:
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


def _remove(command) -> None:
    remove = command(
        "remove",
        "take articles out of the library",
        "Take articles out of the library, with their passages: a file that was no news, a story withdrawn."
        " A source that still holds them brings them back at its next poll: remove the source too.",
    )
    remove.add_argument(
        "references",
        nargs="+",
        metavar="URL_OR_ID",
        help="an article's URL (as `latest --json` shows it), its id, or the path of a file ingested",
    )


def _ask(command) -> None:
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


def _latest(command) -> None:
    latest = command("latest", "list the newest stories", "List the newest stories, newest first.")
    latest.add_argument("-n", type=int, help="how many (default: the library's)")
    latest.add_argument("--topic", help="only stories that name this or are about it")
    latest.add_argument("--json", action="store_true", help="print JSON")


def _brief(command) -> None:
    brief = command(
        "brief",
        "the top events of the last hours",
        "The top events of the last hours, one line each: the clearest headline, its lead, how many sources"
        " carry it; ranked by sources, then recency. Stories of one event (several outlets, rewrites) count once.",
    )
    brief.add_argument("--hours", type=float, help="how far back (default: the library's)")
    brief.add_argument("--topic", help="only events about this (as a follow of it would match)")
    brief.add_argument("-n", type=int, help="how many events (default: the library's)")
    brief.add_argument("--json", action="store_true", help="print JSON")


def _follows(command, common) -> None:
    follows = command(
        "follows",
        "the follows that post new stories into Discord channels",
        "The follows servers made with /follow: their topic or source, channel, who made them, last post, and"
        " whether they are paused; and the same follows made or stopped from here.",
    )
    actions = follows.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list every follow", description="List every follow.", parents=[common])
    listing.add_argument("--json", action="store_true", help="print JSON")
    add = actions.add_parser(
        "add",
        help="post new stories about a topic, or of a source, into a channel",
        description="As /follow in Discord: the bot posts every new story of --source (only those about --topic,"
        " given both), or the new stories about --topic, into the channel, from its next pass on.",
        parents=[common],
    )
    add.add_argument("--guild", type=int, required=True, help="the server's id (Discord's Copy Server ID)")
    add.add_argument("--channel", type=int, required=True, help="the text channel's id (Copy Channel ID)")
    add.add_argument("--topic", help="what to follow, e.g. 'wildfires in Spain'")
    add.add_argument("--source", help="a source's name or id (`newsbot sources list`): its every new story")
    add.add_argument("--by", type=int, default=0, help="the user id shown as the follow's maker (default 0)")
    remove = actions.add_parser("remove", help="stop a follow", description="Stop a follow.", parents=[common])
    remove.add_argument("follow_id", type=int, metavar="FOLLOW_ID", help="the id `follows list` shows")


def _reindex(command) -> None:
    command(
        "reindex",
        "re-embed every passage (after a model change)",
        "Re-embed every passage with NEWSBOT_EMBEDDING_MODEL. Questions keep using the old vectors until"
        " the new ones are committed; an interrupted reindex leaves the old index in place.",
    )


def _status(command) -> None:
    status = command(
        "status", "what the library holds", "Articles, passages, model, sources, last update and data folder."
    )
    status.add_argument("--json", action="store_true", help="print JSON")


def _sources(command, common) -> None:
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
    add.add_argument(
        "--name", help="a short name, shown to everyone (default: a feed's title, else the host or file name)"
    )
    add.add_argument("--interval", type=float, metavar="MINUTES", help="poll interval (default: the setting)")
    add.add_argument(
        "--no-check", action="store_true", help="add a web source without reading it once first (it may be down now)"
    )
    opml = actions.add_parser(
        "import",
        help="add every feed an OPML file lists (a feed reader's export)",
        description="Add every feed an OPML file lists, folders and all; each outline not added is said in one"
        " line (listed twice, already a source, refused, no feed) and the rest are added.",
        parents=[common],
    )
    opml.add_argument("file", metavar="FILE.opml", help="the OPML file a feed reader exported")
    opml.add_argument(
        "--no-check", action="store_true", help="add the feeds without reading each once first (they may be down now)"
    )
    export = actions.add_parser(
        "export",
        help="write the web sources as OPML 2.0, for a feed reader to import",
        description="Write the web sources as OPML 2.0 (file and folder sources are left out).",
        parents=[common],
    )
    export.add_argument("file", metavar="FILE", nargs="?", help="where to write it (default: standard output)")
    listing = actions.add_parser(
        "list", help="list sources with their health", description="List sources with their health.", parents=[common]
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    remove = actions.add_parser(
        "remove",
        help="stop reading a source (its stories stay indexed; follows of it stop)",
        description="Stop reading a source; its stories stay indexed and follows of it stop.",
        parents=[common],
    )
    remove.add_argument("source_id", type=int, metavar="ID", help="the id `newsbot sources list` shows")


def _poll(command) -> None:
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


def _bot(command) -> None:
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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newsbot")
    except PackageNotFoundError:
        return "unknown (not installed)"
