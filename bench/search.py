"""Benchmark: ticket search on a large database (the console's search box, the queue's Text filter and
the API's `q` share it).

    python bench/search.py                         # PostgreSQL, 1,000,000 tickets (seeded once, reused)
    python bench/search.py --db sqlite --tickets 100000

Seeds N tickets with threads into a dedicated benchmark database (never your own) with COPY (as
bench/queue_list.py does), marks a few of them with a rare word and an observable, builds the search
index with `socdesk search rebuild` (the same code every write uses), then times, for an analyst of one
department: the search itself (matching, ranking, the first page of 50 rows and their snippets) and the
whole queue page through Django's request cycle in-process, for a rare word, a common word, an
observable value (typed as such and as `ip:`), and a ticket number. Prints p50/p95, EXPLAIN ANALYZE of
the search queries (which must use the GIN and trigram indexes), and appends the figures to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results, configure, percentile

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/socdesk_bench_search"
RARE = "quetzalcoatl"  # written into 12 tickets' threads
OBSERVABLE = "203.0.113.199"  # carried by 25 tickets, never in their subjects
COMMON = "phishing"  # about one ticket in twelve
VERY_COMMON = "observed"  # in every seeded ticket's first message


def mark_rare_tickets() -> None:
    """Give a few tickets spread over the table the rare word and the observable (idempotent)."""
    from django.db.models import Max
    from django.utils import timezone

    from socdesk.alerts.models import Observable, TicketObservable
    from socdesk.alerts.observables import value_hash
    from socdesk.tickets.models import ThreadEntry, Ticket

    top = Ticket.objects.aggregate(m=Max("id"))["m"]
    step = top // 40
    ids = [pk for pk in range(step, top, step)]
    now = timezone.now()
    for pk in ids[:12]:
        entry = ThreadEntry.objects.filter(ticket_id=pk).order_by("id").first()
        if entry and RARE not in entry.body:
            ThreadEntry.objects.filter(pk=entry.pk).update(body=f"{entry.body} Sample named {RARE}.exe.")
    observable, _ = Observable.objects.get_or_create(
        value_hash=value_hash("ip", OBSERVABLE),
        defaults={"type": "ip", "value": OBSERVABLE, "first_seen": now, "last_seen": now},
    )
    TicketObservable.objects.bulk_create(
        [TicketObservable(ticket_id=pk, observable=observable, added_at=now) for pk in ids[10:35]],
        ignore_conflicts=True,
    )


# The search documents of seeded rows, written by one statement: the columns socdesk.tickets.search.
# document builds (number, digits and subject; requester, thread, tags and observables; identifiers)
# for rows that have no alerts, which is all of them here. Used only where the table is still empty
# (a first run) unless --rebuild asks for `socdesk search rebuild`, which takes minutes at a million.
SQL_FILL = """
INSERT INTO tickets_ticketsearch (ticket_id, title, body, identifiers)
SELECT t.id,
       t.number || ' ' || split_part(t.number, '-', 2) || ' ' || t.subject,
       left(concat_ws(E'\\n', nullif(concat_ws(' ', c.name, c.email), ''), e.text, g.tags, o.vals), 200000),
       concat_ws(E'\\n', t.number, c.email, o.vals)
FROM tickets_ticket t
LEFT JOIN accounts_contact c ON c.id = t.requester_id
LEFT JOIN LATERAL (
    SELECT string_agg(coalesce(nullif(author_label, '') || ': ', '') || left(body, 20000), E'\\n'
                      ORDER BY created_at, id) AS text
    FROM tickets_threadentry WHERE ticket_id = t.id AND kind <> 'event') e ON true
LEFT JOIN LATERAL (
    SELECT string_agg('#' || tg.name, E'\\n') AS tags
    FROM tickets_ticket_tags tt JOIN tickets_tag tg ON tg.id = tt.tag_id WHERE tt.ticket_id = t.id) g ON true
LEFT JOIN LATERAL (
    SELECT string_agg(ob.value, E'\\n') AS vals
    FROM alerts_ticketobservable x JOIN alerts_observable ob ON ob.id = x.observable_id
    WHERE x.ticket_id = t.id) o ON true
