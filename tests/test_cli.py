"""The `newsbot` command line contract, run as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from tests.conftest import DEMO_QUESTION, ROOT, SAMPLE_NEWS, filler_news, write_jsonl


def newsbot(*args: str, data_dir=None, env_extra=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(env_extra or {})
    prefix = ["--data-dir", str(data_dir)] if data_dir else []
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *prefix, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "data"
    result = newsbot("ingest", str(SAMPLE_NEWS), data_dir=folder)
    assert result.returncode == 0, result.stderr
    assert "6 added" in result.stdout
    return folder


def test_ask_json_contract(data_dir):
    result = newsbot("ask", DEMO_QUESTION, "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["answer"] == "Yoshihiko Noda"
    assert "Yoshihiko Noda" in answer["quote"]
    assert answer["title"] == "Sanae Takaichi elected Japan's first female prime minister"
    assert answer["url"].startswith("https://news.example.org/")
    assert answer["published"] == "2025-10-21"
    assert 0 <= answer["score"] <= 1
    assert result.stderr == ""  # no model-loading chatter


def test_ask_plain_text(data_dir):
    result = newsbot("ask", DEMO_QUESTION, data_dir=data_dir)
    lines = result.stdout.splitlines()
    assert lines[0] == "Yoshihiko Noda"
    assert "beat opposition leader Yoshihiko Noda in" in result.stdout and "2025-10-21" in result.stdout
    assert "**" not in result.stdout and "\x1b" not in result.stdout  # piped: plain text, no marks


def test_the_answer_is_bold_in_its_quote_on_a_terminal_that_shows_it(monkeypatch):
    import io

    from bot.render import highlight
    from bot.terminal import say

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    quote = highlight("Takaichi beat \x1b[2JYoshihiko Noda.", 18, 32)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    for out, expected in [
        (Terminal(), "Takaichi beat [2J\x1b[1mYoshihiko Noda\x1b[0m."),
        (io.StringIO(), "Takaichi beat [2JYoshihiko Noda."),
    ]:
        say(quote, file=out)
        assert out.getvalue() == expected + "\n"
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    say(quote, file=plain)
    assert "\x1b" not in plain.getvalue()


def test_batch_keeps_order_and_ids_and_reports_bad_lines(data_dir, tmp_path):
    questions = write_jsonl(
        tmp_path / "q.jsonl",
        [
            {"id": "a", "question": DEMO_QUESTION},
            {"id": 7, "question": "  "},
            "{broken",
            {"id": "c", "question": "Which team won the World Series?"},
            '{"id": "s", "question": "who did Takaichi beat \\ud800 in the vote?"}',
        ],
    )
    result = newsbot("ask", "--batch", str(questions), "--json", data_dir=data_dir)
    assert "Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["a", 7, None, "c", "s"]
    assert records[4]["answer"] == "Yoshihiko Noda"  # a lone surrogate neither crashes nor stops the batch
    assert records[0]["answer"] == "Yoshihiko Noda"
    assert "empty" in records[1]["error"] and "line 3" not in records[2]["error"] and ":3:" in records[2]["error"]
    assert "error" not in records[3] and 0 <= records[3]["score"] <= 1
    assert records[3]["answer"] or records[3]["candidates"] or records[3]["closest"]  # answered, or why not
    assert result.returncode == 1  # some lines failed


def test_latest_json_newest_first(data_dir):
    result = newsbot("latest", "-n", "2", "--json", data_dir=data_dir)
    stories = json.loads(result.stdout)
    assert [sorted(s) for s in stories] == [["image", "published", "source", "title", "url"]] * 2
    assert stories[0]["published"] > stories[1]["published"]


def test_status_json(data_dir):
    stats = json.loads(newsbot("status", "--json", data_dir=data_dir).stdout)
    assert stats["articles"] == 6 and stats["passages"] > 6
    assert stats["embedding_model"] == "all-MiniLM-L6-v2" and stats["last_update"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ask", "   "), "the question is empty"),
        (("ask", "why " * 25_000), "the question is too long"),
        (("ingest", "/nonexistent/news.jsonl"), "no such file or folder"),
        (("ask",), "give either a question or --batch"),
        (("ask", "--as-of", "0001-01-01T00:00+14:00", "who won?"), "between the years 1 and 9999"),
        (("brief", "--hours", "nan"), "must be positive numbers"),
        (("latest", "-n", "100000000000000000000"), "at most 1,000 stories"),
        (("brief", "-n", "5000"), "at most 1,000 events"),
        (("latest", "--topic", "\U0001f30b\U0001f525"), "the topic has no letter or digit"),
        (("brief", "--topic", "\u200b\u0301 \u200d"), "the topic has no letter or digit"),
    ],
)
def test_bad_input_one_line_error_no_traceback(data_dir, args, message):
    result = newsbot(*args, data_dir=data_dir)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_asking_an_empty_data_dir(tmp_path):
    result = newsbot("ask", DEMO_QUESTION, data_dir=tmp_path / "nothing")
    assert result.returncode == 1
    folder = tmp_path / "nothing"
    assert result.stderr.strip() == f"newsbot: error: no news indexed yet in {folder}; run `newsbot ingest PATH` first"


def test_unwritable_data_dir(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    result = newsbot("ingest", str(SAMPLE_NEWS), data_dir=blocker / "data")
    assert result.returncode == 1 and "cannot create data dir" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "kind, said",
    [
        ("loop", "is a link that loops back on itself: remove or fix the link"),
        ("file", "is a file, not a folder: give a folder as the data dir"),
        ("link to a file", "is a link to the file {target}, not a folder"),
        ("dangling link", "is a link to {target}, which does not exist: create that folder, or remove the link"),
    ],
)
def test_a_data_dir_that_is_no_folder_is_said_for_every_command(tmp_path, kind, said):
    path, target = tmp_path / "data", tmp_path / "elsewhere"
    if kind == "loop":
        path.symlink_to(path)
    elif kind == "file":
        path.write_text("not a folder")
    else:
        if kind == "link to a file":
            target.write_text("not a folder")
        path.symlink_to(target)
    for command in (["status"], ["latest"], ["ask", DEMO_QUESTION], ["ingest", str(SAMPLE_NEWS)]):
        result = newsbot(*command, data_dir=path)
        assert result.returncode == 1, (command, result.stdout)
        assert result.stderr.startswith(f"newsbot: error: data dir {path} {said.format(target=target)}"), command
        assert len(result.stderr.splitlines()) == 1
    assert not target.exists() or target.is_file()  # nothing was made in its place


def test_malformed_lines_reported_good_lines_ingested(tmp_path):
    path = write_jsonl(tmp_path / "m.jsonl", [{"url": "https://x.test/1", "text": "A fine story."}, "{oops"])
    result = newsbot("ingest", str(path), data_dir=tmp_path / "d")
    assert result.returncode == 1
    assert f"{path}:2: not valid JSON" in result.stderr
    assert "1 added" in result.stdout and result.stdout.startswith("read 1 article:")


def test_invalid_setting_is_named(tmp_path):
    result = newsbot("status", data_dir=tmp_path, env_extra={"NEWSBOT_TOP_K": "lots"})
    assert result.returncode == 1
    assert "NEWSBOT_TOP_K" in result.stderr and "Traceback" not in result.stderr
    ids = newsbot("status", data_dir=tmp_path, env_extra={"NEWSBOT_ADMIN_USER_IDS": "alice,bob"})
    assert ids.stderr == (
        "newsbot: error: invalid setting: NEWSBOT_ADMIN_USER_IDS: 'alice' and 'bob' are not whole numbers"
        " (expected Discord user ids, comma-separated, like 123,456)\n"
    )


def test_an_unknown_newsbot_variable_is_warned_about_with_the_setting_it_may_mean(tmp_path):
    from bot.settings import unknown_settings

    result = newsbot("status", data_dir=tmp_path, env_extra={"NEWSBOT_TOPK": "5", "NEWSBOT_TOP_K": "5"})
    assert result.returncode == 0
    assert result.stderr == (
        "newsbot: warning: NEWSBOT_TOPK in the environment is no newsbot setting and is ignored"
        " (did you mean NEWSBOT_TOP_K?)\n"
    )
    env_file = tmp_path / ".env"
    env_file.write_text("NEWSBOT_READER_PASAGES=8\nNEWSBOT_TOP_K=5\nOTHER_THING=1\n")
    assert unknown_settings({"NEWSBOT_LOG_LEVEL": "INFO", "HOME": "/"}, env_file) == [
        f"NEWSBOT_READER_PASAGES in {env_file} is no newsbot setting and is ignored"
        " (did you mean NEWSBOT_READER_PASSAGES?)"
    ]


def test_terminal_escapes_in_articles_are_never_printed(tmp_path):
    escapes = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e\u2067"
    news = write_jsonl(
        tmp_path / "esc.jsonl",
        [
            {
                "url": "https://x.test/esc",
                "title": f"Harbour{escapes} reopens",
                "text": f"The Veskar harbour{escapes} reopened on Friday after the storm, officials said.",
                "published": "2025-03-04",
            }
        ],
    )
    data = tmp_path / "data"
    assert newsbot("ingest", str(news), data_dir=data).returncode == 0
    for args in (["latest"], ["ask", "When did the Veskar harbour reopen?"], ["latest", "--json"]):
        result = newsbot(*args, data_dir=data)
        assert result.returncode == 0, result.stderr
        assert "Harbour" in result.stdout or "Friday" in result.stdout
        assert not any(c in result.stdout for c in "\x1b\x07\x9b\u202e\u2067"), args
    result = newsbot("brief", "--hours", "1e12", data_dir=data)  # back to the start of time: one line, no overflow
    assert result.returncode == 0 and "Harbour" in result.stdout and "\u202e" not in result.stdout


def test_latest_topic_without_a_match_says_so(data_dir):
    result = newsbot("latest", "--topic", "volcanic eruptions in Iceland", data_dir=data_dir)
    assert result.returncode == 0 and result.stdout.strip() == "no story matches 'volcanic eruptions in Iceland'"
    baseball = newsbot("latest", "--topic", "baseball championship", data_dir=data_dir)
    assert "World Series" in baseball.stdout and "2025-11-01" in baseball.stdout
    everything = newsbot("latest", data_dir=data_dir)
    assert everything.stdout.startswith("2025-11-12  Longest government shutdown")  # its own date, not UTC's


def test_data_dir_after_the_command_and_status_names_it(data_dir):
    result = newsbot("status", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    lines = {" ".join(line.split()[:-1]): line.split()[-1] for line in result.stdout.splitlines()}
    assert lines["articles"] == "6" and lines["data dir"] == str(data_dir)


def test_default_data_dir_is_per_user_not_per_folder(tmp_path):
    home = tmp_path / "home"
    result = newsbot("status", "--json", env_extra={"HOME": str(home), "XDG_DATA_HOME": str(home / "data")})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data_dir"] == str(home / "data" / "newsbot")


def test_version_and_help_texts(capsys):
    from bot.cli import build_parser

    version = newsbot("--version")
    assert version.returncode == 0 and version.stdout.startswith("newsbot ")

    def help_of(*args: str) -> str:
        with pytest.raises(SystemExit):
            build_parser().parse_args([*args, "--help"])
        return " ".join(capsys.readouterr().out.split())

    for command in ("ingest", "remove", "ask", "latest", "reindex", "status", "sources", "poll", "bot"):
        text = help_of(command)
        assert f"usage: newsbot {command}" in text and "--data-dir" in text, command
        assert len(text.split("options:")[0]) > len(f"usage: newsbot {command} [-h] [--data-dir DATA_DIR]") + 20
    assert "PATH a .jsonl or .jsonl.gz file" in help_of("ingest")
    assert "URL_OR_PATH an http(s) feed" in help_of("sources", "add")
    assert "ID the id" in help_of("sources", "remove")
    bot_help = help_of("bot")
    assert "NEWSBOT_DISCORD_TOKEN" in bot_help and ".env" in bot_help


def test_bot_with_discord_unreachable_says_so_in_one_line(tmp_path):
    # Discord's API pointed at a closed local port: what a machine without a route to Discord sees.
    script = (
        "import sys, discord.http\n"
        "discord.http.Route.BASE = 'http://127.0.0.1:9/api/v10'\n"
        "from bot.cli import main\n"
        "sys.exit(main(['--data-dir', sys.argv[1], 'bot']))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env["NEWSBOT_DISCORD_TOKEN"] = "MTAxMDEwMTAxMDEwMTAxMDEw.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"
    env["NEWSBOT_LOG_LEVEL"] = "WARNING"
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("newsbot: error: could not reach Discord")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # no traceback, no voice warnings


@pytest.mark.parametrize("hub", [{"HF_HUB_OFFLINE": "1"}, {"HF_ENDPOINT": "http://127.0.0.1:9"}])
def test_unknown_embedding_model_fails_fast(tmp_path, hub):
    # Fast means no download attempt that waits on a network: the run ends with the error (newsbot()
    # caps it at 300 s), not with a timeout.
    result = newsbot(
        "ingest",
        str(SAMPLE_NEWS),
        data_dir=tmp_path / "d",
        env_extra={"NEWSBOT_EMBEDDING_MODEL": "does-not-exist", **hub},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("newsbot: error: embedding model 'does-not-exist' is not a local folder")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_batch_text_mode_names_lines_without_an_id(data_dir, tmp_path):
    questions = write_jsonl(
        tmp_path / "q.jsonl", ["{broken", {"question": DEMO_QUESTION}, {"id": "x", "question": "?"}]
    )
    result = newsbot("ask", "--batch", str(questions), data_dir=data_dir)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("line 1\t\t") and "not valid JSON" in lines[0]
    assert lines[1] == "line 2\tYoshihiko Noda" and lines[2].split("\t")[0] == "x"
    assert "None" not in result.stdout


def test_shard_flags_are_checked_and_reach_the_bot(tmp_path, capsys, monkeypatch):
    from bot.app import create_bot
    from bot.cli import main
    from bot.settings import Settings

    for name in [k for k in os.environ if k.startswith("NEWSBOT_")]:
        monkeypatch.delenv(name)
    assert main(["--data-dir", str(tmp_path), "bot", "--shard-ids", "0,4", "--shard-count", "4"]) == 1
    assert "shard ids must be distinct and between 0 and 3" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path), "bot", "--shard-ids", "1"]) == 1
    assert "needs NEWSBOT_SHARD_COUNT" in capsys.readouterr().err
    settings = Settings(shard_ids="0,1", shard_count=4, poll_sources=False, _env_file=None)
    bot = create_bot(settings, library=object())
    assert bot.shard_ids == [0, 1] and bot.shard_count == 4


def test_poll_forever_reads_sources_as_they_fall_due_and_stops_cleanly(tmp_path, make_library):
    from tests.newsserver import NewsServer

    data = tmp_path / "data"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}}
    env.update(NEWSBOT_DATA_DIR=str(data), NEWSBOT_FETCH_ALLOWED_HOSTS="127.0.0.1")
    with NewsServer() as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "poll", "--forever"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # A source added while the poller runs (as an operator would, from another shell).
            added = newsbot("sources", "add", f"{server.base}/rss.xml", env_extra=env)
            assert added.returncode == 0, added.stderr
            library = make_library(data)
            deadline = time.monotonic() + 120
            while library.stats()["articles"] < 3 and time.monotonic() < deadline:
                assert process.poll() is None, process.stderr.read()
                time.sleep(0.5)
            assert library.stats()["articles"] == 3
        finally:
            process.terminate()  # SIGTERM, as systemd or docker stop it
            out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "source 1 (Test Herald): 3 new" in out  # named by its feed's title when it was added
    assert re.search(r"next source due in (2[6-9]|3[0-4]) min", out)  # the default 30, with ±10% jitter
    assert out.rstrip().endswith("stopped polling")


@pytest.mark.parametrize("damage", ["header", "truncated"])
def test_a_damaged_database_is_one_line_not_a_traceback(tmp_path, damage):
    data_dir = tmp_path / "data"
    assert newsbot("ingest", str(SAMPLE_NEWS), data_dir=data_dir).returncode == 0
    database = data_dir / "news.sqlite3"
    content = database.read_bytes()
    if damage == "header":
        database.write_bytes(b"this is not SQLite at all" + content[25:])
    else:
        database.write_bytes(content[: len(content) // 3])
    for wal in data_dir.glob("news.sqlite3-*"):
        wal.unlink()
    for command in (["status"], ["ask", DEMO_QUESTION], ["latest"]):
        result = newsbot(*command, data_dir=data_dir)
        assert result.returncode == 1, (command, result.stdout)
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("newsbot: error: the news library's database is damaged"), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_commands_load_only_what_they_need(data_dir):
    """`status` and `latest` answer without importing the networks' libraries (seconds of start-up);
    `ask` reads with neither sentence-transformers nor transformers' model classes."""
    probe = (
        "import sys\n"
        "from bot.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "names = ('torch', 'transformers', 'sentence_transformers', 'transformers.models.bert.modeling_bert')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print('HEAVY', ' '.join(heavy), flush=True)\n"
        "sys.exit(code)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}

    def heavy_modules(*args: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", probe, "--data-dir", str(data_dir), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.split("HEAVY", 1)[1].split()

    assert heavy_modules("status") == []
    assert heavy_modules("latest", "-n", "3") == []
    assert heavy_modules("ask", DEMO_QUESTION, "--json") == ["torch", "transformers"]  # its tokenizer


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg://u:secretpw@127.0.0.1:9/db", "must be a postgresql:// URL"),
        (" postgresql://u:secretpw@127.0.0.1:9/db", "cannot connect to the news database"),
        ("postgresql://u:secret%zzpw@127.0.0.1:9/db", "cannot read NEWSBOT_DATABASE_URL"),
        ("mysql://u:secretpw@127.0.0.1/db", "not a mysql:// one"),
    ],
)
def test_a_database_url_psycopg_cannot_use_is_one_line_without_its_password(tmp_path, url, message):
    result = newsbot("status", data_dir=tmp_path / "data", env_extra={"NEWSBOT_DATABASE_URL": url})
    assert result.returncode == 1 and message in result.stderr
    assert "secret" not in result.stderr + result.stdout and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_brief_lead_is_its_stories_first_sentence_whole(data_dir):
    result = newsbot("brief", "--hours", "1000000", "--json", data_dir=data_dir)
    leads = [event["lead"] for event in json.loads(result.stdout)]
    assert len(leads) == 6 and all(lead.endswith(".") and "…" not in lead for lead in leads), leads
    assert (
        "President Trump signed a funding bill late on Wednesday, ending a government shutdown that had lasted 43"
        " days, the longest in the country's history."
    ) in leads
    text = newsbot("brief", "--hours", "1000000", data_dir=data_dir).stdout
    assert "the longest in the country's history." in " ".join(text.split()) and "…" not in text


