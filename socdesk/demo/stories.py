"""Each demo ticket played forward through the ticket services at simulated times, then re-dated.

Each service call runs inside `recording_at(<its simulated time>)`, so the audit trail (the ticket's
History) records it at that time. The ticket services stamp tickets and thread entries with the real
clock; `Storyteller.apply_timeline` then moves those to the same simulated times, so the thread, the
history and the ticket's own timestamps tell one story spread over a month.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from django.utils import timezone

from socdesk.accounts.models import Agent, Contact
from socdesk.core.actor import Actor
from socdesk.core.clock import recording_at
from socdesk.demo.people import People
from socdesk.demo.scenarios import (
    BAD_DOMAINS,
    BAD_IPS,
    CAMPAIGNS,
    COUNTRIES,
    CVES,
    FILES,
    HOSTS,
    LURES,
    SCENARIOS,
    USERS,
    Scenario,
    lines_for,
    resolution_comment,
)
from socdesk.reports.journal import tickets_mark
from socdesk.tickets import services as tickets
from socdesk.tickets.choices import Resolution, Severity, Source, Status
from socdesk.tickets.models import ThreadEntry, Ticket

TIMESTAMP_FIELDS = ("acknowledged_at", "first_response_at", "resolved_at", "closed_at")


class _Story:
    """One ticket's life, with the simulated time at which each service call 'happened'."""

    def __init__(self, teller: Storyteller, ticket: Ticket, at: datetime):
        self.teller, self.ticket, self.at = teller, ticket, at
        self.times: dict[str, datetime | None] = {"created_at": at}
        self.seen: dict[str, datetime | None] = dict.fromkeys(TIMESTAMP_FIELDS)
        self.last_entry = 0
        self._stamp()

    def can_wait(self, minutes: float) -> bool:
        return self.at + timedelta(minutes=minutes) < self.teller.now - timedelta(minutes=5)

    def do(self, minutes: float, service: Callable, **kwargs) -> bool:
        """Run a service `minutes` after the previous step; False (and nothing done) if that is the future."""
        if not self.can_wait(minutes):
            return False
        self.at += timedelta(minutes=minutes)
        with recording_at(self.at):
            service(ticket=self.ticket, **kwargs)
        self._stamp()
        return True

    def _stamp(self) -> None:
        """Note which entries and timestamps the last service call wrote, to re-date them later."""
        for entry_id in ThreadEntry.objects.filter(ticket=self.ticket, id__gt=self.last_entry).values_list(
            "id", flat=True
        ):
            self.teller.entry_times[entry_id] = self.at
            self.last_entry = max(self.last_entry, entry_id)
        current = Ticket.objects.filter(pk=self.ticket.pk).values(*TIMESTAMP_FIELDS).get()
        for name in TIMESTAMP_FIELDS:
            if current[name] is None:
                self.times[name] = None
            elif current[name] != self.seen[name]:
                self.times[name] = self.at
        self.seen = current
        self.times["last_activity_at"] = self.at
        self.teller.ticket_times[self.ticket.pk] = self.times


