"""How long `newsbot sources import FILE.opml --no-check` takes for a feed reader's list of 1,000 feeds.

    python benchmarks/opml.py [--feeds 1000] [--folder DIR]

Writes an OPML file as a feed reader exports one (20 folders, some nested, each feed with `text`,
`title`, `xmlUrl` and `htmlUrl`; one feed in fifty listed twice), then runs the command as a user
does, in a new process over an empty data folder, and prints its seconds and what it said last.
The feeds' hosts are public addresses (250 of them), so the time is ours, not a DNS server's; with
--names they are names under example.org, each one DNS look-up (16 side by side), and where a name
does not resolve `--no-check` adds it anyway, as it would a feed that is down now.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parent.parent


def reader_export(feeds: int, hosts) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="1.0">', "<head><title>Feeds</title></head>"]
    lines.append("<body>")
    per_folder = max(1, feeds // 20)
    for number in range(feeds):
        if number % per_folder == 0:
            if number:
                lines.append("</outline></outline>")
            lines.append(f'<outline text="Folder {number // per_folder}"><outline text="Inner">')
        host = hosts(number % 250)
        url = f"https://{host}/section/{number}/feed.xml"
        if number % 50 == 49:
            url = f"https://{hosts((number - 1) % 250)}/section/{number - 1}/feed.xml"  # listed twice
        title = quoteattr(f"Section {number} & more")
        lines.append(f'<outline type="rss" text={title} title={title} xmlUrl="{url}" htmlUrl="https://{host}/"/>')
    lines += ["</outline></outline>", "</body>", "</opml>", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--folder", type=Path, help="where to write the file and the library (default: a temp dir)")
    parser.add_argument(
        "--names", action="store_true", help="hosts by name (each one DNS look-up) rather than by public address"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.folder or Path(temporary)
        opml = folder / "feeds.opml"
        hosts = (
            (lambda n: f"news{n}.example.org") if args.names else (lambda n: f"93.184.{215 + n // 200}.{n % 200 + 1}")
        )
        opml.write_text(reader_export(args.feeds, hosts), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
        command = [sys.executable, "-m", "bot.cli", "--data-dir", str(folder / "data"), "sources", "import"]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, str(opml), "--no-check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        seconds = time.perf_counter() - started
        size = opml.stat().st_size
    said = done.stdout.strip().splitlines()
    hosts_are = "names" if args.names else "addresses"
    print(f"{args.feeds:,} feeds ({size:,} bytes of OPML, hosts by {hosts_are}): `sources import --no-check` took")
    print(
        f"{seconds:.2f} s (the whole command: Python starting, reading, checking, storing): {said[-1] if said else ''}"
    )
    if done.stderr.strip():
        print(done.stderr.strip(), file=sys.stderr)


if __name__ == "__main__":
    main()
