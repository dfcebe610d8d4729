"""Fast bulk seeding of tickets with threads for benchmarks (not through services: millions of rows).

Rows are generated in Python with a fixed random seed and written with COPY on PostgreSQL and
executemany on SQLite. The audit trail is not written for seeded rows; benchmarks never verify it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

SUBJECTS = [
    "Phishing report: invoice attachment from {d}",
    "EDR: encoded PowerShell on WS-{n:04d}",
    "Brute force against VPN from {ip}",
    "Impossible travel for user u{n:05d}",
    "Malware beacon to {d} detected by Suricata",
    "Vulnerability scan finding CVE-2024-{n:04d} on srv-{n:03d}",
    "Password reset request for u{n:05d}",
    "Wazuh rule 5712: SSHD brute force on web-{n:02d}",
    "Suspicious OAuth consent grant by u{n:05d}",
    "DLP: bulk download from SharePoint by u{n:05d}",
    "Alertmanager: HighErrorRate on api-{n:02d}",
    "Lost laptop reported by u{n:05d}",
]
DOMAINS = ["evil-cdn.example", "login-m1crosoft.example", "update-check.example", "files-share.example"]
SEVERITIES = ["info", "low", "medium", "high", "critical"]
SEVERITY_WEIGHTS = [10, 30, 35, 20, 5]
SOURCES = ["alert", "email", "web", "api", "phone"]
SOURCE_WEIGHTS = [55, 25, 10, 8, 2]
RESOLUTIONS = ["true_positive", "benign_positive", "false_positive", "duplicate", "not_applicable"]
BODY = (
    "Observed activity matching the detection rule. Host and user details follow; the analyst should "
    "review process tree, network connections and authentication logs for the period around the alert."
)
TICKET_COLUMNS = [
    "id",
    "number",
    "subject",
    "severity",
    "status",
    "resolution",
    "source",
    "department_id",
    "assignee_id",
    "team_id",
    "requester_id",
    "due_at",
    "extra",
    "custom_fields",
    "version",
    "alert_occurrences",
    "created_at",
    "acknowledged_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "last_activity_at",
]
ENTRY_COLUMNS = [
    "ticket_id",
    "kind",
    "author_agent_id",
    "author_contact_id",
    "author_label",
    "body",
    "body_format",
    "created_at",
]


def _status(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.92:
        return "closed"
    if r < 0.95:
        return "resolved"
    if r < 0.97:
        return "new"
    return "in_progress" if r < 0.99 else "on_hold"


def generate(
    total: int,
    first_id: int,
    first_number: int,
    prefix: str,
    departments,
    agents_by_dept,
    contacts,
    tag_ids,
    span_days: int = 730,
    seed: int = 42,
):
    """Yield (ticket_row, entry_rows, tag_rows) for `total` tickets, oldest first."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=span_days)
    step = timedelta(days=span_days) / max(total, 1)
    for i in range(total):
        tid = first_id + i
        created = start + step * i
        status = _status(rng)
        dept_index = rng.randrange(len(departments))
        dept = departments[dept_index]
        assignee = None if status == "new" or rng.random() < 0.1 else rng.choice(agents_by_dept[dept_index])
        n = rng.randrange(10000)
        subject = rng.choice(SUBJECTS).format(d=rng.choice(DOMAINS), n=n, ip=f"198.51.100.{n % 255}")
        activity = min(created + timedelta(minutes=rng.randrange(5, 4000)), now)
        ack = created + timedelta(minutes=rng.randrange(1, 120)) if assignee else None
        resolved = activity if status in ("resolved", "closed") else None
        closed = activity if status == "closed" else None
        requester = rng.choice(contacts)
        severity = rng.choices(SEVERITIES, SEVERITY_WEIGHTS)[0]
        source = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
        resolution = rng.choice(RESOLUTIONS) if resolved else ""
        number = f"{prefix}-{first_number + i}"
        version = 1 + rng.randrange(6)
        ticket = (
            tid,
            number,
            subject,
            severity,
            status,
            resolution,
            source,
            dept,
            assignee,
            None,
            requester,
            None,
            "{}",
            "{}",
            version,
            1 + rng.randrange(40) if source == "alert" else 0,
            created,
            ack,
            ack,
            resolved,
            closed,
            activity,
        )
        entries = [(tid, "message", None, requester, "requester", BODY, "text", created)]
        for k in range(rng.randrange(1, 4)):
            kind = "reply" if k % 2 == 0 else "note"
            entries.append(
                (tid, kind, assignee, None, "analyst", BODY, "text", created + timedelta(minutes=k + 1))
            )
        tags = [(tid, rng.choice(tag_ids))] if rng.random() < 0.3 else []
        yield ticket, entries, tags


def bulk_insert(connection, rows_iter, total: int, batch: int = 20000) -> None:
    """Write generated rows with COPY (PostgreSQL) or executemany (SQLite), with a progress bar."""
    columns = [
        TextColumn("seeding tickets"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    tickets, entries, tags = [], [], []
    with Progress(*columns) as progress:
        task = progress.add_task("seed", total=total)
        for ticket, ticket_entries, ticket_tags in rows_iter:
            tickets.append(ticket)
            entries.extend(ticket_entries)
            tags.extend(ticket_tags)
            if len(tickets) >= batch:
                _flush(connection, tickets, entries, tags)
                progress.advance(task, len(tickets))
                tickets, entries, tags = [], [], []
        if tickets:
            _flush(connection, tickets, entries, tags)
            progress.advance(task, len(tickets))


def _flush(connection, tickets, entries, tags) -> None:
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            for table, cols, rows in (
                ("tickets_ticket", TICKET_COLUMNS, tickets),
                ("tickets_threadentry", ENTRY_COLUMNS, entries),
                ("tickets_ticket_tags", ["ticket_id", "tag_id"], tags),
            ):
                with raw.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            for table, cols, rows in (
                ("tickets_ticket", TICKET_COLUMNS, tickets),
                ("tickets_threadentry", ENTRY_COLUMNS, entries),
                ("tickets_ticket_tags", ["ticket_id", "tag_id"], tags),
            ):
                marks = ", ".join(["%s"] * len(cols))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)
