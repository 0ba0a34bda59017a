"""Read articles from files: JSONL (optionally gzipped) or folders of .txt / .md / .html / .jsonl."""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

from index.dates import normalise_published
from index.errors import NewsbotError
from index.models import Article
from index.text import without_surrogates

ProblemSink = Callable[[str], None]

FOLDER_SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl", ".jsonl.gz")


def article_from_record(record: object) -> Article:
    """Build an Article from one decoded JSON record; raises ValueError naming what is wrong."""
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    url, text = record.get("url"), record.get("text")
    if not isinstance(url, str) or not url.strip():
        raise ValueError("missing 'url'")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("missing 'text'")
    title = record.get("title") or ""
    source = record.get("source") or ""
    image = record.get("image") or None  # checked at ingest (`images.image_url`)
    if not isinstance(title, str) or not isinstance(source, str) or not isinstance(image, str | None):
        raise ValueError("'title', 'source' and 'image' must be strings")
    return Article(
        url=without_surrogates(url.strip()),
        text=without_surrogates(text.strip()),
        title=without_surrogates(" ".join(title.split())),
        published=normalise_published(record.get("published")),
        source=without_surrogates(source.strip()),
        image=image,
    )


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def read_jsonl(path: Path, on_problem: ProblemSink) -> Iterator[Article]:
    """One article a line. Each line is decoded on its own: a bad line (not UTF-8, not JSON, nested
    too deep, missing fields) is reported with its number and skipped; a file that breaks off
    (a corrupt or truncated gzip) keeps every article read before the break."""
    number = 0
    try:
        with _open_binary(path) as lines:
            for number, raw in enumerate(lines, start=1):
                if not raw.strip():
                    continue
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    on_problem(f"{path}:{number}: not UTF-8 text (byte {exc.start + 1}); line skipped")
                    continue
                try:
                    yield article_from_record(json.loads(line))
                except json.JSONDecodeError as exc:
                    on_problem(f"{path}:{number}: not valid JSON ({exc.msg})")
                except RecursionError:
                    on_problem(f"{path}:{number}: JSON nested too deeply; line skipped")
                except ValueError as exc:
                    on_problem(f"{path}:{number}: {exc}")
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        where = f" after line {number}" if number else ""
        on_problem(f"{path}: cannot read{where} ({exc}); the rest of the file skipped")


