"""Small text helpers every room of the library shares."""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """`text` with lone UTF-16 surrogates (from a JSON `\\ud800` escape) made U+FFFD: they cannot be
    stored, encoded or printed, and would take their neighbours down with them."""
    return _LONE_SURROGATE.sub("\ufffd", text)
