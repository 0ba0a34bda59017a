"""Reading articles from JSONL files and folders, and reporting what is wrong with bad input."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from index.errors import NewsbotError
from index.intake import read_articles
from index.intake.sources import html_to_article_text, normalise_published
from tests.conftest import write_jsonl


def read_all(*paths):
    problems: list[str] = []
    articles = list(read_articles(paths, problems.append))
    return articles, problems


def test_jsonl_fields_and_unknown_fields(tmp_path):
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {
                "url": "https://x.test/1",
                "text": "Body one.",
                "title": "  One  title ",
                "published": "2025-10-21",
                "source": "wire",
                "extra": [1, 2],
            },
            {"url": "https://x.test/2", "text": "Body two.", "published": "2025-10-21T09:00:00+09:00"},
        ],
    )
    articles, problems = read_all(path)
    assert problems == []
    assert [a.url for a in articles] == ["https://x.test/1", "https://x.test/2"]
    assert articles[0].title == "One title"
    assert articles[0].published == "2025-10-21"
    assert articles[1].published == "2025-10-21T09:00:00+09:00"  # as the newsroom dated it
    assert articles[1].title == "" and articles[1].source == ""


def test_malformed_lines_are_reported_with_line_numbers_and_good_lines_kept(tmp_path):
    path = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            {"url": "https://x.test/good", "text": "Fine."},
            "{not json",
            {"text": "no url"},
            {"url": "https://x.test/no-text"},
            "[1, 2]",
            {"url": "https://x.test/bad-date", "text": "Kept.", "published": "yesterday"},
            {"url": "https://x.test/also-good", "text": "Also fine."},
        ],
    )
    articles, problems = read_all(path)
    assert [a.url for a in articles] == ["https://x.test/good", "https://x.test/also-good"]
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:{n}" for n in (2, 3, 4, 5, 6)]
    assert "missing 'url'" in problems[1] and "missing 'text'" in problems[2]


def test_gzipped_jsonl(tmp_path):
    path = tmp_path / "news.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"url": "https://x.test/gz", "text": "Compressed story."}) + "\n")
    articles, problems = read_all(path)
    assert [a.text for a in articles] == ["Compressed story."] and problems == []


def test_non_utf8_binary_and_empty_files_are_reported(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 story".encode("latin-1"))
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "bad.jsonl").write_bytes(b'{"url": "u", "text": "\xff\xfe"}\n')
    articles, problems = read_all(tmp_path)
    assert articles == []
    joined = "\n".join(problems)
    assert "latin1.txt: not UTF-8" in joined
    assert "blob.txt: binary file" in joined
    assert "empty.md: empty" in joined
    assert "bad.jsonl:1: not UTF-8" in joined


def test_folder_of_text_markdown_and_html(tmp_path):
    (tmp_path / "storm.txt").write_text("Storm hits coast\nA storm reached the coast on Monday.\n")
    (tmp_path / "budget.md").write_text("# Budget passes\n\nThe budget passed by 51 votes to 49.\n")
    (tmp_path / "page.html").write_text(
        "<html><head><title>Site | Page</title><script>var tracking = 1;</script></head><body>"
        "<nav>Home | World | Sport</nav><article><h1>Rocket lands</h1><p>The booster landed upright.</p>"
        "<p>It was the &quot;tenth&quot; landing.</p></article><footer>Copyright</footer></body></html>"
    )
    (tmp_path / "notes.csv").write_text("ignored,because,not news\n")
    articles, problems = read_all(tmp_path)
    assert problems == []
    by_title = {a.title: a for a in articles}
    assert set(by_title) == {"Storm hits coast", "Budget passes", "Rocket lands"}
    assert by_title["Storm hits coast"].text == "A storm reached the coast on Monday."
    page = by_title["Rocket lands"]
    assert 'It was the "tenth" landing.' in page.text
    assert "tracking" not in page.text and "Home | World" not in page.text and "Copyright" not in page.text
    assert page.url.startswith("file://")


@pytest.mark.parametrize("dateline", ["Oct 26, 2025", "October 26, 2025", "26 October 2025", "2025-10-26"])
def test_a_plain_text_storys_dateline_is_its_date_not_part_of_its_first_quote(tmp_path, dateline):
    (tmp_path / "call.txt").write_text(f"Leaders hold a call\n\n{dateline}\n\nThe two leaders spoke for ten minutes.\n")
    (tmp_path / "undated.txt").write_text("No date here\n\nOctober was a busy month for the port.\n")
    articles, problems = read_all(tmp_path)
    by_title = {a.title: a for a in articles}
    assert problems == [] and by_title["Leaders hold a call"].published == "2025-10-26"
    assert by_title["Leaders hold a call"].text == "The two leaders spoke for ten minutes."
    assert by_title["No date here"].published is None
    assert by_title["No date here"].text == "October was a busy month for the port."


def test_html_without_article_keeps_paragraphs():
    title, text = html_to_article_text("<title>Only title</title><p>One.</p><p>Two.</p><style>p{}</style>")
    assert title == "Only title"
    assert text.splitlines() == ["One.", "Two."]


def test_missing_path_and_unsupported_file_fail_before_reading(tmp_path):
    with pytest.raises(NewsbotError, match="no such file"):
        read_all(tmp_path / "absent.jsonl")
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(NewsbotError, match="unsupported file type"):
        read_all(tmp_path / "data.csv")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-02", "2025-01-02"),
        ("2025-01-02T03:04:05Z", "2025-01-02T03:04:05+00:00"),
        ("2025-11-12T23:30-05:00", "2025-11-12T23:30:00-05:00"),  # the newsroom's own date, not UTC's
        ("2025-11-12T23:30:00", "2025-11-12T23:30:00+00:00"),
        (None, None),
        ("", None),
    ],
)
def test_published_normalised(value, expected):
    assert normalise_published(value) == expected


def test_published_sorts_by_its_utc_instant():
    from index.dates import published_utc

    assert published_utc("2025-11-12T23:30:00-05:00") == "2025-11-13T04:30:00+00:00"
    assert published_utc("2025-11-12") == "2025-11-12" and published_utc(None) is None


def test_published_rejects_garbage():
    with pytest.raises(ValueError):
        normalise_published("last Tuesday")


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-05:00"])
def test_a_date_with_no_utc_instant_is_a_bad_line_not_a_lost_batch(value, tmp_path):
    """Such a date once passed here and raised OverflowError inside the write, losing the batch."""
    with pytest.raises(ValueError, match="out of range"):
        normalise_published(value)
    path = write_jsonl(
        tmp_path / "dates.jsonl",
        [
            {"url": "https://x.test/before", "text": "A good story."},
            {"url": "https://x.test/odd", "text": "An oddly dated story.", "published": value},
            {"url": "https://x.test/after", "text": "Another good story.", "published": "2025-10-21"},
        ],
    )
    articles, problems = read_all(path)
    assert [a.url for a in articles] == ["https://x.test/before", "https://x.test/after"]
    assert len(problems) == 1 and ":2:" in problems[0] and "out of range" in problems[0]


def test_a_feed_date_with_no_utc_instant_leaves_the_entry_undated():
    from index.intake.feeds import parse_feed

    feed = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Far future</title>'
        b'<entry><title>Late</title><link href="https://x.test/late"/><id>late</id>'
        b"<published>9999-12-31T23:00:00-05:00</published></entry></feed>"
    )
    _, (entry,), _ = parse_feed(feed, "https://x.test/feed", 10)
    assert entry.url == "https://x.test/late" and entry.published is None


def test_hostile_jsonl_lines_are_skipped_by_number_and_good_lines_kept(tmp_path):
    good = {"url": "https://x.test/good", "text": "A good story."}
    path = tmp_path / "rough.jsonl"
    with path.open("wb") as handle:
        handle.write(json.dumps(good).encode() + b"\n")
        handle.write(b'{"url": "https://x.test/latin", "text": "caf\xe9"}\n')  # line 2: not UTF-8
        handle.write(b"[" * 100_000 + b"]" * 100_000 + b"\n")  # line 3: nested 100k deep
        handle.write(json.dumps({"url": "https://x.test/after", "text": "After the bad lines."}).encode() + b"\n")
    articles, problems = read_all(path)
    assert [a.url for a in articles] == ["https://x.test/good", "https://x.test/after"]
    assert any("rough.jsonl:2: not UTF-8" in p for p in problems)
    assert any("rough.jsonl:3: JSON nested too deeply" in p for p in problems)


def test_corrupt_gzip_after_a_good_file_keeps_everything_readable(tmp_path):
    first = write_jsonl(tmp_path / "first.jsonl", [{"url": "https://x.test/1", "text": "One."}])
    corrupt = tmp_path / "second.jsonl.gz"
    packed = gzip.compress(
        b"".join(json.dumps({"url": f"https://x.test/g{i}", "text": "Two."}).encode() + b"\n" for i in range(2000))
    )
    corrupt.write_bytes(packed[:12] + bytes(range(256)) * 8)  # a gzip header, then no valid deflate stream
    articles, problems = read_all(first, corrupt)
    assert [a.url for a in articles] == ["https://x.test/1"]
    assert len(problems) == 1 and "second.jsonl.gz: cannot read" in problems[0]


def test_lone_surrogate_is_replaced_not_fatal(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"url": "https://x.test/s", "title": "Odd \\ud800 title", "text": "Text \\udfff here."}\n')
    (article,), problems = read_all(path)
    assert problems == [] and article.text == "Text \ufffd here." and article.title == "Odd \ufffd title"
    article.text.encode("utf-8")  # storable


def test_a_path_too_long_is_a_clear_error(tmp_path):
    with pytest.raises(NewsbotError, match="cannot read .*File name too long"):
        read_all(tmp_path / ("x" * 5000 + ".jsonl"))


def test_an_unlistable_subfolder_is_reported_and_the_rest_read(tmp_path, monkeypatch):
    (tmp_path / "a.md").write_text("# Readable\n\nThis one is fine.\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "b.md").write_text("# Hidden\n\nNever read.\n")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # root reads everything: simulate the unreadable folder
    articles, problems = read_all(tmp_path)
    assert [a.title for a in articles] == ["Readable"]
    assert problems == [f"{locked}: cannot read (Permission denied); skipped"]
