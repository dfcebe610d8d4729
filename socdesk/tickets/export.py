"""Tickets exported as CSV or JSON, streamed row by row: any queue, saved search or search, from the
console and the REST API (docs/console.md#export, docs/api.md).

The rows are read in chunks from one ordered query (a server-side cursor on PostgreSQL), with one more
query per chunk for the chunk's tags, so a million rows never sit in memory at once. Each export is
audited (`tickets.exported`, naming the filter) before its first row is sent: who took which data out of
SOCdesk is part of the trail.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.tickets.filters import TicketFilter
from socdesk.tickets.models import Ticket
from socdesk.tickets.sorting import sort_tickets

CHUNK = 2000
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@dataclass(frozen=True)
class Column:
    """One exported column: its name in the header (and JSON key) and the lookup it reads."""

    name: str
    lookup: str


COLUMNS = (
    Column("number", "number"),
    Column("subject", "subject"),
    Column("status", "status"),
    Column("resolution", "resolution"),
    Column("severity", "severity"),
    Column("source", "source"),
    Column("department", "department__name"),
    Column("team", "team__name"),
    Column("assignee", "assignee__user__username"),
    Column("requester_name", "requester__name"),
    Column("requester_email", "requester__email"),
    Column("alert_occurrences", "alert_occurrences"),
    Column("created_at", "created_at"),
    Column("acknowledged_at", "acknowledged_at"),
    Column("first_response_at", "first_response_at"),
    Column("resolved_at", "resolved_at"),
    Column("closed_at", "closed_at"),
    Column("last_activity_at", "last_activity_at"),
    Column("due_at", "due_at"),
    Column("custom_fields", "custom_fields"),
)
HEADER = [column.name for column in COLUMNS] + ["tags"]
# A spreadsheet runs a cell that starts with one of these as a formula: subjects, names and tags come
# from outside (a requester's mail, an alert's title), so such a cell is written with a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_queryset(qs: QuerySet[Ticket], ticket_filter: TicketFilter, agent) -> QuerySet[Ticket]:
    """The tickets a filter selects, in its order (a search's relevance order is the activity order:
    ranking reads only the most recent matches, and an export wants them all)."""
    qs = ticket_filter.apply(qs, agent, counting=True)
    sort = ticket_filter.sort if ticket_filter.sort != "relevance" else "activity"
    return sort_tickets(qs, sort)


def export_rows(qs: QuerySet[Ticket], *, chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
    """Every ticket of `qs` as a dict of HEADER's names, in the queryset's order, `chunk` at a time."""
    lookups = ["id"] + [column.lookup for column in COLUMNS]
    batch: list[tuple] = []
    for values in qs.values_list(*lookups).iterator(chunk_size=chunk):
        batch.append(values)
        if len(batch) >= chunk:
            yield from _with_tags(batch)
            batch = []
    if batch:
        yield from _with_tags(batch)


def _with_tags(batch: list[tuple]) -> Iterator[dict[str, Any]]:
    tags: dict[int, list[str]] = {}
    through = Ticket.tags.through.objects.filter(ticket_id__in=[values[0] for values in batch])
    for ticket_id, name in through.order_by("tag__name").values_list("ticket_id", "tag__name"):
        tags.setdefault(ticket_id, []).append(name)
    for values in batch:
        row = {column.name: _plain(value) for column, value in zip(COLUMNS, values[1:], strict=True)}
        row["tags"] = tags.get(values[0], [])
        yield row


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return "" if value is None else value


def _cell(value: Any) -> str:
    if isinstance(value, list):
        value = "; ".join(value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Line:
    """A file-like object for csv.writer that hands back each line it is given."""

    def write(self, line: str) -> str:
        return line


def csv_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The rows as CSV (a header line, then one line per ticket), encoded as UTF-8."""
    writer = csv.writer(_Line())
    yield writer.writerow(HEADER).encode()
    for row in rows:
        yield writer.writerow([_cell(row[name]) for name in HEADER]).encode()


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The rows as one JSON array of objects, one ticket per line."""
    yield b"["
    separator = b"\n"
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False).encode()
        separator = b",\n"
    yield b"\n]\n"


def export_start(*, actor: Actor, export_format: str, query: str, via: str) -> None:
    """Record that `actor` exported the tickets `query` selects (before the first row is sent)."""
    record(
        actor=actor,
        action="tickets.exported",
        target_type="ticket_export",
        target_label=query or "all tickets",
        after={"format": export_format, "query": query, "via": via},
    )


def export_filename(export_format: str, now: datetime | None = None) -> str:
    moment = (now or timezone.now()).astimezone(UTC)
    return f"socdesk-tickets-{moment:%Y%m%d-%H%M%S}.{export_format}"


def export_response(
    qs: QuerySet[Ticket], *, actor: Actor, export_format: str, query: str, via: str
) -> StreamingHttpResponse:
    """The download of `qs` (already filtered for what the caller may see) in `export_format`, recorded
    in the audit trail first; the rows are read as the response is sent."""
    export_start(actor=actor, export_format=export_format, query=query, via=via)
    rows = export_rows(qs)
    chunks = csv_chunks(rows) if export_format == "csv" else json_chunks(rows)
    response = StreamingHttpResponse(chunks, content_type=FORMATS[export_format])
    response["Content-Disposition"] = f'attachment; filename="{export_filename(export_format)}"'
    return response
