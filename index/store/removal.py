"""Taking articles out of a library, with their passages, vectors and posts, as one atomic step:
by age (retention) or by hand (`newsbot remove`, `/remove`: a file that was no news, a story withdrawn)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.dates import now
from index.models import Story
from index.store.contract import Store, VectorGenerations


def remove_where(db: Store, vectors: VectorGenerations, where: str, params: Sequence) -> list[tuple[int, Story]]:
    """Delete the articles `where` (an SQL condition on `articles`) selects, as one transaction and one
    new generation; (id, story) of each removed. Call inside `writing()`."""
    with db.transaction() as conn:
        rows = conn.execute(f"SELECT id, title, url, published, source FROM articles WHERE {where}", params).fetchall()
        if not rows:
            return []
        gone = [r[0] for r in rows]
        marks = ",".join("?" * len(gone))
        passage_ids = [r[0] for r in conn.execute(f"SELECT id FROM passages WHERE article_id IN ({marks})", gone)]
        db.forget_terms(conn, passage_ids)
        conn.execute(f"DELETE FROM passages WHERE article_id IN ({marks})", gone)
        conn.execute(f"DELETE FROM articles WHERE id IN ({marks})", gone)
        conn.execute(f"DELETE FROM channel_posts WHERE article_id IN ({marks})", gone)
        generation = db.bump(conn, now(), db.meta("embedding_model") or "", None)
        db.log_vector_changes(conn, generation, passage_ids, [])
    dimension = int(db.meta("dimension") or 1)
    vectors.apply_changes(
        generation, np.array(passage_ids), np.array([], dtype=np.int64), np.zeros((0, dimension), np.float32)
    )
    return [(r[0], Story(r[1], r[2], r[3], r[4])) for r in rows]


def remove_named(
    db: Store, vectors: VectorGenerations, references: Sequence[str]
) -> tuple[list[tuple[int, Story]], list[str]]:
    """Delete the articles named by URL or by id; (what was removed, the references that named none)."""
    ids = [int(r) for r in references if r.strip().isdigit()]
    urls = [r.strip() for r in references if not r.strip().isdigit()]
    conditions = [f"id IN ({','.join('?' * len(ids))})"] if ids else []
    conditions += [f"url IN ({','.join('?' * len(urls))})"] if urls else []
    removed = remove_where(db, vectors, " OR ".join(conditions), [*ids, *urls]) if conditions else []
    found = {str(i) for i, _ in removed} | {s.url for _, s in removed}
    return removed, [r for r in references if r.strip() not in found]
