"""Search on PostgreSQL: a generated tsvector with a GIN index, and pg_trgm for identifier substrings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from socdesk.core.sql.postgresql import arrays_cursor
from socdesk.tickets.models import TicketSearch
from socdesk.tickets.search.sql.common import MARK_END, MARK_START, TABLE, like_pattern

CONFIG = "simple"  # no stemming and no stop words: identifiers and log text are not English prose
# PostgreSQL's parser keeps `winword.exe`, `evil.example/login` or `user@host` as one token, so the
# body is indexed a second time with these characters read as spaces: `winword` finds it too (and
# the angle brackets, which its parser otherwise takes for the edges of one long HTML tag). The split
# copy is made here, not by SQL's translate(), which costs more than the tsvector itself
# (docs/benchmarks.md), and it is not stored: only the tsvector built from it is.
SPLIT = str.maketrans("./:@_=<>-\\", " " * 10)
DOCUMENT = (
    f"setweight(to_tsvector('{CONFIG}', d.title), 'A') || "
    f"setweight(to_tsvector('{CONFIG}', d.body), 'D') || "
    f"setweight(to_tsvector('{CONFIG}', d.split), 'D')"
)


class PostgresSearch:
    def forward(self) -> list[str]:
        return [
            # Trusted since PostgreSQL 13: the database owner may create it, no superuser needed.
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            # Written by `write` with the rest of the row (DOCUMENT).
            f"ALTER TABLE {TABLE} ADD COLUMN document tsvector",
            f"CREATE INDEX ticket_search_document_idx ON {TABLE} USING gin (document)",
            # Searches read a handful of rows through the indexes; a parallel plan (chosen when the
            # planner guesses a rare word is common) only adds the workers' start-up, tens of
            # milliseconds on a busy machine (docs/benchmarks.md).
            f"ALTER TABLE {TABLE} SET (parallel_workers = 0)",
            f"CREATE INDEX ticket_search_identifiers_idx ON {TABLE} USING gin (identifiers gin_trgm_ops)",
        ]

    def backward(self) -> list[str]:
        return [
            "DROP INDEX IF EXISTS ticket_search_identifiers_idx",
            "DROP INDEX IF EXISTS ticket_search_document_idx",
            f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS document",
        ]

    def write(self, documents: list[TicketSearch]) -> None:
        # The columns go as binary arrays bound on the server: written as quoted SQL text instead,
        # escaping every document in Python costs more than building it.
        with arrays_cursor(connection) as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (ticket_id, title, body, identifiers, document) "
                f"SELECT d.ticket_id, d.title, d.body, d.identifiers, {DOCUMENT} "
                "FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::text[], %b::text[]) "
                "AS d(ticket_id, title, body, identifiers, split) "
                "ON CONFLICT (ticket_id) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body, "
                "identifiers = EXCLUDED.identifiers, document = EXCLUDED.document",
                [
                    [d.ticket_id for d in documents],
                    [d.title for d in documents],
                    [d.body for d in documents],
                    [d.identifiers for d in documents],
                    [d.body.translate(SPLIT) for d in documents],
                ],
            )

    def text_match(self, text: str) -> tuple[str, list]:
        return f"s.document @@ phraseto_tsquery('{CONFIG}', %s)", [text]

    def identifier_match(self, text: str) -> tuple[str, list]:
        return "s.identifiers ILIKE %s", [like_pattern(text)]

    def _query(self, texts: list[str]) -> tuple[str, list]:
        return (
            "(" + " && ".join(f"phraseto_tsquery('{CONFIG}', %s)" for _ in texts) + ")",
            list(texts),
        )

    def scores(self, ticket_ids: list[int], texts: list[str]) -> dict[int, float]:
        query, params = self._query(texts)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.ticket_id, ts_rank(s.document, {query}) "
                f"FROM {TABLE} s WHERE s.ticket_id = ANY(%s)",
                [*params, list(ticket_ids)],
            )
            return dict(cursor.fetchall())

    def position(self, ticket_column: str) -> str:
        return f"strpos(%s, ',' || {ticket_column} || ',')"

    def snippets(self, ticket_ids: list[int], texts: list[str]) -> dict[int, str]:
        if not ticket_ids or not texts:
            return {}
        query, params = self._query(texts)
        options = (
            f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords=16, MinWords=6, '
            'MaxFragments=2, FragmentDelimiter=" … "'
        )
        with connection.cursor() as cursor:
            # The body is cut first: ts_headline reads its whole input, and a page shows 50 snippets.
            cursor.execute(
                f"SELECT s.ticket_id, "
                f"ts_headline('{CONFIG}', left(s.title || ' — ' || s.body, 20000), {query}, %s) "
                f"FROM {TABLE} s WHERE s.ticket_id = ANY(%s) AND s.document @@ {query}",
                [*params, options, list(ticket_ids), *params],
            )
            return dict(cursor.fetchall())

    @contextmanager
    def serial(self) -> Iterator[None]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")  # until the block ends
            yield

    def optimise(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TABLE}")

    def json_read_back(self, value: Any) -> Any:
        return _as_jsonb(json.loads(json.dumps(value)))


def _as_jsonb(value: Any) -> Any:
    """A decoded JSON value as jsonb keeps it: an object's keys shortest first (in UTF-8 bytes), then
    by their bytes. jsonb holds numbers as numeric, which prints some floats unlike Python (1e16 as
    10000000000000000, -0.0 as 0.0): a float is a ValueError, and its ticket is read back instead."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return {key: _as_jsonb(value[key]) for key in keys}
    if isinstance(value, list):
        return [_as_jsonb(item) for item in value]
    if isinstance(value, float):
        raise ValueError("jsonb may print this number otherwise")
    return value


POSTGRESQL = PostgresSearch()
