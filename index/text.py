"""Small text helpers every room of the library shares."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """`text` with lone UTF-16 surrogates (from a JSON `\\ud800` escape) made U+FFFD: they cannot be
    stored, encoded or printed, and would take their neighbours down with them."""
    return _LONE_SURROGATE.sub("\ufffd", text)


# Words too common in questions to say anything about which passage answers them.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours out over own same
    she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up very was we were what when where which while who whom why
    will with would you your yours according said says new news week recently reported latest""".split()
)

_WORD = re.compile(r"\w+", re.UNICODE)


def lexical_query(text: str) -> str:
    """An FTS5 query matching any content word of `text` (each quoted, so no syntax leaks in)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
    return " OR ".join(f'"{w}"' for w in seen)


def all_words_query(text: str) -> str:
    """An FTS5 query matching passages that hold every content word of `text`."""
    return lexical_query(text).replace(" OR ", " AND ")


def stem(word: str) -> str:
    """A crude stem, enough to match "voting" with "vote" and "played" with "plays"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def content_terms(text: str) -> list[str]:
    """The stemmed content words of `text`, in order (repeats kept)."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


# A sentence ends at . ! or ? (and a closing quote or bracket) before a space, a line break or the end,
# but not after a title, an initial or a.m./p.m. ("Mr. Noda", "J. Smith", "U.S. Senate", "5 p.m. on"); a
# line break ends one too.
_LEAD_END = re.compile(
    r"(?<!\b[A-Z])(?<!\b[ap]\.m)(?<!\b(?:Mr|Ms|Dr|St|Jr|Sr|Lt|No|vs))(?<!\b(?:Mrs|Gen|Gov|Sen|Rep|Col))[.!?][\"'”’)\]]*(?=\s|$)|\n"
)


def lead_of(text: str, most: int = 300) -> str:
    """The first sentence of a passage, whole; cut at a word before `most` characters (with "…") only
    when the first sentence alone is longer."""
    text = text.strip()
    end = _LEAD_END.search(text)
    sentence = text[: end.end()].strip() if end else text
    if len(sentence) <= most:
        return sentence
    return sentence[: sentence.rfind(" ", 0, most)] + "…"


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:]*):([^/@\s]+)@")
_SECRET_PARAMETER = re.compile(
    r"(?i)([?&;](?:[\w.-]*(?:key|token|secret|signature|credential)|auth|password|passwd|pwd|sig)=)[^&#\s\"']+"
)
# A user name alone before the host (`https://TOKEN@host/feed`): feeds carry tokens so.
_LONE_USER = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:]+)@")


def hide_credentials(text: str) -> str:
    """`text` with the credentials of any URL in it masked: a password in `user:pass@` and the values
    of query parameters that carry keys (`?apikey=`, `feed_token=`, `X-Amz-Signature=`, `sig=`...), and
    a user name given alone (a token in its place). For what is shown or
    stored as a message; fetching keeps the URL as given."""
    masked = _LONE_USER.sub(r"\1***@", _USERINFO.sub(r"\1\2:***@", text))
    return _SECRET_PARAMETER.sub(r"\1***", masked)


# `user:password@host` without a scheme: how a URL's credentials read once the scheme is cut off.
_BARE_USERINFO = re.compile(r"(?:^|[\s(<\[])[^\s/@:]+:[^\s/@]+@[\w\[]")


def holds_credentials(text: str) -> bool:
    """True when `text` carries what `hide_credentials` masks, or a bare `user:password@host`."""
    return hide_credentials(text) != text or bool(_BARE_USERINFO.search(text))


def site_name(location: str) -> str:
    """A web source's name when its feed gives none: the URL's host alone, without the user,
    password and port the URL may carry (a name is shown to everyone)."""
    netloc = location.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    try:
        host = urlsplit(f"http://{netloc}").hostname
    except ValueError:  # a port that is no number: the text before it
        host = None
    return host or netloc.rpartition("@")[2].split(":", 1)[0] or "web source"