class _ArticleHTML(HTMLParser):
    """Keeps headings, paragraphs and list items; drops scripts, navigation and page furniture."""

    SKIP = {"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "template"}
    BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "div", "br"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.first_heading = ""
        self._skip_depth = 0
        self._in_title = False
        self._in_h1 = False
        self._in_article = 0
        self._blocks: list[list[str]] = [[]]
        self._article_blocks: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip_depth += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "article" or tag == "main":
            self._in_article += 1
        if tag == "h1":
            self._in_h1 = True
        if tag in self.BLOCKS:
            self._new_block()

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip_depth:
            self._skip_depth -= 1
        elif tag == "title":
            self._in_title = False
        elif tag in ("article", "main") and self._in_article:
            self._in_article -= 1
        if tag == "h1":
            self._in_h1 = False
        if tag in self.BLOCKS:
            self._new_block()

    def handle_data(self, data):
        if self._in_title:
            self.title += data
            return
        if self._skip_depth:
            return
        if self._in_h1:
            self.first_heading = self.first_heading or " ".join(data.split())
        self._blocks[-1].append(data)
        if self._in_article and (not self._article_blocks or self._article_blocks[-1] is not self._blocks[-1]):
            self._article_blocks.append(self._blocks[-1])

    def _new_block(self):
        if self._blocks[-1]:
            self._blocks.append([])

    def text(self) -> str:
        blocks = self._article_blocks or self._blocks
        paragraphs = (" ".join("".join(block).split()) for block in blocks)
        return "\n".join(p for p in paragraphs if p)


def html_to_article_text(html: str) -> tuple[str, str]:
    """(title, text) of an HTML page: the <article>/<main> body when marked, else all paragraphs."""
    parser = _ArticleHTML()
    parser.feed(html)
    parser.close()
    title = parser.first_heading or " ".join(parser.title.split())
    return title, parser.text()


def read_document(path: Path, on_problem: ProblemSink) -> Article | None:
    """A .txt / .md / .html file as one article; its URL is the file's own URI."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        on_problem(f"{path}: cannot read ({exc})")
        return None
    if b"\x00" in raw[:4096]:
        on_problem(f"{path}: binary file, not text; skipped")
        return None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        on_problem(f"{path}: not UTF-8 text; skipped")
        return None
    content = without_surrogates(content)
    published = None  # a file's mtime says when it was saved, not when the story ran
    if path.suffix.lower() in (".html", ".htm"):
        title, text = html_to_article_text(content)
    else:
        title, text = _title_and_body(content, markdown=path.suffix.lower() == ".md")
        published, text = _dateline(text)
    if not text.strip():
        on_problem(f"{path}: empty; skipped")
        return None
    return Article(
        url=path.resolve().as_uri(),
        text=text.strip(),
        title=title or path.stem.replace("-", " ").replace("_", " "),
        published=published,
        source=path.parent.name,
    )


def _title_and_body(content: str, *, markdown: bool) -> tuple[str, str]:
    lines = content.strip().splitlines()
    if not lines:
        return "", ""
    first = lines[0].strip()
    if markdown and first.startswith("#"):
        return first.lstrip("#").strip(), "\n".join(lines[1:])
    if markdown:
        return "", content
    # A plain-text story conventionally opens with its headline on a line of its own.
    if len(lines) > 1 and len(first.split()) <= 25 and not first.endswith((".", "?", "!")):
        return first, "\n".join(lines[1:])
    return "", content


_DATELINE_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%b. %d, %Y")


def _dateline(body: str) -> tuple[str | None, str]:
    """A story's date when the line under its headline is nothing but a date ("Oct 26, 2025"), and
    the body without that line (else it would be glued into the first quote)."""
    lines = body.strip().splitlines()
    if not lines:
        return None, body
    line = lines[0].strip()
    for form in _DATELINE_FORMATS:
        try:
            day = datetime.strptime(line, form).date()
        except ValueError:
            continue
        return day.isoformat(), "\n".join(lines[1:])
    return None, body


def read_articles(paths: Iterable[str | Path], on_problem: ProblemSink) -> Iterator[Article]:
    """Articles from every path, in order. A path that does not exist or cannot be read as
    news at all raises NewsbotError before anything is read; per-line and per-file problems
    go to `on_problem` and the rest is still read."""
    resolved = [Path(p) for p in paths]
    for path in resolved:
        shown = str(path) if len(str(path)) <= 200 else str(path)[:200] + "…"
        try:
            exists, is_file = path.exists(), path.is_file()
        except OSError as exc:  # a name too long, a loop of links
            raise NewsbotError(f"cannot read {shown}: {exc.strerror or exc}") from None
        if not exists:
            raise NewsbotError(f"no such file or folder: {shown}")
        if is_file and not path.name.lower().endswith(FOLDER_SUFFIXES):
            raise NewsbotError(f"{shown}: unsupported file type (use .jsonl, .jsonl.gz, .txt, .md or .html)")
    for path in resolved:
        if path.is_dir():
            files = sorted(_news_files(path, on_problem))
            if not files:
                on_problem(f"{path}: no .jsonl, .txt, .md or .html files in this folder")
            for file in files:
                yield from _read_file(file, on_problem)
        else:
            yield from _read_file(path, on_problem)


def _news_files(folder: Path, on_problem: ProblemSink) -> Iterator[Path]:
    """Every news file under `folder`; a subfolder that cannot be listed is reported and skipped."""

    def unreadable(error: OSError) -> None:
        on_problem(f"{error.filename or folder}: cannot read ({error.strerror or error}); skipped")

    for root, _, names in os.walk(folder, onerror=unreadable):
        for name in names:
            if name.lower().endswith(FOLDER_SUFFIXES) and (path := Path(root, name)).is_file():
                yield path


def _read_file(path: Path, on_problem: ProblemSink) -> Iterator[Article]:
    if path.name.lower().endswith((".jsonl", ".jsonl.gz")):
        yield from read_jsonl(path, on_problem)
    else:
        article = read_document(path, on_problem)
        if article is not None:
            yield article


_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?:\s|$)")


def not_news(text: str) -> str | None:
    """Why a file's text does not look like a news story (documentation, code, a list), or None."""
    if "```" in text or "~~~" in text:
        return "it holds markdown code blocks, as documentation does, not news"
    if not _SENTENCE_END.search(text):
        return "it holds no sentence, as a list or a table does, not news"
    return None
