"""Publication dates: kept with the offset the newsroom gave them, sorted by their UTC instant."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from index.errors import NewsbotError


def normalise_published(value: object) -> str | None:
    """An ISO-8601 date stays a date; a datetime keeps the offset it was published with (a naive
    one is taken as UTC), so a story is dated as its own newsroom dated it. Raises ValueError."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"'published' must be an ISO-8601 string, not {type(value).__name__}")
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text).isoformat()
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment.astimezone(UTC)  # stories sort by their UTC instant: it must exist
    except OverflowError:
        raise ValueError(f"date {text[:40]!r} is out of range once moved to UTC") from None
    return moment.isoformat(timespec="seconds")


def published_utc(published: str | None) -> str | None:
    """The sort key for a `normalise_published` value: the same instant in UTC (a date stays a date)."""
    if not published or len(published) == 10:
        return published
    return datetime.fromisoformat(published).astimezone(UTC).isoformat(timespec="seconds")


def published_moment(published: str | None) -> datetime | None:
    """The instant of a `normalise_published` value (a bare date: its midnight in UTC); None when
    there is no date or it cannot be read."""
    if not published:
        return None
    try:
        moment = datetime.fromisoformat(published)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def as_of_moment(value: str | date | datetime | None) -> datetime | None:
    """The moment a question is answered as of: an ISO datetime (naive = UTC) or a date (its last
    second, so that day's stories count). Raises NewsbotError for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), tzinfo=UTC)
    text = str(value).strip()
    try:
        if len(text) == 10:
            return as_of_moment(date.fromisoformat(text))
        moment = as_of_moment(datetime.fromisoformat(text.replace("Z", "+00:00")))
        if moment is not None:
            moment.astimezone(UTC)  # a moment that exists in its own zone but not in UTC (year 1 at +14:00)
        return moment
    except (ValueError, OverflowError):
        raise NewsbotError(
            f"cannot read {text[:40]!r} as a moment: give a date (2026-03-06) or an ISO datetime (2026-03-06T18:00)"
            " between the years 1 and 9999"
        ) from None


def now() -> str:
    """This moment in UTC, to the second, as the store keeps moments."""
    return datetime.now(UTC).isoformat(timespec="seconds")
