"""Feed lists in and out as OPML: a feed reader's export imports outline by outline, the export
imports back to the same sources, and a broken or hostile file adds nothing."""

from __future__ import annotations

import json

import pytest

from bot.app import create_bot
from bot.settings import Settings
from index.intake import import_opml, write_opml
from index.intake.opml import MAX_OPML_BYTES, OPMLError, read_opml
from tests.newsserver import NewsServer
from tests.test_bot import shown
from tests.test_cli import newsbot

# The library's fetch parameters for a server on 127.0.0.1 that answers at once.
TEST_FETCH = {"fetch_timeout_seconds": 2, "fetch_total_seconds": 2, "fetch_allowed_hosts": ("127.0.0.1",)}


def reader_export(base: str) -> bytes:
    """An OPML file as a common feed reader exports one: OPML 1.0, folders within folders, `text`
    and `title` both given, a feed listed in two folders, a bookmark that is no feed, an intranet
    address, and a title that carries someone's password."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Alice subscriptions in Feed Reader</title></head>
  <body>
    <outline text="World" title="World">
      <outline type="rss" text="Test Herald" title="Test Herald" xmlUrl="{base}/rss.xml" htmlUrl="{base}/"/>
      <outline text="Europe" title="Europe">
        <outline type="rss" text="Other Wire" title="Other Wire" xmlUrl="{base}/atom.xml"/>
      </outline>
    </outline>
    <outline text="Tech" title="Tech">
      <outline type="rss" text="Herald again" xmlUrl="{base}/rss.xml"/>
      <outline type="rss" text="Intranet news" xmlUrl="http://10.0.0.7/feed.xml"/>
      <outline type="link" text="A bookmark" url="https://example.org/reading"/>
      <outline type="rss" text="admin:hunter2@feeds.example.org" xmlUrl="https://feeds.example.org/all.xml"/>
    </outline>
  </body>
</opml>
""".encode()


@pytest.fixture
def server():
    with NewsServer() as running:
        yield running


def test_a_feed_readers_export_imports_with_a_line_per_outline_not_added(make_library, tmp_path, server):
    library = make_library(tmp_path / "data", **TEST_FETCH)
    report = import_opml(reader_export(server.base), library.add_source, None)
    lines = [str(line) for line in report.lines]
    assert len(lines) == 3 and report.summary() == "added 3 of 5 feeds; 2 skipped"
    assert lines[0].startswith(f"line 12: 'Herald again' {server.base}/rss.xml: listed already at line 6")
    assert lines[1].startswith("line 13: 'Intranet news' http://10.0.0.7/feed.xml: 10.0.0.7 resolves to a non-public")
    assert lines[2] == "line 14: 'A bookmark' has no xmlUrl, so no feed; skipped"
    named = {s.location: s.name for s in library.sources()}
    assert named == {
        f"{server.base}/rss.xml": "Test Herald",
        f"{server.base}/atom.xml": "Other Wire",
        "https://feeds.example.org/all.xml": "feeds.example.org",  # never a password in a name
    }
    again = import_opml(reader_export(server.base), library.add_source, None)  # each is now already a source
    assert again.added == [] and "is already a source; skipped" in str(again.lines[0])


def test_checked_import_reads_each_feed_first_and_leaves_out_a_dead_one(make_library, tmp_path, server):
    library = make_library(tmp_path / "data", **TEST_FETCH)
    opml = (
        '<opml version="2.0"><body>'
        f'<outline text="{server.base}/rss.xml" xmlUrl="{server.base}/rss.xml"/>'
        f'<outline text="Gone" xmlUrl="{server.base}/no-such-feed.xml"/>'
        "</body></opml>"
    ).encode()
    report = import_opml(opml, library.add_source, library.probe_source)
    assert [s.name for s in report.added] == ["Test Herald"]  # a title that is its address: the feed's own
    assert len(report.lines) == 1 and "not added (`--no-check` adds it anyway)" in str(report.lines[0])


@pytest.mark.parametrize(
    "opml, said",
    [
        (b'<opml version="2.0"><body><outline text="x" xmlUrl="https://a.example.org/f"', "XML is broken at line 1"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "its root is <rss>, not <opml>"),
        (b"", "XML is broken"),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b'<opml version="2.0"><body><outline text="&b;" xmlUrl="https://a.example.org/f"/></body></opml>',
            "declares a DOCTYPE",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "http://127.0.0.1:9/evil.dtd">'
            b'<opml version="2.0"><body/></opml>',
            "declares a DOCTYPE",
        ),
        (b"<opml><body>" + b" " * MAX_OPML_BYTES + b"</body></opml>", "an OPML file of at most 5,242,880"),
    ],
    ids=["broken", "rss", "empty", "entities", "external", "oversized"],
)
def test_a_malformed_or_oversized_file_is_one_line_and_adds_nothing(make_library, tmp_path, opml, said):
    library = make_library(tmp_path / "data")
    with pytest.raises(OPMLError) as refused:
        import_opml(opml, library.add_source, None)
    assert said in str(refused.value) and "\n" not in str(refused.value)
    assert library.sources() == []


