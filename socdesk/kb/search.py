"""Full-text search over articles, with the same database engines and query language as ticket search.

Shared with socdesk.tickets.search: the query language (`parse_query`: words, "phrases", -negation),
the FTS5 phrase quoting on SQLite and the `simple` text configuration on PostgreSQL. Not shared: the
tickets' document table, which is keyed by ticket and rebuilt from threads, alerts and observables; an
article is its own document, so it is indexed where it is stored:

    SQLite       an FTS5 table over kb_article (external content), kept by triggers; bm25 ranks
    PostgreSQL   a generated tsvector column of title and body (the database keeps it in step) with a
                 GIN index; ts_rank ranks

Suggestions for a ticket (`suggested_ids`) look for any of the ticket's subject words and observable
values in one ranked query.
"""

from __future__ import annotations

import re

from django.db import DEFAULT_DB_ALIAS, connection, connections

from socdesk.tickets.search.sql.postgresql import CONFIG
from socdesk.tickets.search.sql.sqlite import phrase

TABLE = "kb_article"
FTS = "kb_article_fts"
# As ticket search does, the body is read a second time with these characters as spaces, so `phishing`
# finds `phishing@example.test` and `winword` finds `winword.exe` (PostgreSQL's parser keeps those as one
# token). Here it is SQL's translate() in a generated column: articles are written rarely, and the
# stored tsvector is what the GIN index holds and ts_rank reads (an expression index would make every
# ranked row compute it again: seconds for a common word at 20,000 articles, docs/benchmarks.md).
SPLIT_FROM, SPLIT_TO = "./:@_=<>-\\", " " * 10
EXPRESSION = (
    f"setweight(to_tsvector('{CONFIG}', coalesce(title, '')), 'A') || "
    f"setweight(to_tsvector('{CONFIG}', coalesce(body, '')), 'D') || "
    f"setweight(to_tsvector('{CONFIG}', translate(coalesce(title, '') || ' ' || coalesce(body, ''), "
    f"'{SPLIT_FROM}', '{SPLIT_TO}')), 'D')"
)
DOCUMENT = "document"  # the generated column (PostgreSQL)
MAX_RESULTS = 500


def _postgres(alias: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[alias].vendor == "postgresql"


def index_forward(alias: str) -> list[str]:
    """Statements that add the full-text index to the freshly created article table."""
    if _postgres(alias):
        return [
            f"ALTER TABLE {TABLE} ADD COLUMN {DOCUMENT} tsvector GENERATED ALWAYS AS ({EXPRESSION}) STORED",
            f"CREATE INDEX kb_article_document_idx ON {TABLE} USING gin ({DOCUMENT})",
        ]
    delete = f"INSERT INTO {FTS}({FTS}, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);"
    insert = f"INSERT INTO {FTS}(rowid, title, body) VALUES (new.id, new.title, new.body);"
    return [
        f"CREATE VIRTUAL TABLE {FTS} USING fts5(title, body, content='{TABLE}', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {TABLE}_ai AFTER INSERT ON {TABLE} BEGIN {insert} END",
        f"CREATE TRIGGER {TABLE}_ad AFTER DELETE ON {TABLE} BEGIN {delete} END",
        f"CREATE TRIGGER {TABLE}_au AFTER UPDATE ON {TABLE} BEGIN {delete} {insert} END",
    ]


def index_backward(alias: str) -> list[str]:
    if _postgres(alias):
        return ["DROP INDEX IF EXISTS kb_article_document_idx", f"ALTER TABLE {TABLE} DROP COLUMN {DOCUMENT}"]
    return [f"DROP TRIGGER IF EXISTS {TABLE}_{s}" for s in ("au", "ad", "ai")] + [
        f"DROP TABLE IF EXISTS {FTS}"
    ]


def _ranked(sql: str, params: list) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def ranked_ids(texts: list[str], *, any_of: bool = False, limit: int = MAX_RESULTS) -> list[int]:
    """Ids of the articles holding every one of `texts` as a phrase (`any_of`: at least one), best first;
    a title match weighs ten body matches."""
    texts = [t for t in texts if t.strip()]
    if not texts:
        return []
    if _postgres():
        joiner = " || " if any_of else " && "
        query = "(" + joiner.join(f"phraseto_tsquery('{CONFIG}', %s)" for _ in texts) + ")"
        return _ranked(
            f"SELECT id FROM {TABLE} WHERE {DOCUMENT} @@ {query} "
            f"ORDER BY ts_rank('{{0.1, 0.2, 0.4, 1.0}}', {DOCUMENT}, {query}) DESC, id LIMIT %s",
            [*texts, *texts, limit],
        )
    match = (" OR " if any_of else " AND ").join(phrase(t) for t in texts)
    return _ranked(
        f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s ORDER BY bm25({FTS}, 10.0, 1.0), rowid LIMIT %s",
        [match, limit],
    )


# Subject words that say nothing about what an article is for.
STOP_WORDS = frozenset(
    {
        "the", "and", "for", "from", "with", "this", "that", "your", "have", "has", "was", "were",
        "are", "not", "but", "you", "our", "re", "fw", "fwd", "new", "ticket", "alert", "please",
        "help", "issue", "problem", "about", "into",
    }
)  # fmt: skip
WORD = re.compile(r"[^\W_][\w.@:/-]*[^\W_]|[^\W_]", re.UNICODE)


def suggestion_terms(subject: str, observables: list[str], *, limit: int = 12) -> list[str]:
    """What to look for: the subject's telling words (3+ letters, no stop words) and observable values,
    each once, at most `limit` (pure)."""
    seen: dict[str, None] = {}
    for word in WORD.findall(subject or ""):
        folded = word.lower()
        if len(folded) >= 3 and folded not in STOP_WORDS and not folded.isdigit():
            seen.setdefault(folded, None)
    for value in observables:
        if value and len(value) <= 200:
            seen.setdefault(value.lower(), None)
    return list(seen)[:limit]
