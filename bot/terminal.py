"""The operator's terminal: printing article text safely, progress bars, and quiet model loading."""

from __future__ import annotations

import logging
import re
import sys

from bot.render import BOLD, PLAIN, printable


def say(text: str = "", file=None, flush: bool = False) -> None:
    """print(), with control characters from article text stripped (see `printable`) and the answer
    `highlight` marked in bold where the output is a terminal that shows it (plain elsewhere)."""
    out = file or sys.stdout
    parts = re.split(f"([{BOLD}{PLAIN}])", str(text))
    if len(parts) > 1:
        bold = _shows_bold(out)
        codes = {BOLD: "\x1b[1m" if bold else "", PLAIN: "\x1b[0m" if bold else ""}
        text = "".join(codes[part] if part in codes else printable(part) for part in parts)
    else:
        text = printable(parts[0])
    print(text, file=out, flush=flush)


def _shows_bold(out) -> bool:
    import os

    return out.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM", "") not in ("", "dumb")


def quiet_libraries() -> None:
    """Model loading chatters on stderr (progress bars, hub notices); an operator wants none of it.
    Said through the environment the libraries read when they load: importing transformers here just
    to quiet it cost every command, `status` included, more than half a second."""
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for name in ("sentence_transformers", "transformers", "huggingface_hub", "faiss", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


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


def loading(what: str) -> None:
    """Say on a terminal what the next seconds are spent loading (nothing when stderr is piped)."""
    if sys.stderr.isatty():
        say(f"loading {what}…", file=sys.stderr, flush=True)
