"""Search over tickets: query language (query), document (document), index upkeep (index), the
database-specific SQL (sql) and applying a query to tickets (engine). Import from this package."""

from socdesk.tickets.search.engine import (
    RANK_WINDOW,
    ranked_count,
    search_apply,
    search_errors,
    search_rank_order,
    search_snippets,
)
from socdesk.tickets.search.index import search_index, search_index_new, search_rebuild
from socdesk.tickets.search.query import FIELDS, SearchQuery, Term, field_help, parse_query
from socdesk.tickets.search.registry import (
    DocumentParts,
    NewTicket,
    search_contributor_register,
    search_field_register,
    search_normaliser_register,
)

__all__ = [
    "FIELDS",
    "RANK_WINDOW",
    "DocumentParts",
    "NewTicket",
    "SearchQuery",
    "Term",
    "field_help",
    "parse_query",
    "ranked_count",
    "search_apply",
    "search_contributor_register",
    "search_errors",
    "search_field_register",
    "search_index",
    "search_index_new",
    "search_normaliser_register",
    "search_rank_order",
    "search_rebuild",
    "search_snippets",
]
