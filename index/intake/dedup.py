"""One story, many URLs: canonical URLs, and near-duplicate text detection by SimHash."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

# Query parameters that only say where a click came from.
_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ocid|cmpid|smid|smtyp|ref|ref_src|referrer|"
    r"share|guccounter|_ga|yclid|at_\w+|amp|__twitter_impression)$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no tracking parameters, no AMP variant."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if host.startswith("amp."):
        host = host[4:]
    if parts.port and not (
        parts.scheme == "http" and parts.port == 80 or parts.scheme == "https" and parts.port == 443
    ):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    path = re.sub(r"\.amp(\.html?)?$", r"\1", re.sub(r"/amp(/|\.html?)?$", "", path)) or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k))
    return urlunsplit((parts.scheme.lower(), host, path, urlencode(query), ""))


_PERMUTATIONS = 64
_BLOCK = 4096  # shingles hashed at once
FINGERPRINT_CHARS = 300_000
_SEEDS = np.random.default_rng(20251026).integers(1, 2**63, size=(2, _PERMUTATIONS), dtype=np.uint64) | np.uint64(1)


def fingerprint(text: str, shingle: int = 3) -> bytes:
    """MinHash signature (64 x uint32) of the text's word 3-shingles; equal slots estimate Jaccard.
    Only the first FINGERPRINT_CHARS count: memory stays bounded, and copies of a story share their start."""
    words = _WORD.findall(text[:FINGERPRINT_CHARS].lower())
    words += [""] * max(0, shingle - len(words))
    shingles = {" ".join(words[i : i + shingle]) for i in range(len(words) - shingle + 1)}
    hashes = np.frombuffer(
        b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in shingles), dtype=np.uint64
    )
    signature = np.full(_PERMUTATIONS, np.iinfo(np.uint32).max, dtype=np.uint32)
    for at in range(0, len(hashes), _BLOCK):  # a block at a time: memory stays flat however long the text
        with np.errstate(over="ignore"):  # multiply-shift hashing wraps around on purpose
            mixed = (hashes[at : at + _BLOCK, None] ^ _SEEDS[0]) * _SEEDS[1]
        np.minimum(signature, (mixed >> np.uint64(32)).astype(np.uint32).min(axis=0), out=signature)
    return signature.tobytes()


def near_duplicate(candidate: bytes, known: Iterable[tuple[int, bytes]], threshold: float = 0.6) -> int | None:
    """The id of a known (id, fingerprint) whose text shares at least `threshold` of its shingles."""
    rows = [(item_id, value) for item_id, value in known if isinstance(value, bytes) and len(value) == len(candidate)]
    if not rows:
        return None
    matrix = np.frombuffer(b"".join(v for _, v in rows), dtype=np.uint32).reshape(len(rows), -1)
    scores = (matrix == np.frombuffer(candidate, np.uint32)).mean(axis=1)
    best = int(scores.argmax())
    return rows[best][0] if scores[best] >= threshold else None
