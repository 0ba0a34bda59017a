"""Feed lists in and out as OPML 2.0, the format every feed reader imports and exports.

Read with expat directly, refusing any DOCTYPE or entity declaration, so a file cannot make us
fetch an external entity or expand a billion laughs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.parsers import expat
from xml.sax.saxutils import quoteattr

from index.errors import NewsbotError, Notice, RefusedURLError
from index.intake.poller import feed_name
from index.models import Source
from index.text import hide_credentials, holds_credentials

MAX_OPML_BYTES = 5 * 1024 * 1024  # a feed reader's export of thousands of feeds is well under 1 MB
IMPORTING_AT_ONCE = 16  # outlines checked side by side
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # no XML document may hold these


class OPMLError(NewsbotError):
    """The file is no OPML we can read; nothing is added from it."""


@dataclass(frozen=True)
class Outline:
    """One feed an OPML file lists: its address, the title the reader gave it, and where it is."""

    url: str
    title: str
    line: int


@dataclass
class SourceImport:
    """What an OPML import did: one line per outline that was not simply added, and the count."""

    lines: list[Notice] = field(default_factory=list)
    added: list[Source] = field(default_factory=list)
    outlines: int = 0

    def summary(self) -> str:
        skipped = self.outlines - len(self.added)
        return f"added {len(self.added)} of {self.outlines} feeds" + (f"; {skipped} skipped" if skipped else "")


class _Reader:
    """Collects the feed outlines of an OPML document, at any depth of folders."""

    def __init__(self) -> None:
        self.parser = expat.ParserCreate()
        self.parser.StartDoctypeDeclHandler = self._refuse  # no DTD: no entities, internal or external
        self.parser.EntityDeclHandler = self._refuse
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.outlines: list[Outline] = []
        self.notes: list[tuple[int, Notice]] = []  # (line, what is wrong with the outline there)
        self.root = ""
        self.in_body = False
        self._open: list[tuple[str, dict[str, str], int, bool]] = []  # outline: tag, attributes, line, has children

    def _refuse(self, *_: object) -> None:
        raise OPMLError("it declares a DOCTYPE or entities, which OPML never needs; refused")

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        self.root = self.root or tag
        if tag == "body" and len(self._open) == 0:
            self.in_body = True
        if tag == "outline":
            if self._open:
                self._open[-1] = (*self._open[-1][:3], True)
            self._open.append(
                (tag, {k.lower(): v for k, v in attributes.items()}, self.parser.CurrentLineNumber, False)
            )

    def _end(self, tag: str) -> None:
        if tag == "body":
            self.in_body = False
        if tag != "outline" or not self._open:
            return
        _, attributes, line, folder = self._open.pop()
        if not self.in_body:
            return
        title = " ".join((attributes.get("title") or attributes.get("text") or "").split())
        if url := attributes.get("xmlurl", "").strip():
            self.outlines.append(Outline(url, title, line))
        elif not folder:  # a folder holds feeds; an empty outline without an address is no feed
            self.notes.append(
                (line, Notice(f"line {line}: {_quoted(title) or 'an outline'} has no xmlUrl, so no feed; skipped"))
            )


def read_opml(data: bytes) -> tuple[list[Outline], list[tuple[int, Notice]]]:
    """(the feeds an OPML file lists in document order, (line, what is wrong) for each outline that is no feed);
    OPMLError in one line for a file too big, not XML, or not OPML."""
    refuse_oversized(len(data))
    reader = _Reader()
    try:
        reader.parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise OPMLError(
            f"not an OPML file: the XML is broken at line {exc.lineno}, column {exc.offset + 1}"
            f" ({expat.ErrorString(exc.code)})"
        ) from None
    if reader.root.lower() != "opml":
        raise OPMLError(f"not an OPML file: its root is <{reader.root[:40]}>, not <opml>")
    return reader.outlines, reader.notes


def refuse_oversized(size: int) -> None:
    """OPMLError when a file of `size` bytes is more than an import reads (said before it is downloaded)."""
    if size > MAX_OPML_BYTES:
        raise OPMLError(f"the file holds {size:,} bytes; an OPML file of at most {MAX_OPML_BYTES:,} is read")


def _quoted(title: str) -> str:
    return f"'{title[:80]}'" if title else ""


def source_name(outline: Outline) -> str | None:
    """The outline's title as the source's name when it is one a person would give: not empty, not
    the address itself, no credentials (`feed_name`); else None (the host or the feed's title names it)."""
    name = feed_name(outline.title)
    if not name or name.rstrip("/") == outline.url.rstrip("/") or re.match(r"(?i)[a-z][a-z0-9+.-]*://", name):
        return None
    return name


Add = Callable[..., Source]
Probe = Callable[[str], tuple[object, str]]


def import_opml(data: bytes, add: Add, probe: Probe | None) -> SourceImport:
    """Add each feed an OPML file lists with `add` (`Library.add_source`), read once first with `probe`
    when given (a dead feed is then not added). Each outline refused, listed twice, already a source
    or no feed is said in one line, in file order, and the rest are added; a file that cannot be read
    raises OPMLError and adds nothing."""
    outlines, notes = read_opml(data)
    report = SourceImport(outlines=len(outlines))
    said = list(notes)
    seen: dict[str, int] = {}
    firsts = []
    for outline in outlines:
        if outline.url in seen:
            said.append(
                (outline.line, Notice(f"{_where(outline)}: listed already at line {seen[outline.url]}; skipped"))
            )
        else:
            seen[outline.url] = outline.line
            firsts.append(outline)
    # Side by side: each outline waits on a DNS look-up (and with `probe`, a fetch) far more than on us.
    # The sources' ids then follow the file's order only roughly; the report keeps it.
    with ThreadPoolExecutor(IMPORTING_AT_ONCE, thread_name_prefix="newsbot-opml") as pool:
        for outline, (source, problem) in zip(firsts, pool.map(lambda o: _add(o, add, probe), firsts), strict=True):
            if source is not None:
                report.added.append(source)
            if problem is not None:
                said.append((outline.line, Notice(f"{_where(outline)}: {problem}", problem.parameters)))
    report.lines = [note for _, note in sorted(said, key=lambda pair: pair[0])]
    return report


def _where(outline: Outline) -> str:
    title = _quoted(outline.title) + " " if outline.title and not holds_credentials(outline.title) else ""
    return f"line {outline.line}: {title}{_shown(outline.url)}"


def _add(outline: Outline, add: Add, probe: Probe | None) -> tuple[Source | None, Notice | None]:
    """Add one outline's feed: (the source, or what went wrong)."""
    if not outline.url.lower().startswith(("http://", "https://")):
        return None, Notice("only http(s) feed addresses can be imported; skipped")
    name = source_name(outline)
    if probe is not None:  # read once, as `sources add` does: a typo or a dead feed is said now
        try:
            title = probe(outline.url)[1]
        except NewsbotError as exc:
            dead = "" if isinstance(exc, RefusedURLError) else " (`--no-check` adds it anyway)"
            return None, Notice(f"{exc}; not added{dead}", exc.parameters)
        name = name or title or None
    try:
        return add(outline.url, name, None, web_only=True, resolve=probe is not None), None
    except NewsbotError as exc:
        return None, Notice(f"{exc}; skipped", exc.parameters)


def _shown(url: str) -> str:
    return hide_credentials(url if len(url) <= 200 else url[:200] + "…")


def write_opml(sources: Iterable[Source], *, shown: bool = False, title: str = "newsbot sources") -> tuple[str, int]:
    """(OPML 2.0 listing the web sources, as feed readers import it; how many file sources were left
    out: no feed reader reads a folder on this machine). `shown`: credentials in addresses masked."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{_escape(title)}</title>",
        f"    <dateCreated>{format_datetime(datetime.now(UTC), usegmt=True)}</dateCreated>",
        "  </head>",
        "  <body>",
    ]
    left_out = 0
    for source in sources:
        if source.kind != "web":
            left_out += 1
            continue
        url = source.shown().location if shown else source.location
        name = quoteattr(_CONTROL.sub("", source.name))
        lines.append(f'    <outline type="rss" text={name} title={name} xmlUrl={quoteattr(_CONTROL.sub("", url))}/>')
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines), left_out


def _escape(text: str) -> str:
    return quoteattr(_CONTROL.sub("", text))[1:-1]
