"""Errors a user can cause, carrying a message fit to show them as it is."""


class NewsbotError(Exception):
    """A problem with the user's input or environment, explained in one line."""


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
