"""Search on SQLite: an FTS5 table over the document table (external content), kept by triggers."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.db import connection

from socdesk.tickets.models import TicketSearch
from socdesk.tickets.search.sql.common import MARK_END, MARK_START, TABLE, like_pattern

FTS = f"{TABLE}_fts"
# Rows per statement: four values each, within what every SQLite build allows in one statement (999).
WRITE_CHUNK = 240


def phrase(text: str) -> str:
    """The text as one FTS5 phrase: quoted, so no word of it is read as FTS5 syntax."""
    return '"' + text.replace('"', '""') + '"'


class SqliteSearch:
    def forward(self) -> list[str]:
        columns = "title, body"
        delete = (
            f"INSERT INTO {FTS}({FTS}, rowid, {columns}) "
            "VALUES ('delete', old.ticket_id, old.title, old.body);"
        )
        insert = f"INSERT INTO {FTS}(rowid, {columns}) VALUES (new.ticket_id, new.title, new.body);"
        return [
            f"CREATE VIRTUAL TABLE {FTS} USING fts5({columns}, content='{TABLE}', "
            "content_rowid='ticket_id', tokenize='unicode61 remove_diacritics 2')",
            f"CREATE TRIGGER {TABLE}_ai AFTER INSERT ON {TABLE} BEGIN {insert} END",
            f"CREATE TRIGGER {TABLE}_ad AFTER DELETE ON {TABLE} BEGIN {delete} END",
            f"CREATE TRIGGER {TABLE}_au AFTER UPDATE ON {TABLE} BEGIN {delete} {insert} END",
        ]

    def write(self, documents: list[TicketSearch]) -> None:
        # The triggers keep the FTS5 table in step with the rows. The statement bulk_create(...,
        # update_conflicts=True) would make, written out: Django's insert compiler costs more than
        # the insert on every ticket opened.
        with connection.cursor() as cursor:
            for start in range(0, len(documents), WRITE_CHUNK):
                chunk = documents[start : start + WRITE_CHUNK]
                cursor.execute(
                    f"INSERT INTO {TABLE} (ticket_id, title, body, identifiers) VALUES "
                    + ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
                    + " ON CONFLICT (ticket_id) DO UPDATE SET title = excluded.title, "
                    "body = excluded.body, identifiers = excluded.identifiers",
                    [value for d in chunk for value in (d.ticket_id, d.title, d.body, d.identifiers)],
                )

    def backward(self) -> list[str]:
        return [
            f"DROP TRIGGER IF EXISTS {TABLE}_au",
            f"DROP TRIGGER IF EXISTS {TABLE}_ad",
            f"DROP TRIGGER IF EXISTS {TABLE}_ai",
            f"DROP TABLE IF EXISTS {FTS}",
        ]

    def text_match(self, text: str) -> tuple[str, list]:
        return f"s.ticket_id IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s)", [phrase(text)]

    def identifier_match(self, text: str) -> tuple[str, list]:
        # LIKE ignores case for ASCII, which is all identifiers hold once normalised.
        return "s.identifiers LIKE %s ESCAPE '\\'", [like_pattern(text)]

    def scores(self, ticket_ids: list[int], texts: list[str]) -> dict[int, float]:
        marks = ", ".join(["%s"] * len(ticket_ids))
        with connection.cursor() as cursor:
            # bm25 is lower for better matches; a title match weighs ten body matches. `+rowid` keeps
            # the id list away from FTS5, which would otherwise rerun the MATCH once per id (18 times
            # slower on 500 ids): the MATCH runs once and SQLite keeps the rows asked for.
            cursor.execute(
                f"SELECT rowid, -bm25({FTS}, 10.0, 1.0) FROM {FTS} "
                f"WHERE {FTS} MATCH %s AND +rowid IN ({marks})",
                [" AND ".join(phrase(t) for t in texts), *ticket_ids],
            )
            return dict(cursor.fetchall())

    def position(self, ticket_column: str) -> str:
        return f"instr(%s, ',' || {ticket_column} || ',')"

    def snippets(self, ticket_ids: list[int], texts: list[str]) -> dict[int, str]:
        if not ticket_ids or not texts:
            return {}
        marks = ", ".join(["%s"] * len(ticket_ids))
        with connection.cursor() as cursor:
            cursor.execute(  # `+rowid`: see scores()
                f"SELECT rowid, snippet({FTS}, -1, %s, %s, ' … ', 14) FROM {FTS} "
                f"WHERE {FTS} MATCH %s AND +rowid IN ({marks})",
                [MARK_START, MARK_END, " OR ".join(phrase(t) for t in texts), *ticket_ids],
            )
            return dict(cursor.fetchall())

    def serial(self) -> AbstractContextManager[None]:
        return nullcontext()  # SQLite never runs a query in parallel

    def optimise(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('optimize')")

    def json_read_back(self, value: Any) -> Any:
        # The column holds the text the ORM wrote (json.dumps, no encoder), as it was.
        return json.loads(json.dumps(value))


SQLITE = SqliteSearch()