def test_the_export_imports_back_to_the_same_sources(make_library, tmp_path):
    first = make_library(tmp_path / "first")
    for location, name in [
        ("https://news.example.org/rss", 'Morning <News> & "Views"'),
        ("https://wire.example.net/feed.atom?key=s3cret", None),
        ("https://blog.example.com/feed/", "Café Économie"),
    ]:
        first.add_source(location, name, resolve=False)
    local = tmp_path / "folder"
    local.mkdir()
    first.add_source(str(local))
    opml, left_out = write_opml(first.sources())
    assert left_out == 1 and '<opml version="2.0">' in opml
    second = make_library(tmp_path / "second")
    report = import_opml(opml.encode(), second.add_source, None)
    assert report.lines == [] and len(report.added) == 3
    web = [(s.location, s.name) for s in first.sources() if s.kind == "web"]
    assert sorted((s.location, s.name) for s in second.sources()) == sorted(web)
    masked, _ = write_opml(first.sources(), shown=True)
    assert "s3cret" not in masked and "s3cret" in opml
    outlines, _ = read_opml(masked.encode())
    assert len(outlines) == 3


def test_the_command_line_imports_and_exports(tmp_path):
    opml = tmp_path / "subscriptions.opml"
    opml.write_bytes(reader_export("https://herald.example.org"))
    imported = newsbot("sources", "import", str(opml), "--no-check", data_dir=tmp_path / "a")
    assert imported.returncode == 1, imported.stderr  # some outlines were not added
    lines = imported.stdout.splitlines()
    assert lines[-1] == "added 3 of 5 feeds; 2 skipped" and len(lines) == 4
    assert "NEWSBOT_FETCH_ALLOWED_HOSTS" in lines[1]  # the library's parameter, said as the setting
    exported = newsbot("sources", "export", data_dir=tmp_path / "a")
    assert exported.returncode == 0 and exported.stdout.count("<outline ") == 3
    (tmp_path / "out.opml").write_text(exported.stdout)
    back = newsbot("sources", "import", str(tmp_path / "out.opml"), "--no-check", data_dir=tmp_path / "b")
    assert back.returncode == 0 and back.stdout == "added 3 of 3 feeds\n"
    listed = [
        sorted((s["location"], s["name"]) for s in json.loads(newsbot("sources", "list", "--json", data_dir=d).stdout))
        for d in (tmp_path / "a", tmp_path / "b")
    ]
    assert listed[0] == listed[1]
    (tmp_path / "broken.opml").write_text("<opml><body><outline")
    broken = newsbot("sources", "import", str(tmp_path / "broken.opml"), data_dir=tmp_path / "c")
    assert broken.returncode == 1 and len((broken.stdout + broken.stderr).strip().splitlines()) == 1


@pytest.fixture
def simcord_bot(make_library, tmp_path):
    settings = Settings(data_dir=tmp_path / "botdata", admin_user_ids=[4242], _env_file=None)
    return create_bot(settings, library=make_library(tmp_path / "botdata"))


@pytest.mark.simcord(shard_count=1)
async def test_operators_import_an_attachment_and_export_one(simcord_env):
    env = simcord_env
    guild = env.create_guild()
    channel = guild.create_text_channel("news")
    operators = guild.create_role("Newsbot operators")
    env.bot.settings.admin_role_ids.append(operators.id)
    operator = guild.add_member(env.create_user("operator"), roles=[operators])
    stranger = guild.add_member(env.create_user("stranger"))
    upload = ("subscriptions.opml", reader_export("https://herald.example.org"))
    refused = await stranger.slash(channel, "sources import", file=upload, check=False)
    assert "only the bot's operators" in refused.response.content and env.bot.library.sources() == []
    result = await operator.slash(channel, "sources import", file=upload, check=False)
    said = shown(result)
    assert said.ephemeral and said.content.startswith("Added 3 of 5 feeds; 2 skipped.")
    assert "listed already at line 6" in said.content and "NEWSBOT\\_FETCH\\_ALLOWED\\_HOSTS" in said.content
    assert "hunter2" not in said.content
    exported = await operator.slash(channel, "sources export")
    assert exported.response.ephemeral and exported.response.content.startswith("3 feeds as OPML")
    (attachment,) = exported.response.attachments
    assert attachment.filename == "newsbot-sources.opml"
    outlines, _ = read_opml(await attachment.read())
    assert sorted(o.url for o in outlines) == sorted(s.location for s in env.bot.library.sources())
    broken = await operator.slash(channel, "sources import", file=("x.opml", b"<opml><body>"), check=False)
    assert "Not an OPML file" in shown(broken).content and len(env.bot.library.sources()) == 3


def test_checking_feeds_at_once_shares_one_fetcher(make_library, tmp_path):
    """An import checks 16 feeds at a time: the threads share one fetcher (one connection pool, one
    per-host backoff), not one each."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    library = make_library(tmp_path / "data")
    start = threading.Barrier(16)

    def fetcher(_: int) -> int:
        start.wait()
        return id(library._web())

    with ThreadPoolExecutor(16) as pool:
        assert len(set(pool.map(fetcher, range(16)))) == 1
