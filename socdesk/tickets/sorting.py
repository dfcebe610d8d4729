"""The sortable columns of ticket lists: one table for every column, read by the queue and the API.

A column's key in `?sort=` gives its natural order (newest activity first, most severe first, A to Z);
the same key with a leading "-" reverses it. Every order ends on the primary key, so pages never
overlap. Adding a sortable column is one `SortColumn` row here and a `_sort.html` include in the header.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.db.models import Case, F, IntegerField, OrderBy, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce

from socdesk.tickets.choices import SEVERITY_RANK, Status


def _rank(field_name: str, ranks: Mapping[str, int]) -> Callable[[], Combinable]:
    """An expression giving each choice its rank (severity, workflow order) rather than its spelling."""

    def build() -> Combinable:
        return Case(
            *(When(**{field_name: value}, then=Value(rank)) for value, rank in ranks.items()),
            default=Value(-1),
            output_field=IntegerField(),
        )

    return build


STATUS_RANK = {value: rank for rank, value in enumerate(Status.values)}


def _time_to_acknowledge() -> Combinable:
    """From creation to the first agent action (NULL until then)."""
    return F("acknowledged_at") - F("created_at")


def _time_to_resolve() -> Combinable:
    """From creation to resolved, or closed without a resolution (NULL while open)."""
    return Coalesce("resolved_at", "closed_at") - F("created_at")


@dataclass(frozen=True)
class SortColumn:
    """One sortable column: its `?sort=` key and the order (field or annotation names) of its first click."""

    key: str
    label: str
    # "-name" is descending. Plain names of columns that are never NULL let the API page by a cursor.
    order: tuple[str, ...]
    # name -> builder of an expression the order refers to (ranks, names); built per query.
    annotations: Mapping[str, Callable[[], Combinable]] = field(default_factory=lambda: MappingProxyType({}))
    # names whose empty values (no assignee, no requester, no due date) sort last in either direction
    nulls_last: frozenset[str] = frozenset()
    # True when `order` holds only never-NULL model fields, which cursor (keyset) pagination needs
    keyset: bool = False

    def terms(self, *, reverse: bool) -> tuple[str, ...]:
        """The order as names with "-" for descending, reversed when asked."""
        if not reverse:
            return self.order
        return tuple(name[1:] if name.startswith("-") else f"-{name}" for name in self.order)

    def apply(self, qs: QuerySet, *, reverse: bool) -> QuerySet:
        """Order a queryset by this column."""
        if self.annotations:
            qs = qs.annotate(**{name: build() for name, build in self.annotations.items()})
        ordering: list[str | OrderBy] = []
        for term in self.terms(reverse=reverse):
            name = term.lstrip("-")
            if name in self.nulls_last:
                expr = F(name)
                ordering.append(
                    expr.desc(nulls_last=True) if term.startswith("-") else expr.asc(nulls_last=True)
                )
            else:
                ordering.append(term)
        return qs.order_by(*ordering)


SORT_COLUMNS: tuple[SortColumn, ...] = (
    SortColumn("activity", "Last activity", ("-last_activity_at", "-id"), keyset=True),
    SortColumn("created", "Created", ("-created_at", "-id"), keyset=True),
    SortColumn("number", "Number", ("-id",), keyset=True),
    SortColumn(
        "severity",
        "Severity",
        ("-severity_rank", "-last_activity_at", "-id"),
        # On PostgreSQL this order reads straight off ticket_severity_rank_idx (migration tickets 0003).
        annotations=MappingProxyType({"severity_rank": _rank("severity", SEVERITY_RANK)}),
    ),
    SortColumn(
        "status",
        "Status",
        ("status_rank", "-last_activity_at", "-id"),
        annotations=MappingProxyType({"status_rank": _rank("status", STATUS_RANK)}),
    ),
    SortColumn("subject", "Subject", ("subject", "id")),
    SortColumn("department", "Department", ("department__name", "id")),
    SortColumn(
        "assignee",
        "Assignee / team",
        ("assignee__display_name", "assignee__user__first_name", "assignee__user__username", "id"),
        nulls_last=frozenset(
            {"assignee__display_name", "assignee__user__first_name", "assignee__user__username"}
        ),
    ),
    SortColumn(
        "requester",
        "Requester",
        ("requester__name", "requester__email", "id"),
        nulls_last=frozenset({"requester__name", "requester__email"}),
    ),
    SortColumn("due", "Due", ("due_at", "id"), nulls_last=frozenset({"due_at"})),
    # The alert count is kept on the ticket by ingest (never NULL), so the API can page by it.
    SortColumn("alerts", "Alerts", ("-alert_occurrences", "-id"), keyset=True),
    # Slowest first; tickets without the time yet last either way. On PostgreSQL these orders read off
    # ticket_tta_idx / ticket_ttr_idx (migration tickets 0004).
    SortColumn(
        "tta",
        "TTA",
        ("-tta", "-id"),
        annotations=MappingProxyType({"tta": _time_to_acknowledge}),
        nulls_last=frozenset({"tta"}),
    ),
    SortColumn(
        "ttr",
        "TTR",
        ("-ttr", "-id"),
        annotations=MappingProxyType({"ttr": _time_to_resolve}),
        nulls_last=frozenset({"ttr"}),
    ),
)

COLUMNS_BY_KEY = {column.key: column for column in SORT_COLUMNS}
# Every accepted `?sort=` value: each key and its reverse.
SORT_KEYS = tuple(key for column in SORT_COLUMNS for key in (column.key, f"-{column.key}"))
# The sorts the API's cursor pagination can page by, with the plain field names it pages on.
KEYSET_SORTS = {
    key: column.terms(reverse=key.startswith("-"))
    for column in SORT_COLUMNS
    if column.keyset
    for key in (column.key, f"-{column.key}")
}
DEFAULT_SORT = "activity"


def sort_tickets(qs: QuerySet, sort: str) -> QuerySet:
    """Order tickets by one of SORT_KEYS (checked by the caller; anything else is the default)."""
    column = COLUMNS_BY_KEY.get(sort.lstrip("-"), COLUMNS_BY_KEY[DEFAULT_SORT])
    return column.apply(qs, reverse=sort.startswith("-"))


def sort_header(current: str) -> dict[str, dict[str, str]]:
    """For each column key: its label, the sort its header link asks for, and how it is sorted now.

    The first click on a column gives its natural order; a click on the column already sorted that
    way reverses it. `aria` is the ARIA sort state of the header cell ("" when not sorted by it).
    """
    header = {}
    for column in SORT_COLUMNS:
        natural_descending = column.order[0].startswith("-")
        if current == column.key:
            descending, next_sort, arrow = natural_descending, f"-{column.key}", "▾"
        elif current == f"-{column.key}":
            descending, next_sort, arrow = not natural_descending, column.key, "▴"
        else:
            header[column.key] = {"label": column.label, "next": column.key, "aria": "", "arrow": ""}
            continue
        header[column.key] = {
            "label": column.label,
            "next": next_sort,
            "aria": "descending" if descending else "ascending",
            "arrow": arrow,
        }
    return header
