"""A per-user pause between commands, shared by the cogs that answer people."""

from __future__ import annotations

import asyncio


class Cooldown:
    """Per-user pause between commands, on the event loop's clock. Users whose pause is over are
    forgotten once the table passes `trim_at` entries, so it never grows with every user seen."""

    def __init__(self, seconds: float, what: str = "request", trim_at: int = 1024) -> None:
        self.seconds = seconds
        self.what = what  # what one user may send one of at a time: "question", "request"
        self.trim_at = trim_at
        self._next_allowed: dict[int, float] = {}
        self._told: dict[int, float] = {}  # user -> the end of the pause they were told about

    def retry_after(self, user_id: int) -> float:
        """0 if the user may go ahead now (and starts their pause), else seconds left."""
        now = asyncio.get_running_loop().time()
        wait = self._next_allowed.get(user_id, 0.0) - now
        if wait > 0:
            return wait
        if len(self._next_allowed) >= self.trim_at:
            self._next_allowed = {user: until for user, until in self._next_allowed.items() if until > now}
            self._told = {user: until for user, until in self._told.items() if until > now}
        self._next_allowed[user_id] = now + self.seconds
        return 0.0

    def check(self, user_id: int) -> str | None:
        """None if the user may go ahead now (and starts their pause), else what to tell them."""
        wait = self.retry_after(user_id)
        if wait:
            return f"One {self.what} at a time, please: try again in {wait:.0f} s."
        return None

    def first_notice(self, user_id: int) -> bool:
        """Whether a user who must wait has not yet been told so in this pause (and now counts as
        told): a burst of questions gets one notice, not one each."""
        until = self._next_allowed.get(user_id, 0.0)
        if self._told.get(user_id) == until:
            return False
        self._told[user_id] = until
        return True

    def __len__(self) -> int:
        return len(self._next_allowed)