class Storyteller:
    """Writes the demo's tickets and plays each one forward as far as its age allows."""

    def __init__(self, rng: random.Random, *, people: People, days: int):
        self.rng, self.people, self.days = rng, people, days
        self.now = timezone.now()
        self.context: dict[str, object] = {}
        self.entry_times: dict[int, datetime] = {}
        self.ticket_times: dict[int, dict[str, datetime | None]] = {}

    def new_context(self) -> None:
        """Pick the host, user, IP... of one ticket, so its subject, body and notes tell one story."""
        rng = self.rng
        country, country2 = rng.sample(COUNTRIES, 2)
        self.context = {
            "host": rng.choice(HOSTS),
            "user": rng.choice(USERS),
            "ip": rng.choice(BAD_IPS),
            "domain": rng.choice(BAD_DOMAINS),
            "country": country,
            "country2": country2,
            "m": rng.randint(7, 95),
            "n": rng.randint(12, 480),
            "cve": rng.choice(CVES),
            "lure": rng.choice(LURES),
            "file": rng.choice(FILES),
            "campaign": rng.choice(CAMPAIGNS),
            "name": rng.choice(["Jonas Berg", "Aisha Khan", "Marco Bianchi", "Eva Novak"]),
        }

    def fill(self, text: str) -> str:
        return text.format(**self.context)

    def ticket(self) -> None:
        rng = self.rng
        sc = rng.choices(SCENARIOS, weights=[s.weight for s in SCENARIOS])[0]
        self.new_context()
        dept = self.people.departments[sc.department]
        source = rng.choice(sc.sources)
        workers = self.people.workers_of(sc.department)
        worker = rng.choice(workers)
        # Skewed towards recent days, as a real queue is.
        age = timedelta(minutes=(rng.random() ** 1.4) * self.days * 24 * 60)
        created = self.now - age
        subject, body = self.fill(sc.subject), self.fill(sc.body)
        contact = (
            rng.choice(self.people.contacts) if source in (Source.EMAIL, Source.WEB, Source.PHONE) else None
        )
        if source == Source.ALERT:
            actor = Actor.system(f"alert:{sc.tool or 'siem'}")
        elif source == Source.API:
            assert self.people.api_actor is not None  # seeded together with the people
            actor = self.people.api_actor
        elif source == Source.PHONE:
            actor = Actor.for_agent(worker)  # the agent who took the call types the ticket in
        else:
            assert contact is not None  # email and web tickets were given a contact above
            actor = Actor(kind="user", label=str(contact), ident=str(contact.pk), obj=contact)
        with recording_at(created):
            ticket = tickets.ticket_create(
                actor=actor,
                subject=subject,
                department=dept,
                body=body,
                requester_email=contact.email if contact else "",
                severity=rng.choice(sc.severities),
                source=source,
                team=self.people.teams.get(sc.team) if sc.team and rng.random() < 0.6 else None,
                tags=sc.tags + ([sc.tool.lower().replace(" ", "-")] if sc.tool else []),
                extra={"demo": True, "tool": sc.tool} if sc.tool else {"demo": True},
            )
        story = _Story(self, ticket, created)
        self.work(story, sc, worker, contact)

    def work(self, story: _Story, sc: Scenario, worker: Agent, contact: Contact | None) -> None:
        """Play the ticket forward as far as its age allows: triage, investigate, answer, resolve, close."""
        rng = self.rng
        me = Actor.for_agent(worker)
        # Decided first, so every note, reply and follow-up fits how the ticket ends.
        verdict = rng.choice(sc.verdicts)
        if rng.random() < 0.08:  # some tickets are still waiting in the queue however old
            return
        if not story.do(rng.uniform(2, 90), tickets.ticket_claim, actor=me):
            return
        notes = list(lines_for(sc.notes, verdict))
        rng.shuffle(notes)
        if notes and not story.do(
            rng.uniform(10, 180), tickets.ticket_note, actor=me, body=self.fill(notes[0])
        ):
            return
        if sc.escalate_to and verdict == Resolution.TRUE_POSITIVE and rng.random() < 0.3:
            lead = self.people.teams[sc.escalate_to].lead or worker
            if story.ticket.severity != Severity.CRITICAL:
                story.do(
                    rng.uniform(5, 60), tickets.ticket_change_severity, actor=me, severity=Severity.CRITICAL
                )
            if story.do(
                rng.uniform(5, 30),
                tickets.ticket_assign,
                actor=me,
                agent=lead,
                team=self.people.teams[sc.escalate_to],
            ):
                me = Actor.for_agent(lead)
        replies = lines_for(sc.replies, verdict)
        if contact is not None and replies:
            reply = self.fill(rng.choice(replies))
            if not story.do(rng.uniform(15, 240), tickets.ticket_reply, actor=me, body=reply):
                return
            if rng.random() < 0.35:
                requester = Actor(kind="user", label=str(contact), ident=str(contact.pk), obj=contact)
                story.do(
                    rng.uniform(30, 600),
                    tickets.ticket_add_message,
                    actor=requester,
                    body=self.fill(rng.choice(lines_for(sc.follow_ups, verdict))),
                )
        if rng.random() < 0.15:
            if not story.do(
                rng.uniform(20, 120),
                tickets.ticket_change_status,
                actor=me,
                status=Status.ON_HOLD,
                comment="Waiting for the requester / a change window.",
            ):
                return
            if not story.do(
                rng.uniform(120, 2880), tickets.ticket_change_status, actor=me, status=Status.IN_PROGRESS
            ):
                return
        for extra in notes[1:]:
            if rng.random() < 0.6 and not story.do(
                rng.uniform(20, 300), tickets.ticket_note, actor=me, body=self.fill(extra)
            ):
                return
        if not story.do(
            rng.uniform(30, 1440),
            tickets.ticket_change_status,
            actor=me,
            status=Status.RESOLVED,
            resolution=verdict,
            comment=resolution_comment(verdict),
        ):
            return
        if rng.random() < 0.6:
            story.do(rng.uniform(1440, 4320), tickets.ticket_change_status, actor=me, status=Status.CLOSED)

    def apply_timeline(self) -> None:
        """Re-date the demo to look like a month of work.

        The services stamp everything with the real clock, so a fresh seed would show 200 tickets
        created within the same minute. This one step moves ticket and thread timestamps to the
        simulated times recorded per service call. It deliberately bypasses the services (it is not a
        change anyone made) and leaves the audit trail alone: audit events keep the true time at
        which the demo was seeded, and their hashes stay valid.
        """
        entries = list(ThreadEntry.objects.filter(pk__in=self.entry_times.keys()).only("id", "created_at"))
        for entry in entries:
            entry.created_at = self.entry_times[entry.pk]
        ThreadEntry.objects.bulk_update(entries, ["created_at"], batch_size=500)
        rows = list(Ticket.objects.filter(pk__in=self.ticket_times.keys()))
        fields = ["created_at", "last_activity_at", *TIMESTAMP_FIELDS]
        for ticket in rows:
            for name, value in self.ticket_times[ticket.pk].items():
                setattr(ticket, name, value)
        Ticket.objects.bulk_update(rows, fields, batch_size=500)
        # Re-dated tickets count on their simulated days in the SOC metrics: fold them again.
        tickets_mark([ticket.pk for ticket in rows])
