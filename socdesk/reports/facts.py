"""Reading tickets' facts from the database, a batch of tickets at a time (a fixed number of queries per
batch, whatever its size): the fold and the rebuild both call `facts_read`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Min, Q

from socdesk.alerts.models import Alert, TicketObservable
from socdesk.reports.contributions import Fact
from socdesk.reports.figures import bucket_of
from socdesk.reports.models import TicketFact
from socdesk.routing.models import TicketSLA
from socdesk.tickets.choices import Source
from socdesk.tickets.models import Ticket

TICKET_FIELDS = [
    "pk",
    "department_id",
    "team_id",
    "severity",
    "source",
    "assignee_id",
    "created_at",
    "acknowledged_at",
    "resolved_at",
    "resolution",
    "alert_occurrences",
]
DECIDED = {"met": "met", "breached": "breached"}


def zone() -> ZoneInfo:
    """The installation's time zone: metrics' days are its calendar days."""
    return ZoneInfo(settings.TIME_ZONE)


def day_of(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def facts_read(ticket_ids: Sequence[int]) -> dict[int, Fact]:
    """The current fact of each of these tickets that exists (a deleted one is absent)."""
    return _facts(Q(pk__in=ticket_ids), Q(ticket_id__in=ticket_ids))


def facts_between(first_id: int, last_id: int) -> dict[int, Fact]:
    """The facts of every ticket with an id from `first_id` to `last_id` (the rebuild's batches: a range
    reads off the primary keys without sending thousands of ids)."""
    return _facts(Q(pk__gte=first_id, pk__lte=last_id), Q(ticket_id__gte=first_id, ticket_id__lte=last_id))


def _facts(tickets_where: Q, related_where: Q) -> dict[int, Fact]:
    tickets = list(Ticket.objects.filter(tickets_where).order_by().values_list(*TICKET_FIELDS))
    if not tickets:
        return {}
    first_alerts = _first_alerts(related_where) if any(row[4] == Source.ALERT for row in tickets) else {}
    sla = {
        pk: (DECIDED.get(response, ""), DECIDED.get(resolution, ""))
        for pk, response, resolution in TicketSLA.objects.filter(related_where).values_list(
            "ticket_id", "response_state", "resolution_state"
        )
    }
    observables: dict[int, list[int]] = defaultdict(list)
    for ticket_id, observable_id in (
        TicketObservable.objects.filter(related_where).order_by().values_list("ticket_id", "observable_id")
    ):
        observables[ticket_id].append(observable_id)
    tz = zone()
    facts = {}
    for (
        pk,
        dept,
        team,
        severity,
        source,
        assignee,
        created,
        acknowledged,
        resolved,
        resolution,
        alerts,
    ) in tickets:
        origin, rule = first_alerts.get(pk, (source, "")) if source == Source.ALERT else (source, "")
        response, resolution_sla = sla.get(pk, ("", ""))
        handling = (resolved - (acknowledged or resolved)).total_seconds() if resolved else 0
        facts[pk] = Fact(
            ticket_id=pk,
            department_id=dept,
            team_id=team or 0,
            severity=severity,
            origin=origin,
            assignee_id=assignee or 0,
            rule=rule,
            created_day=day_of(created, tz),
            acknowledged_day=day_of(acknowledged, tz) if acknowledged else None,
            tta_bucket=bucket_of((acknowledged - created).total_seconds()) if acknowledged else None,
            resolved_day=day_of(resolved, tz) if resolved else None,
            ttr_bucket=bucket_of((resolved - created).total_seconds()) if resolved else None,
            resolution=resolution if resolved else "",
            sla_response=response,
            sla_resolution=resolution_sla,
            alerts=alerts,
            handling_seconds=max(0, round(handling)),
            observable_ids=tuple(sorted(observables.get(pk, ()))),
        )
    return facts


def _first_alerts(related_where: Q) -> dict[int, tuple[str, str]]:
    """Each alert ticket's first alert's (adapter, rule)."""
    firsts = Alert.objects.filter(related_where).order_by().values("ticket_id").annotate(first=Min("id"))
    first_ids = [row["first"] for row in firsts]
    return {
        ticket_id: (source, rule)
        for ticket_id, source, rule in Alert.objects.filter(pk__in=first_ids).values_list(
            "ticket_id", "source", "rule"
        )
    }


FACT_FIELDS = [
    "department_id",
    "team_id",
    "severity",
    "origin",
    "assignee_id",
    "rule",
    "created_day",
    "acknowledged_day",
    "tta_bucket",
    "resolved_day",
    "ttr_bucket",
    "resolution",
    "sla_response",
    "sla_resolution",
    "alerts",
    "handling_seconds",
]


def fact_of(row: TicketFact) -> Fact | None:
    """The fact a stored row holds (None for a placeholder)."""
    if row.created_day is None:
        return None
    values = {name: getattr(row, name) for name in FACT_FIELDS}
    return Fact(ticket_id=row.ticket_id, observable_ids=tuple(row.observable_ids), **values)
