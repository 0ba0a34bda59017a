"""Long library work: a reindex on a thread of its own, with progress the bot can report, the
`newsbot poll --forever` service loop, and SIGTERM as an exception for work that says what it did."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NoReturn

from index import Library, NewsbotError

log = logging.getLogger(__name__)


@dataclass
class JobState:
    done: int = 0
    total: int | None = None
    finished: bool = False
    result: str | None = None
    error: str | None = None
    started: float = 0.0
    ended: float = 0.0

    @property
    def seconds(self) -> float:
        return (self.ended or time.perf_counter()) - self.started


class BackgroundJob:
    """Runs `work(progress)` once on a daemon thread. The event loop only ever reads `state`."""

    def __init__(self, name: str, work: Callable[[Callable[[int, int | None], None]], str]) -> None:
        self.name = name
        self.state = JobState()
        self._work = work
        self._thread = threading.Thread(target=self._run, name=f"newsbot-{name}", daemon=True)

    def start(self) -> None:
        self.state.started = time.perf_counter()
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() or bool(self.state.started and not self.state.finished)

    def _progress(self, done: int, total: int | None) -> None:
        # The library reports a known total as absolute progress, an open-ended count as increments.
        if total is None:
            self.state.done += done
        else:
            self.state.done, self.state.total = done, total

    def _run(self) -> None:
        try:
            self.state.result = self._work(self._progress)
        except NewsbotError as exc:
            self.state.error = str(exc)
        except Exception as exc:  # reported to the admin, logged in full here
            log.exception("%s failed", self.name)
            self.state.error = f"{type(exc).__name__}; see the bot's log"
        finally:
            self.state.ended = time.perf_counter()
            self.state.finished = True


def poll_forever(library: Library, say: Callable[..., None], longest_sleep: float = 60.0) -> int:
    """Poll each source when it is due until SIGTERM or Ctrl-C; sources added meanwhile (by `sources
    add` or the bot) are picked up on the next pass. One line per source read, one per pass."""
    signal.signal(signal.SIGTERM, _stop)
    say(f"polling the sources of {library.location} until stopped", flush=True)
    try:
        while True:
            try:
                report = library.poll(only_due=True)
                due = [s.next_poll_at for s in library.sources()]
            except NewsbotError as exc:  # the database away for a moment: say so, try again later
                say(f"newsbot: warning: polling pass failed: {exc}", file=sys.stderr, flush=True)
                time.sleep(longest_sleep)
                continue
            if report.sources:
                for outcome in report.outcomes:
                    say(outcome)
                say(report.line(), flush=True)
                if due:
                    wait = max(min(due) - time.time(), 0.0)
                    say(f"next source due in {wait / 60:.0f} min", flush=True)
            time.sleep(min(max(min(due, default=time.time() + longest_sleep) - time.time(), 1.0), longest_sleep))
    except KeyboardInterrupt:
        say("stopped polling", flush=True)
        return 0


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


class Terminated(BaseException):
    """SIGTERM arrived (systemd, docker stop): raised where the main thread is, like KeyboardInterrupt,
    so a command can say what it finished before it goes."""


class SigtermLatch:
    """Notes a SIGTERM so that work stops where it is consistent: `check()` raises `Terminated` once
    one arrived. A second SIGTERM raises at once, wherever the main thread is."""

    def __init__(self) -> None:
        self.arrived = False

    def __call__(self, signum, frame) -> None:
        if self.arrived:
            raise Terminated
        self.arrived = True

    def check(self) -> None:
        if self.arrived:
            raise Terminated


@contextlib.contextmanager
def sigterm_stops() -> Iterator[SigtermLatch]:
    """Within: SIGTERM is latched instead of ending the process at once (`SigtermLatch`): the work
    calls `check()` between its steps, after what it counts is counted."""
    latch = SigtermLatch()
    before = signal.signal(signal.SIGTERM, latch)
    try:
        yield latch
    finally:
        signal.signal(signal.SIGTERM, before)


def die_of(signum: int) -> NoReturn:
    """End the process by `signum` with its default action, so its exit status (143 for SIGTERM) is
    the one a service manager expects of a process the signal stopped."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    raise SystemExit(128 + signum)  # not reached where the signal kills at once
