"""`newsbot`: the command line over the news library (and the way to start the Discord bot)."""

from __future__ import annotations

import logging
import sys

from bot.commands import COMMANDS
from bot.parser import build_parser
from bot.settings import in_setting_terms, load_settings, unknown_settings
from bot.terminal import quiet_libraries, say
from index import NewsbotError, hide_credentials, storage_errors

log = logging.getLogger("newsbot")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = None
    try:
        settings = load_settings(**command_settings(args))
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
        )
        quiet_libraries()
        for warning in unknown_settings():
            say(f"newsbot: warning: {warning}", file=sys.stderr)
        return COMMANDS[args.command](args, settings)
    except NewsbotError as exc:
        say(f"newsbot: error: {hide_credentials(in_setting_terms(exc))}", file=sys.stderr)
        return 1
    except storage_errors() as exc:  # a damaged database: say what and what to do, not a traceback
        shared = settings is not None and settings.database_url is not None
        say(f"newsbot: error: {hide_credentials(damaged(exc, args, shared))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        say("newsbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


def damaged(error: Exception, args, shared: bool) -> str:
    """What a database error the store raised means to an operator, and what to do (`shared`: the
    library is in PostgreSQL, not the SQLite file of the data folder)."""
    if not shared:
        folder = getattr(args, "data_dir", None) or "the data folder"
        return (
            f"the news library's database is damaged or unreadable ({error}); restore {folder} from a backup, or"
            " move it aside and ingest the news again (a damaged FAISS file alone is rebuilt by itself;"
            " `newsbot reindex` re-embeds what SQLite still holds)"
        )
    return f"the news library's PostgreSQL database failed ({type(error).__name__}: {error}); check it and try again"


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
