"""Reads of alerts and observables, scoped to what the asking agent may see."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, QuerySet

from socdesk.accounts.models import Agent
from socdesk.alerts.models import Alert, AlertRaw, TicketObservable
from socdesk.alerts.observables import ip_scope
from socdesk.core.errors import NotFound
from socdesk.tickets.models import Ticket
from socdesk.tickets.selectors import tickets_visible_to


@dataclass
class ObservableRow:
    """One line of a ticket's observables panel."""

    link: TicketObservable
    other_tickets: int
    scope: str  # '' or private / loopback / documentation / ... for IPs
    search_url: str


def alerts_visible_to(agent: Agent) -> QuerySet[Alert]:
    """Alerts on tickets the agent may see (the raw payload is in another table and never loaded here)."""
    return Alert.objects.filter(ticket__in=tickets_visible_to(agent))


def ticket_observable_rows(ticket: Ticket, agent: Agent | None = None) -> list[ObservableRow]:
    """The ticket's observables with how many other tickets (that the agent may see) share each one."""
    links = list(TicketObservable.objects.filter(ticket=ticket).select_related("observable"))
    ids = [link.observable_id for link in links]
    others = TicketObservable.objects.filter(observable_id__in=ids).exclude(ticket=ticket)
    if agent is not None:
        others = others.filter(ticket__in=tickets_visible_to(agent))
    counts = dict(
        others.values("observable_id").annotate(n=Count("ticket_id")).values_list("observable_id", "n")
    )
    return [
        ObservableRow(
            link=link,
            other_tickets=counts.get(link.observable_id, 0),
            scope=ip_scope(link.observable.value) if link.observable.type == "ip" else "",
            search_url="/tickets/?" + urlencode({"q": link.observable.value}),
        )
        for link in links
    ]


def alert_get_for_agent(agent: Agent, alert_id: int) -> Alert:
    """One alert whose ticket the agent may see; NotFound otherwise (the raw payload is not loaded)."""
    alert = alerts_visible_to(agent).select_related("ticket", "integration").filter(pk=alert_id).first()
    if alert is None:
        raise NotFound("That alert was not found.")
    return alert


def alert_raw_payload(agent: Agent, alert_id: int):
    """The payload exactly as the tool sent it, read only when someone asks for it."""
    alert = alert_get_for_agent(agent, alert_id)
    return AlertRaw.objects.filter(alert=alert).values_list("payload", flat=True).first()


def ticket_alerts(ticket: Ticket) -> QuerySet[Alert]:
    """The alerts on a ticket, newest activity first (for the ticket page and the API's alert_count)."""
    return Alert.objects.filter(ticket=ticket).order_by("-last_seen", "-id")
