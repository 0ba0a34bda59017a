"""Errors a user can cause, carrying a message fit to show them as it is."""


class NewsbotError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class NothingIndexedError(NewsbotError):
    def __init__(self) -> None:
        super().__init__("no news indexed yet; run `newsbot ingest PATH` first")