def test_an_empty_brief_says_how_far_back_the_news_is(data_dir):
    result = newsbot("brief", data_dir=data_dir)
    assert result.returncode == 0
    empty, hint = result.stdout.strip().splitlines()
    assert empty == "no stories in the last 24 hours"
    hours = int(re.search(r"--hours (\d+)$", hint).group(1))
    assert hint.startswith("6 stories are older; the newest is from ")
    widened = newsbot("brief", "--hours", str(hours + 1), data_dir=data_dir)  # seconds passed since
    assert widened.returncode == 0 and widened.stdout.startswith(" 1. ")


def test_command_line_mistakes_are_one_line_and_an_unquoted_question_is_told_to_quote(tmp_path):
    unquoted = newsbot("ask", "who", "won", "the", "vote", data_dir=tmp_path / "d")
    assert unquoted.returncode == 2 and len(unquoted.stderr.strip().splitlines()) == 1
    assert 'put the question in quotes: newsbot ask "who won the vote?"' in unquoted.stderr
    wrong = newsbot("latest", "-n", "x", data_dir=tmp_path / "d")
    assert wrong.returncode == 2 and wrong.stderr.strip().splitlines() == [
        "newsbot latest: error: argument -n: invalid int value: 'x' (see `newsbot latest --help`)"
    ]


