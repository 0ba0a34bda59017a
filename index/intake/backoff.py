"""Per-host backoff: when a host that said 429 or failed with a 5xx may be asked again, from its
Retry-After or doubling from a base."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime


@dataclass
class HostBackoff:
    """When each host may be asked again after it said 429 or failed with a 5xx."""

    base_seconds: float = 60.0
    max_seconds: float = 3600.0
    _until: dict[str, float] = field(default_factory=dict)
    _strikes: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, host: str) -> float:
        with self._lock:
            return max(0.0, self._until.get(host, 0.0) - time.monotonic())

    def penalise(self, host: str, retry_after: float | None) -> float:
        with self._lock:
            strikes = self._strikes.get(host, 0) + 1
            self._strikes[host] = strikes
            delay = retry_after if retry_after is not None else self.base_seconds * 2 ** (strikes - 1)
            delay = min(max(delay, 1.0), self.max_seconds)
            self._until[host] = time.monotonic() + delay
            return delay

    def forgive(self, host: str) -> None:
        with self._lock:
            self._strikes.pop(host, None)
            self._until.pop(host, None)


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