ON CONFLICT (ticket_id) DO NOTHING
"""


def build_index(rebuild: bool) -> tuple[str, float]:
    """Make sure every ticket has its search document; returns (how, seconds)."""
    from django.core.management import call_command
    from django.db import connection

    from socdesk.tickets.models import Ticket, TicketSearch
    from socdesk.tickets.search.sql.postgresql import POSTGRESQL

    if not rebuild and TicketSearch.objects.count() >= Ticket.objects.count():
        print("Reusing the search index already built.")
        return "", 0.0
    start = time.perf_counter()
    if rebuild or connection.vendor != "postgresql":
        print("socdesk search rebuild ...")
        call_command("search", "rebuild")
        return "socdesk search rebuild", time.perf_counter() - start
    print("Filling the search table with SQL, then building its indexes ...")
    forward = POSTGRESQL.forward()
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS ticket_search_document_idx")
        cursor.execute("DROP INDEX IF EXISTS ticket_search_identifiers_idx")
        cursor.execute(SQL_FILL)
        for statement in forward:
            if statement.startswith("CREATE INDEX"):
                cursor.execute(statement)
    return "SQL fill and index build", time.perf_counter() - start


def measure(requests: int):
    from django.conf import settings
    from django.db import connection
    from django.http import QueryDict
    from django.test import Client

    from socdesk.accounts.models import Agent
    from socdesk.tickets.filters import TicketFilter, capped_count, queue_tickets
    from socdesk.tickets.rows import ticket_rows
    from socdesk.tickets.search import RANK_WINDOW, search_snippets
    from socdesk.tickets.search.sql import backend
    from socdesk.tickets.selectors import tickets_visible_to

    settings.SOCDESK_COUNT_CACHE_SECONDS = 0  # every count recomputed: the worst case
    analyst = Agent.objects.select_related("user").get(user__username="bench-0-0")
    number = list(tickets_visible_to(analyst).order_by("id").values_list("number", flat=True)[:200])[-1]
    cases = [
        ("rare word", RARE),
        ("common word", COMMON),
        ("word in every ticket", VERY_COMMON),
        ("observable value", OBSERVABLE),
        ("observable field", f"ip:{OBSERVABLE}"),
        ("ticket number", number),
        ("number digits only", number.rsplit("-", 1)[1]),
    ]

    def params(q: str) -> QueryDict:
        query = QueryDict(mutable=True)
        query.update({"queue": "all", "q": q})
        return query

    def search(q: str) -> tuple[int, int]:
        ticket_filter = TicketFilter.from_querydict(params(q))
        tickets = queue_tickets(analyst, ticket_filter)
        rows = ticket_rows(tickets, 0, 51)
        search_snippets(ticket_filter.search, [r["id"] for r in rows[:50]])
        return len(rows), capped_count(tickets)[0]

    client = Client()
    client.force_login(analyst.user)
    results, explains = [], []
    for label, q in cases:
        for _ in range(3):  # warm caches
            _, count = search(q)
        timings, pages = [], []
        for _ in range(requests):
            start = time.perf_counter()
            search(q)
            timings.append((time.perf_counter() - start) * 1000)
        for _ in range(max(5, requests // 4)):
            start = time.perf_counter()
            response = client.get("/tickets/", {"queue": "all", "q": q})
            pages.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        results.append(
            (label, q, count, percentile(timings, 50), percentile(timings, 95), percentile(pages, 95))
        )
        if connection.vendor == "postgresql":
            # The query that uses the search indexes: the matches the analyst may see, newest first
            # (ranking then scores the first SOCDESK_COUNT_CAP + 1 of them by id).
            by_activity = params(q)
            by_activity["sort"] = "activity"
            ticket_filter = TicketFilter.from_querydict(by_activity)
            window = queue_tickets(analyst, ticket_filter).values("pk")[: RANK_WINDOW + 1]
            with backend().serial():  # as the search runs it
                explains.append((label, window.explain(analyze=True)))
    return results, explains


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--tickets", type=int, default=None, help="default 1,000,000 (PostgreSQL) / 100,000 (SQLite)"
    )
    parser.add_argument("--requests", type=int, default=60, help="timed searches per case")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the index even when it looks complete"
    )
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to docs/benchmarks.md"
    )
    args = parser.parse_args()
    tickets = args.tickets or (1_000_000 if args.db == "postgres" else 100_000)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_PG)
    db = configure(args.db)
    from queue_list import seed

    seed(tickets)
    mark_rare_tickets()
    how, build_seconds = build_index(args.rebuild)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tickets_ticketsearch")
    results, explains = measure(args.requests)

    from rich.console import Console
    from rich.table import Table

    from socdesk.tickets.models import Ticket

    total = Ticket.objects.count()
    table = Table(title=f"Search, {total:,} tickets, {db}, analyst of one department")
    columns = ("search", "query", "matches", "search p50 ms", "search p95 ms", "whole page p95 ms")
    for col in columns:
        table.add_column(col)
    md = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    for label, q, count, p50, p95, page95 in results:
        matches = f"{count:,}+" if count > 1000 else f"{count:,}"
        table.add_row(label, q, matches, f"{p50:.1f}", f"{p95:.1f}", f"{page95:.1f}")
        md += f"| {label} | `{q}` | {matches} | {p50:.1f} | {p95:.1f} | {page95:.1f} |\n"
    Console().print(table)
    if build_seconds:
        line = f"Index built by {how} for {total:,} tickets: {build_seconds:.0f} s."
        print(line)
        md += f"\n{line}\n"
    for label, plan in explains:
        print(f"\nEXPLAIN ANALYZE, {label}:\n{plan}")
        uses = [
            name for name in ("ticket_search_document_idx", "ticket_search_identifiers_idx") if name in plan
        ]
        md += f"\n<details><summary>EXPLAIN ANALYZE, {label} (uses: {', '.join(uses) or 'no search index'})"
        md += f"</summary>\n\n```\n{plan}\n```\n</details>\n"
    if not args.no_record:
        command = "python bench/search.py " + " ".join(sys.argv[1:])
        path = append_results(f"Search, {total:,} tickets", command.strip(), db, md)
        print(f"Figures appended to {path}")


if __name__ == "__main__":
    main()