def test_sigterm_during_ingest_says_what_was_committed_and_a_rerun_finishes(tmp_path):
    import signal
    import sqlite3

    news, folder = filler_news(tmp_path / "filler.jsonl", 400), tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env["NEWSBOT_INGEST_BATCH_ARTICLES"] = "4"
    command = [sys.executable, "-m", "bot.cli", "--data-dir", str(folder), "ingest", str(news)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def committed() -> int:
        try:
            with sqlite3.connect(f"file:{folder / 'news.sqlite3'}?mode=ro", uri=True) as conn:
                return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        except sqlite3.Error:  # not made yet
            return 0

    while committed() == 0 and process.poll() is None:
        time.sleep(0.05)
    process.terminate()  # SIGTERM, as systemd or docker stop it
    out, err = process.communicate(timeout=300)
    assert process.returncode == -signal.SIGTERM, err  # the shell's 143, as before
    said = re.fullmatch(
        r"newsbot: stopped by SIGTERM; (\d+) articles? committed \((\d+) added, 0 updated\): run the"
        r" same ingest again to finish the rest \(what is already in is skipped as unchanged\)\n",
        err,
    )
    assert said, err
    assert 0 < int(said[1]) == int(said[2]) == committed() < 400
    rerun = newsbot("ingest", str(news), data_dir=folder)
    assert rerun.returncode == 0 and f"{400 - int(said[1])} added" in rerun.stdout
    assert committed() == 400


def test_a_file_that_is_no_news_is_warned_about_and_remove_takes_articles_out(tmp_path):
    docs, shopping, story = tmp_path / "README.md", tmp_path / "list.txt", tmp_path / "ferry.txt"
    docs.write_text("# Install\n\nRun this:\n\n```bash\npip install newsbot\n```\n")
    shopping.write_text("eggs\nmilk\nbread\n")
    story.write_text("Ferry aground off Kelmar\n\nA ferry ran aground off Kelmar on Saturday. All were saved.\n")
    folder = tmp_path / "data"
    ingested = newsbot("ingest", str(SAMPLE_NEWS), str(docs), str(shopping), str(story), data_dir=folder)
    assert ingested.returncode == 0 and "9 added" in ingested.stdout
    assert ingested.stderr.splitlines() == [
        f"newsbot: warning: {docs.as_uri()}: it holds markdown code blocks, as documentation does, not news;"
        " indexed all the same (`newsbot remove` takes it out)",
        f"newsbot: warning: {shopping.as_uri()}: it holds no sentence, as a list or a table does, not news;"
        " indexed all the same (`newsbot remove` takes it out)",
    ]
    louvre = "https://news.example.org/2025/10/19/louvre-crown-jewels-theft"
    removed = newsbot("remove", str(docs), shopping.as_uri(), louvre, "https://x.test/never", data_dir=folder)
    assert removed.returncode == 1
    assert removed.stderr == (
        "newsbot: error: no article with the URL or id 'https://x.test/never'; `newsbot latest --json` shows URLs\n"
    )
    assert removed.stdout.splitlines()[-1] == "removed 3 articles"
    assert docs.as_uri() in removed.stdout and louvre in removed.stdout
    latest = json.loads(newsbot("latest", "-n", "50", "--json", data_dir=folder).stdout)
    assert sorted(s["url"] for s in latest if not s["url"].startswith("https://news.example.org/")) == [story.as_uri()]
    assert louvre not in {s["url"] for s in latest} and len(latest) == 6
    status = json.loads(newsbot("status", "--json", data_dir=folder).stdout)
    assert status["articles"] == 6
    by_id = newsbot("remove", "1", data_dir=folder)  # the ids `remove` prints
    assert by_id.returncode == 0 and by_id.stdout.startswith("removed 1: ")
    answer = json.loads(newsbot("ask", "what did the thieves take from the Louvre?", "--json", data_dir=folder).stdout)
    assert answer.get("url") != louvre
