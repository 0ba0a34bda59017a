"""`newsbot`: the command line over the news library (and the way to start the Discord bot)."""

from __future__ import annotations

import logging
import sqlite3
import sys

from bot.commands import COMMANDS
from bot.parser import build_parser
from bot.settings import in_setting_terms, load_settings
from bot.terminal import quiet_libraries, say
from index import NewsbotError
from index.text import hide_credentials

log = logging.getLogger("newsbot")


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
        say(f"newsbot: error: {hide_credentials(in_setting_terms(exc))}", file=sys.stderr)
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


def command_settings(args) -> dict:
    """Settings a command's own flags give; they win over the environment and `.env`."""
    given = {"data_dir": getattr(args, "data_dir", None)}
    if args.command == "bot":
        given.update(
            shard_ids=args.shard_ids, shard_count=args.shard_count, poll_sources=False if args.no_poll else None
        )
    return given


if __name__ == "__main__":
    sys.exit(main())
