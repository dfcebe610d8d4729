"""The database-specific half of search, behind one small interface (PostgreSQL and SQLite).

    PostgreSQL                                     SQLite
    a tsvector written with the row + GIN          FTS5 table kept by triggers on the document table
    phraseto_tsquery per term                      an FTS5 phrase per term
    identifiers ILIKE, served by a pg_trgm index   identifiers LIKE (the embedded default is small)
    ts_rank                                        bm25
    strpos (an order given as a list of ids)       instr
    ts_headline                                    snippet()

Everything else (what a document holds, how a query is read, which tickets a person may see) is the
same Python for both; callers never branch on the database.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from django.db import DEFAULT_DB_ALIAS, connections

if TYPE_CHECKING:
    from socdesk.tickets.models import TicketSearch

from socdesk.tickets.search.sql.common import MARK_END, MARK_START, TABLE, like_pattern

__all__ = ["MARK_END", "MARK_START", "TABLE", "SearchSql", "backend", "like_pattern"]


class SearchSql(Protocol):
    """What each database implements; every SQL fragment reads the document table as `s`."""

    def forward(self) -> list[str]:
        """Statements that add the full-text index to the freshly created document table."""
        ...

    def backward(self) -> list[str]: ...

    def write(self, documents: list[TicketSearch]) -> None:
        """Insert or replace these documents (with what the full-text index needs), in one statement
        per few thousand."""
        ...

    def text_match(self, text: str) -> tuple[str, list]:
        """A condition: the document holds these words next to each other."""
        ...

    def identifier_match(self, text: str) -> tuple[str, list]:
        """A condition: one of the document's identifiers contains this text (any case)."""
        ...

    def scores(self, ticket_ids: list[int], texts: list[str]) -> dict[int, float]:
        """How well each of these tickets matches all of `texts` (higher is better; one query)."""
        ...

    def position(self, ticket_column: str) -> str:
        """An expression: where `,<id>,` is found in a text parameter (an order given as a list)."""
        ...

    def snippets(self, ticket_ids: list[int], texts: list[str]) -> dict[int, str]:
        """A short extract of each document around its matches, matches between the MARK_* marks."""
        ...

    def serial(self) -> AbstractContextManager[None]:
        """Within the block, no parallel plans: a search reads a few hundred rows at most, and
        starting parallel workers costs more than that on a busy machine (docs/benchmarks.md)."""
        ...

    def optimise(self) -> None:
        """Tidy the index after a rebuild."""
        ...

    def json_read_back(self, value: Any) -> Any:
        """A value the ORM writes to a JSON column, as a plain SQL read of that column decodes it (key
        order, numbers); ValueError when that cannot be told without reading it."""
        ...


def backend(alias: str = DEFAULT_DB_ALIAS) -> SearchSql:
    """The implementation for this connection's database."""
    if connections[alias].vendor == "postgresql":
        from socdesk.tickets.search.sql.postgresql import POSTGRESQL

        return POSTGRESQL
    from socdesk.tickets.search.sql.sqlite import SQLITE

    return SQLITE
