"""Errors a user can cause, carrying a message fit to show them as it is, and the notices the
library gives about input it read but not all of."""

from __future__ import annotations

from dataclasses import dataclass


class NewsbotError(Exception):
    """A problem with the user's input or environment, explained in one line. `parameters`: the
    library parameters the message names (as `LibraryConfig` calls them), so that an application
    can name each as the setting that fills it."""

    def __init__(self, message: str = "", *, parameters: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.parameters = parameters


@dataclass(frozen=True)
class Notice:
    """Something the library did to input it was given (an article cut short, a date moved), in one
    line; `parameters` as a NewsbotError's."""

    text: str
    parameters: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text


class FetchError(NewsbotError):
    """A URL could not be fetched; the message says why in one line. `retry_after`: seconds the
    server asked us to wait (a 429 or 5xx with Retry-After, or the host's backoff still running)."""

    def __init__(self, message: str, retry_after: float | None = None, *, parameters: tuple[str, ...] = ()) -> None:
        super().__init__(message, parameters=parameters)
        self.retry_after = retry_after


class RefusedURLError(FetchError):
    """A URL newsbot will not fetch as it stands (malformed, not http(s), a non-public address not
    allowed): skipping the check that reads it first (`sources add --no-check`) does not change that."""


class NothingIndexedError(NewsbotError):
    def __init__(self, data_dir: object = None) -> None:
        where = f" in {data_dir}" if data_dir is not None else ""
        super().__init__(f"no news indexed yet{where}; run `newsbot ingest PATH` first")


class ModelChangedError(NewsbotError):
    """The index holds vectors of another embedding model than the one configured."""

    def __init__(self, stored: str, configured: str) -> None:
        super().__init__(
            f"the index was built with embedding model {stored!r}, but {configured!r} is configured;"
            " run `newsbot reindex` first"
        )
        self.stored, self.configured = stored, configured


class OperatorError(NewsbotError):
    """A problem on the library's own machine (its database, its folder). The message names server
    details (paths, a database address) for the operator's terminal and logs; `chat` is what a
    member of a Discord server is told instead."""

    chat = "The news library is unavailable right now; please try again in a few minutes."


class StoreUnavailableError(OperatorError):
    """The news database cannot be reached (PostgreSQL down, say)."""


class NotWritableError(OperatorError):
    """The library's folder or database cannot be written."""

    chat = "The news library cannot be changed right now; an operator needs to look at the bot's logs."
