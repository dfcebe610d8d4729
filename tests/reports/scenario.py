"""Varied tickets built through the real services (console, REST API, e-mail, alert ingest of several
tools with repeats), changed the ways a SOC changes them, and an independent brute-force computation of
every figure straight from the tickets, for the roll-up agreement tests."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.test import Client
from django.utils import timezone

from socdesk.accounts.services import apikey_create
from socdesk.accounts.testing import Personas
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert, Integration, TicketObservable, WebhookDelivery
from socdesk.core.actor import Actor
from socdesk.mail.inbound import mail_receive
from socdesk.reports.figures import BUCKET_RATIO, Durations, Period, Scope, bucket_of, quantile
from socdesk.reports.journal import tickets_mark
from socdesk.routing.models import TicketSLA
from socdesk.routing.services.sla_scan import sla_scan
from socdesk.tickets.choices import OPEN_STATUSES, Resolution, Status
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import (
    ticket_assign,
    ticket_change_severity,
    ticket_change_status,
    ticket_create,
    ticket_delete,
    ticket_transfer,
)
from tests.alerts.conftest import sample
from tests.routing.sla_fixtures import make_plans

SETUP = Actor.system("test-setup")
PIPE = Actor.system("mail:pipe")


@dataclass
class Built:
    """What the scenario made: the people, the alerts it ingested, the moment it calls now."""

    people: Personas
    alerts_ingested: int
    now: datetime


def _deliver(adapter: str, body: bytes, integration: Integration) -> int:
    delivery = delivery_receive(adapter=adapter, body=body, integration=integration, client_ip="192.0.2.10")
    delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery.alert_count


def _email(subject: str, n: int) -> bytes:
    return (
        f"From: Reporter {n} <reporter{n}@example.test>\r\nTo: soc@example.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <report-{n}@example.test>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\n"
        f"Please look at 198.51.100.{n} and evil{n}.example.net\r\n"
    ).encode()


def build_tickets(people: Personas) -> int:
    """Open tickets from every channel; returns the number of alerts ingested."""
    make_plans(people)
    alice, admin = Actor.for_agent(people.alice), Actor.for_agent(people.admin)
    for i, severity in enumerate(["critical", "high", "medium", "low", "info", "high", "medium", "critical"]):
        ticket_create(
            actor=alice if i % 2 and i < 6 else admin,
            subject=f"Console case {i}",
            department=people.soc if i < 6 else people.it,
            body=f"Seen on host ws-{i:03}.corp.example and 203.0.113.{i + 10}",
            severity=severity,
            team=people.tier1 if i % 3 == 0 and i < 6 else None,
            assignee=people.bob if i in (1, 4) else None,
        )
    key = apikey_create(actor=SETUP, name="soar", scopes=["tickets:create", "tickets:read"])[1]
    client = Client()
    for i in range(2):
        response = client.post(
            "/api/v1/tickets",
            {
                "subject": f"SOAR case {i}",
                "body": "Phishing from 192.0.2.77",
                "severity": "high",
                "department": "SOC",
            },
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        assert response.status_code == 201, response.content
    for n in range(1, 3):
        assert mail_receive(
            _email(f"Suspicious mail {n}", n), actor=PIPE, channel="pipe", department=people.soc
        )
    integrations = {
        adapter: Integration.objects.create(adapter=adapter, name=f"{adapter}-tool", department=people.soc)
        for adapter in ("alertmanager", "wazuh", "suricata", "elastic")
    }
    alerts = _deliver("alertmanager", sample("alertmanager_v4.json"), integrations["alertmanager"])
    alerts += _deliver("alertmanager", sample("alertmanager_v4.json"), integrations["alertmanager"])  # repeat
    alerts += _deliver("wazuh", sample("wazuh_alert.json"), integrations["wazuh"])
    alerts += _deliver("suricata", sample("suricata_eve.ndjson"), integrations["suricata"])
    alerts += _deliver("elastic", sample("kibana_alert_doc.json"), integrations["elastic"])
    return alerts


def change_tickets(people: Personas) -> None:
    """Acknowledge, resolve with every verdict, reopen and re-resolve, transfer, change severity, reassign."""
    admin = Actor.for_agent(people.admin)
    tickets = list(Ticket.objects.order_by("pk"))
    verdicts = list(Resolution.values)
    for i, ticket in enumerate(tickets[:12]):
        ticket = ticket_change_status(actor=admin, ticket=ticket, status=Status.IN_PROGRESS)
        if i % 4 != 3:
            ticket_change_status(
                actor=admin, ticket=ticket, status=Status.RESOLVED, resolution=verdicts[i % len(verdicts)]
            )
    reopened = Ticket.objects.get(pk=tickets[0].pk)
    reopened = ticket_change_status(actor=admin, ticket=reopened, status=Status.IN_PROGRESS)
    ticket_change_status(actor=admin, ticket=reopened, status=Status.RESOLVED, resolution="false_positive")
    ticket_transfer(
        actor=admin, ticket=Ticket.objects.get(pk=tickets[2].pk), department=people.it, reason="Not security"
    )
    ticket_change_severity(actor=admin, ticket=Ticket.objects.get(pk=tickets[3].pk), severity="critical")
    ticket_assign(
        actor=admin, ticket=Ticket.objects.get(pk=tickets[5].pk), agent=people.alice, team=people.tier1
    )
    ticket_assign(actor=admin, ticket=Ticket.objects.get(pk=tickets[13].pk), agent=people.alice)


def change_without_ticket_changes(people: Personas) -> int:
    """What changes figures without a ticket change (after the re-dating, which marked every ticket):
    an alert repeat on an open ticket, a ticket deleted; returns the alerts ingested."""
    doomed = Ticket.objects.filter(source="web").order_by("pk")[4]
    ticket_delete(actor=Actor.for_agent(people.admin), ticket=doomed)
    # The wazuh alert fires again: a repeat on its open ticket.
    return _deliver("wazuh", sample("wazuh_alert.json"), Integration.objects.get(adapter="wazuh"))


def spread_over_days(now: datetime) -> None:
    """Re-date the tickets over three weeks, as `socdesk demo` re-dates its month (the services stamp
    the real clock), and mark them for the fold as the demo does."""
    rows = list(Ticket.objects.order_by("pk"))
    for i, ticket in enumerate(rows):
        created = now - timedelta(
            days=(i * 5) % 21, hours=(i * 7) % 24, minutes=i * 13 % 60, seconds=i * 0.37
        )
        fields = {"created_at": created}
        if ticket.acknowledged_at:
            fields["acknowledged_at"] = created + timedelta(seconds=37 * (i + 1) ** 2 + 0.5)
        if ticket.resolved_at:
            fields["resolved_at"] = created + timedelta(hours=(i % 5) * 9 + 1, seconds=i * 101.3)
        Ticket.objects.filter(pk=ticket.pk).update(**fields)
    tickets_mark([row.pk for row in rows])


def decide_sla(now: datetime) -> None:
    """Run the SLA scan far enough ahead that every running target is breached (the met ones stay met)."""
    TicketSLA.objects.update(next_check_at=now)
    sla_scan(now=now + timedelta(days=30))


# --- the brute force ------------------------------------------------------------------------------


def exact_durations(seconds: list[float]) -> Durations:
    histogram: dict[int, int] = defaultdict(int)
    for value in seconds:
        histogram[bucket_of(value)] += 1
    return Durations(count=len(seconds), median=quantile(histogram, 0.5), p90=quantile(histogram, 0.9))


def within_a_bucket(reported: float | None, seconds: list[float], q: float) -> bool:
    """The reported quantile is at least the exact nearest-rank percentile and within BUCKET_RATIO of it."""
    if not seconds:
        return reported is None
    exact = sorted(seconds)[max(1, math.ceil(q * len(seconds))) - 1]
    assert reported is not None
    return exact <= reported <= max(exact, 1.0) * BUCKET_RATIO


def brute_period(period: Period, scope: Scope) -> dict[str, Any]:
    """Every PeriodFigures field, computed ticket by ticket with plain ORM reads."""
    tz = ZoneInfo(settings.TIME_ZONE)

    def day(moment: datetime) -> date:
        return timezone.localtime(moment, tz).date()

    def inside(d: date) -> bool:
        return period.start <= d <= period.end

    tickets = Ticket.objects.filter(department_id__in=scope.department_ids)
    if scope.team_id is not None:
        tickets = tickets.filter(team_id=scope.team_id)
    out: dict[str, Any] = defaultdict(lambda: defaultdict(int))
    raw: dict[str, dict[Any, list[float]]] = defaultdict(lambda: defaultdict(list))
    rules: dict[tuple[str, str], dict[str, Any]] = {}
    observables: dict[int, int] = defaultdict(int)
    for t in tickets:
        first = Alert.objects.filter(ticket=t).order_by("id").first() if t.source == "alert" else None
        origin = first.source if first else t.source
        rule = first.rule if first else ""
        created = day(t.created_at)
        sla = TicketSLA.objects.filter(ticket=t).first()
        if inside(created):
            out["opened"][(created, origin, t.severity)] += 1
            for name, target in (("sla_response", "response_state"), ("sla_resolution", "resolution_state")):
                state = getattr(sla, target) if sla else "none"
                if state in ("met", "breached"):
                    met, decided = out[name].get(t.severity, (0, 0))
                    out[name][t.severity] = (met + (state == "met"), decided + 1)
            if rule:
                line = rules.setdefault(
                    (rule, origin), {"alerts": 0, "tickets": 0, "resolved": 0, "h": 0, "v": {}}
                )
                line["tickets"] += 1
                line["alerts"] += t.alert_occurrences
            for observable_id in TicketObservable.objects.filter(ticket=t).values_list(
                "observable_id", flat=True
            ):
                observables[observable_id] += 1
        if t.acknowledged_at and inside(day(t.acknowledged_at)):
            tta = (t.acknowledged_at - t.created_at).total_seconds()
            raw["tta_by_severity"][t.severity].append(tta)
            raw["tta_by_department"][t.department_id].append(tta)
            raw["tta_by_team"][t.team_id].append(tta)
            a = day(t.acknowledged_at)
            raw["tta_by_week"][a - timedelta(days=a.weekday())].append(tta)
        if t.resolved_at and inside(day(t.resolved_at)):
            r = day(t.resolved_at)
            ttr = (t.resolved_at - t.created_at).total_seconds()
            out["resolved"][(r, origin, t.severity)] += 1
            if t.resolution:
                out["verdicts_by_origin"][(origin, t.resolution)] += 1
            raw["ttr_by_severity"][t.severity].append(ttr)
            raw["ttr_by_department"][t.department_id].append(ttr)
            raw["ttr_by_team"][t.team_id].append(ttr)
            raw["ttr_by_week"][r - timedelta(days=r.weekday())].append(ttr)
            if t.assignee_id:
                raw["agents"][t.assignee_id].append(ttr)
            if rule:
                line = rules.setdefault(
                    (rule, origin), {"alerts": 0, "tickets": 0, "resolved": 0, "h": 0, "v": {}}
                )
                line["resolved"] += 1
                line["h"] += max(
                    0, round((t.resolved_at - (t.acknowledged_at or t.resolved_at)).total_seconds())
                )
                line["v"][t.resolution] = line["v"].get(t.resolution, 0) + 1
    expected: dict[str, Any] = {name: dict(values) for name, values in out.items()}
    for name in ("opened", "resolved", "verdicts_by_origin", "sla_response", "sla_resolution"):
        expected.setdefault(name, {})
    for name, groups in raw.items():
        expected[name] = {key: exact_durations(values) for key, values in groups.items()}
    expected["raw"] = raw
    expected["rules"] = sorted(
        (
            (rule, origin, line["alerts"], line["tickets"], line["resolved"],
             line["v"].get("false_positive", 0), float(line["h"]), line["v"])
            for (rule, origin), line in rules.items()
        ),
        key=lambda row: (-row[2], -row[3], row[0], row[1]),
    )  # fmt: skip
    expected["observables"] = sorted(observables.items(), key=lambda item: (-item[1], item[0]))[:20]
    return expected


def brute_now(scope: Scope, now: datetime) -> dict[str, Any]:
    """Every NowFigures field from the open tickets, their clocks and the deliveries."""
    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES, department_id__in=scope.department_ids)
    if scope.team_id is not None:
        open_tickets = open_tickets.filter(team_id=scope.team_id)
    by_status: dict[tuple[str, str], int] = defaultdict(int)
    oldest: dict[str, float] = {}
    per_agent: dict[int, int] = defaultdict(int)
    unassigned = at_risk = breached = 0
    for t in open_tickets:
        by_status[(t.severity, t.status)] += 1
        oldest[t.severity] = max(oldest.get(t.severity, 0.0), (now - t.created_at).total_seconds())
        if t.assignee_id:
            per_agent[t.assignee_id] += 1
        else:
            unassigned += 1
        clock = TicketSLA.objects.filter(ticket=t).first()
        at_risk += bool(clock and clock.state == "at_risk")
        breached += bool(clock and clock.state == "breached")
    pending = WebhookDelivery.objects.filter(status="pending")
    return {
        "open_by_severity_status": dict(by_status),
        "unassigned": unassigned,
        "sla_at_risk": at_risk,
        "sla_breached": breached,
        "oldest_open": oldest,
        "open_per_agent": dict(per_agent),
        "ingest_backlog": pending.count(),
    }
