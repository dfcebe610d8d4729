"""Benchmark: server-side time of the agent queue page and the ticket page on a large database.

    python bench/queue_list.py                    # PostgreSQL, 1,000,000 tickets (seeded once, then reused)
    python bench/queue_list.py --db sqlite --tickets 100000

Seeds N tickets with threads into a dedicated benchmark database (never your own), then times 200
requests of each page through Django's full request/response cycle in-process (middleware, queries,
template rendering; no network), reporting p50/p95 and queries per request, and EXPLAIN of the queue
query. Figures are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results, configure, percentile


def ensure_org():
    """Departments, agents, contacts and tags for the benchmark (created once, through services)."""
    from socdesk.accounts.choices import Perm
    from socdesk.accounts.models import Agent, Contact, Department
    from socdesk.accounts.services import (
        access_grant,
        agent_create,
        department_create,
        role_create,
        team_create,
    )
    from socdesk.core.actor import Actor
    from socdesk.tickets.models import Tag

    actor = Actor.system("bench")
    names = [
        "SOC",
        "IT Help Desk",
        "Threat Intel",
        "Incident Response",
        "Cloud Security",
        "Vulnerability Mgmt",
    ]
    if not Department.objects.filter(name="SOC").exists():
        role = role_create(
            actor=actor, name="Bench analyst", permissions=[p for p in Perm.values if p != "delete"]
        )
        for index, name in enumerate(names):
            dept = department_create(actor=actor, name=name)
            members = []
            for k in range(5):
                agent = agent_create(
                    actor=actor, username=f"bench-{index}-{k}", email=f"b{index}{k}@bench.test", password=None
                )
                access_grant(actor=actor, agent=agent, department=dept, role=role)
                members.append(agent)
            team_create(actor=actor, name=f"{name} team", department=dept, lead=members[0], members=members)
        agent_create(
            actor=actor, username="bench-admin", email="admin@bench.test", password=None, is_admin=True
        )
        Contact.objects.bulk_create(
            [Contact(email=f"user{i}@corp.example", name=f"User {i}") for i in range(2000)]
        )
        tags = ["phishing", "edr", "malware", "vpn", "cloud", "insider", "vuln", "ransomware", "bec", "dlp"]
        Tag.objects.bulk_create([Tag(name=t) for t in tags])
    departments = [Department.objects.get(name=n).pk for n in names]
    agents_by_dept = [
        list(Agent.objects.filter(accesses__department_id=d).values_list("pk", flat=True))
        for d in departments
    ]
    contacts = list(Contact.objects.values_list("pk", flat=True))
    tags = list(Tag.objects.values_list("pk", flat=True))
    return departments, agents_by_dept, contacts, tags


def seed(target: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.db.models import Max
    from seed import bulk_insert, generate

    from socdesk.tickets.models import Ticket

    departments, agents_by_dept, contacts, tags = ensure_org()
    have = Ticket.objects.count()
    if have >= target:
        print(f"Reusing {have:,} tickets already in the benchmark database.")
        return
    first_id = (Ticket.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    first_number = 1_000_000 + first_id
    todo = target - have
    print(f"Seeding {todo:,} tickets with threads ({have:,} present)...")
    rows = generate(
        todo,
        first_id,
        first_number,
        settings.SOCDESK_TICKET_PREFIX,
        departments,
        agents_by_dept,
        contacts,
        tags,
        seed=first_id,
    )
    bulk_insert(connection, rows, todo)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in ("tickets_ticket", "tickets_threadentry", "tickets_ticket_tags"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            cursor.execute("SELECT setval('socdesk_seq_ticket_number', %s)", [first_number + todo])
            print("ANALYZE ...")
            cursor.execute("ANALYZE")
        else:
            cursor.execute(
                "INSERT INTO core_counter (name, value) VALUES ('ticket_number', %s) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [first_number + todo],
            )
            cursor.execute("ANALYZE")


def measure(requests: int) -> tuple[str, list[tuple]]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from socdesk.accounts.models import Agent
    from socdesk.tickets.filters import TicketFilter, queue_tickets
    from socdesk.tickets.selectors import tickets_visible_to

    analyst = Agent.objects.select_related("user").get(user__username="bench-0-0")
    admin = Agent.objects.select_related("user").get(user__username="bench-admin")
    rng = random.Random(7)
    rows = []
    cases = [
        ("analyst (SOC)", analyst, "landing page (6 queue counts)", lambda: "/"),
        ("analyst (SOC)", analyst, "queue: Open (default)", lambda: "/tickets/?queue=open"),
        ("analyst (SOC)", analyst, "queue: My tickets", lambda: "/tickets/?queue=mine"),
        ("analyst (SOC)", analyst, "queue: All, page 1", lambda: "/tickets/?queue=all"),
        ("admin", admin, "queue: All, severity=critical", lambda: "/tickets/?queue=all&severity=critical"),
        ("analyst (SOC)", analyst, "ticket page", None),
    ]
    # The same pages with the count cache off: what a page costs when every count is recomputed
    # (e.g. the first view after the cache period, or SOCDESK_COUNT_CACHE_SECONDS=0).
    cases += [(who, a, f"{label}, counts uncached", p) for who, a, label, p in cases[:5]]
    for who, agent, path_label, paths in cases:
        settings.SOCDESK_COUNT_CACHE_SECONDS = 0 if "uncached" in path_label else 10
        client = Client()
        client.force_login(agent.user)
        if paths is None:
            visible = tickets_visible_to(agent).order_by("-id").values_list("number", flat=True)
            recent = list(visible[:5000])
            numbers = [rng.choice(recent) for _ in range(requests + 10)]
            # Each sampled ticket is read once first, so the timing is server work with the ticket's rows
            # in memory, as for the recent tickets a SOC works on. A ticket never touched before adds
            # disk reads on top (100-800 ms on this machine's disk for a cold ticket).
            for number in set(numbers):
                client.get(f"/tickets/{number}/")
            paths = iter(f"/tickets/{n}/" for n in numbers).__next__
        for _ in range(5):  # warm caches and connections
            client.get(paths())
        timings, queries = [], []
        for _ in range(requests):
            path = paths()
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}; is the console installed?")
            queries.append(len(ctx.captured_queries))
        rows.append(
            (who, path_label, requests, percentile(timings, 50), percentile(timings, 95), max(queries))
        )

    explain = ""
    if connection.vendor == "postgresql":
        qs = queue_tickets(analyst, TicketFilter())[:50]
        explain = qs.explain(analyze=True)
    return explain, rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--tickets", type=int, default=None, help="default 1,000,000 (PostgreSQL) / 100,000 (SQLite)"
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to docs/benchmarks.md"
    )
    args = parser.parse_args()
    tickets = args.tickets or (1_000_000 if args.db == "postgres" else 100_000)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    db = configure(args.db)
    seed(tickets)
    explain, rows = measure(args.requests)

    from rich.console import Console
    from rich.table import Table

    from socdesk.tickets.models import Ticket

    total = Ticket.objects.count()
    table = Table(title=f"Queue and ticket pages, {total:,} tickets, {db}")
    for col in ("agent", "page", "requests", "p50 ms", "p95 ms", "queries/request"):
        table.add_column(col)
    md = "| agent | page | requests | p50 ms | p95 ms | queries/request |\n|---|---|---|---|---|---|\n"
    for who, page, n, p50, p95, q in rows:
        table.add_row(who, page, str(n), f"{p50:.1f}", f"{p95:.1f}", str(q))
        md += f"| {who} | {page} | {n} | {p50:.1f} | {p95:.1f} | {q} |\n"
    Console().print(table)
    if explain:
        print(explain)
        md += "\nEXPLAIN ANALYZE of the default queue query (analyst, Open, first 50 rows):\n\n"
        md += f"```\n{explain}\n```\n"
    if not args.no_record:
        command = "python bench/queue_list.py " + " ".join(sys.argv[1:])
        path = append_results(f"Queue list, {total:,} tickets", command.strip(), db, md)
        print(f"Figures appended to {path}")


if __name__ == "__main__":
    main()
