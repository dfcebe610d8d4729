"""Reads of alerts and observables, scoped to what the asking agent may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from socdesk.accounts.models import Agent
from socdesk.accounts.selectors import departments_exist
from socdesk.alerts.choices import AlertStatus, DeliveryStatus, ObservableType
from socdesk.alerts.models import (
    Alert,
    AlertObservable,
    AlertRaw,
    Integration,
    Observable,
    TicketObservable,
    WebhookDelivery,
)
from socdesk.alerts.observables import ip_scope, normalise, value_hash
from socdesk.core.errors import NotFound
from socdesk.core.recent import RecentLookups
from socdesk.tickets.filters import MAX_ID
from socdesk.tickets.models import Ticket
from socdesk.tickets.selectors import tickets_visible_to


@dataclass
class ObservableRow:
    """One line of a ticket's observables panel."""

    link: TicketObservable
    other_tickets: int
    scope: str  # '' or private / loopback / documentation / ... for IPs
    search_url: str


TICKETS_PER_OBSERVABLE = 20


@dataclass
class ObservableHit:
    """An observable search result: the observable and the visible tickets it appears in."""

    observable: Observable
    tickets: list[str]  # the newest TICKETS_PER_OBSERVABLE ticket numbers
    ticket_count: int
    # Over those visible tickets only: what another department's cases say stays with them.
    ioc: bool = False
    sighted: bool = False
    first_seen: datetime | None = None
    last_seen: datetime | None = None


def integration_for_key_request(adapter: str, name: str = "") -> Integration | None:
    """The integration a key-authenticated delivery belongs to: the enabled one called `name`
    (NotFound if none), or without a name the adapter's oldest enabled one (None if there is none).

    Remembered for a few seconds per process (socdesk.core.recent): every delivery asks this."""
    found = _recent_integrations.get((adapter, name), lambda: _integration_for(adapter, name))
    if found is None and name:
        raise NotFound(f"There is no enabled {adapter} integration called {name!r}.")
    return found


def integration_for_token(adapter: str, token: str) -> Integration | None:
    """The enabled integration whose webhook URL carries `token` (None if none); remembered likewise."""
    return _recent_integrations.get(
        ("token", adapter, token),
        lambda: Integration.objects.filter(token=token, adapter=adapter, enabled=True).first(),
        keep=lambda found: found is not None,  # guessed tokens must not crowd the real ones out
    )


_recent_integrations: RecentLookups[Integration | None] = RecentLookups()

NO_DEPARTMENT = (
    "SOCdesk has no department to put alert tickets in yet, so this alert was not accepted (nothing "
    "was stored). An administrator must create one first (`socdesk department create --name SOC`, or "
    "Admin > Departments > Add); then send the alert again."
)
NO_DEPARTMENT_RETRY_SECONDS = 60


def alert_department_ready(integration: Integration | None) -> bool:
    """Whether a delivery through `integration` would have a department to open its ticket in.

    Checked before a webhook acknowledges anything: a 2xx promises a ticket, and with no department
    at all the ingest engine could only fail the delivery later (docs/security.md, Intake).
    """
    if integration is not None and integration.department_id is not None:
        return True
    return departments_exist()


@receiver([post_save, post_delete], sender=Integration, dispatch_uid="socdesk-forget-integrations")
def _forget_integrations(**_kwargs) -> None:
    _recent_integrations.forget_after_change()


def _integration_for(adapter: str, name: str) -> Integration | None:
    queryset = Integration.objects.filter(adapter=adapter, enabled=True)
    if name:
        return queryset.filter(name=name).first()
    return queryset.order_by("id").first()


BACKLOG_COUNT_CAP = 10_000


def ingest_backlog() -> dict:
    """Webhook deliveries waiting for the ingest loop: how many (counted up to BACKLOG_COUNT_CAP) and
    how long the oldest has waited, for monitoring (both read the partial index of pending rows); and
    how many failed (acknowledged, then no ticket: a person must look, see /deliveries/failed)."""
    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
    waiting = pending.order_by()[:BACKLOG_COUNT_CAP].count()
    oldest = pending.order_by("received_at").values_list("received_at", flat=True).first()
    age = (timezone.now() - oldest).total_seconds() if oldest else None
    failed = (
        WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED).order_by()[:BACKLOG_COUNT_CAP].count()
    )
    return {
        "waiting": waiting,
        "oldest_waiting_seconds": round(age, 1) if age is not None else None,
        "failed": failed,
    }


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
            # Every visible ticket with this observable, whatever its status (the count covers all).
            search_url=reverse("tickets:queue")
            + "?"
            + urlencode({"queue": "all", "observable": link.observable_id}),
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


# Shown on the ticket page; a grouped ticket with more lists the newest and says how many are left out.
TICKET_ALERTS_SHOWN = 100


@dataclass(frozen=True)
class TicketAlertSummary:
    """What the ticket header says about a ticket's alerts: how many, how often, when, still firing?"""

    alerts: int
    occurrences: int
    firing: int
    first_seen: datetime
    last_seen: datetime


def ticket_alert_summary(ticket: Ticket) -> TicketAlertSummary | None:
    """One aggregate over the ticket's alerts (None for a ticket without alerts)."""
    found = Alert.objects.filter(ticket=ticket).aggregate(
        alerts=Count("id"),
        occurrences=Sum("occurrence_count"),
        firing=Count("id", filter=Q(status=AlertStatus.FIRING)),
        first_seen=Min("first_seen"),
        last_seen=Max("last_seen"),
    )
    if not found["alerts"]:
        return None
    return TicketAlertSummary(**found)


def ticket_alert_rows(ticket: Ticket) -> tuple[list[Alert], int]:
    """The newest TICKET_ALERTS_SHOWN alerts of a ticket with their integration, and how many in all."""
    alerts = list(ticket_alerts(ticket).select_related("integration")[: TICKET_ALERTS_SHOWN + 1])
    if len(alerts) <= TICKET_ALERTS_SHOWN:
        return alerts, len(alerts)
    return alerts[:TICKET_ALERTS_SHOWN], ticket_alerts(ticket).count()


# Retention deletes raw payloads and keeps the alerts: the page says so instead of failing.
MISSING_PAYLOAD = object()


def ticket_alert_raw(ticket: Ticket, alert_id: int) -> tuple[Alert, Any]:
    """One alert of this ticket (already read through the agent's selector) and its stored payload,
    or MISSING_PAYLOAD when retention removed it."""
    alert = ticket_alerts(ticket).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound("That alert is not on this ticket.")
    stored = list(AlertRaw.objects.filter(alert=alert).values_list("payload", flat=True)[:1])
    return alert, (stored[0] if stored else MISSING_PAYLOAD)


# --- for the REST API (the caller's visible tickets are given as a queryset) ---------------------------


def alerts_on_tickets(tickets: QuerySet[Ticket]) -> QuerySet[Alert]:
    """Alerts whose ticket is in `tickets` (an agent's or a key's visible tickets); raw payload not loaded."""
    return Alert.objects.filter(ticket__in=tickets)


def alert_get_from(tickets: QuerySet[Ticket], alert_id: int) -> Alert:
    """One alert on one of `tickets`; NotFound otherwise, never 403."""
    alert = (
        alerts_on_tickets(tickets)
        .select_related("ticket", "previous_ticket", "integration")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        raise NotFound("That alert was not found.")
    return alert


def alert_raw_payload_from(tickets: QuerySet[Ticket], alert_id: int):
    """The verbatim payload of one alert on one of `tickets`, read only on request."""
    alert = alert_get_from(tickets, alert_id)
    return AlertRaw.objects.filter(alert=alert).values_list("payload", flat=True).first()


def alert_counts(ticket_ids: list[int]) -> dict[int, int]:
    """{ticket id: number of alerts} in one query (for ticket lists)."""
    if not ticket_ids:
        return {}
    rows = Alert.objects.filter(ticket_id__in=ticket_ids).values("ticket_id").annotate(n=Count("id"))
    return {row["ticket_id"]: row["n"] for row in rows}


def observables_for_ticket_api(ticket: Ticket) -> list[dict]:
    """The ticket's observables with this case's flags, in one query."""
    links = TicketObservable.objects.filter(ticket=ticket).select_related("observable")
    return [
        {
            "id": link.observable_id,
            "type": link.observable.type,
            "value": link.observable.value,
            "ioc": link.ioc,
            "sighted": link.sighted,
            "origin": link.origin,
            "added_at": link.added_at,
        }
        for link in links
    ]


def observables_search(
    tickets: QuerySet[Ticket], *, type: str = "", value: str = "", q: str = "", limit: int = 50
) -> list[ObservableHit]:
    """Observables on `tickets` matching type / exact (normalised) value / a substring, each with the
    newest of those tickets it appears in, how many, and its flags and first/last sighting over those
    tickets only (four queries whatever the number of results).

    The Observable row's own ioc/sighted/first_seen/last_seen summarise every department's tickets, so
    they are never shown here: an agent of another department would learn when and how an IOC was seen
    in cases they cannot see. Newest first by when it was last added to one of `tickets`.
    """
    links = TicketObservable.objects.filter(ticket__in=tickets)
    found = Observable.objects.filter(pk__in=links.values("observable_id")).annotate(
        visible_last=Max("ticket_links__added_at", filter=Q(ticket_links__ticket__in=tickets))
    )
    if type:
        found = found.filter(type=type)
    if value:
        kinds = [type] if type else [k for k in ObservableType.values]
        hashes = {value_hash(*pair) for kind in kinds if (pair := normalise(kind, value))}
        found = found.filter(value_hash__in=hashes)
    if q:
        found = found.filter(value__icontains=q)
    rows = list(found.order_by(F("visible_last").desc(nulls_last=True), "-id")[:limit])
    ids = [o.pk for o in rows]
    # The newest few tickets per observable (a hot IP can be on thousands), plus the full count.
    ranked = (
        links.filter(observable_id__in=ids)
        .annotate(rank=Window(RowNumber(), partition_by=[F("observable_id")], order_by=F("ticket_id").desc()))
        .filter(rank__lte=TICKETS_PER_OBSERVABLE)
        .order_by("observable_id", "-ticket_id")
        .values_list("observable_id", "ticket__number")
    )
    numbers: dict[int, list[str]] = {pk: [] for pk in ids}
    for observable_id, number in ranked:
        numbers[observable_id].append(number)
    stats = {
        row["observable_id"]: row
        for row in links.filter(observable_id__in=ids)
        .values("observable_id")
        .annotate(
            n=Count("ticket_id"),
            iocs=Count("pk", filter=Q(ioc=True)),
            sightings=Count("pk", filter=Q(sighted=True)),
            first=Min("added_at"),
            last=Max("added_at"),
        )
    }
    # Alerts on those tickets saw it too, possibly later than it was added (a repeat keeps its link).
    for row in (
        AlertObservable.objects.filter(observable_id__in=ids, alert__ticket__in=tickets)
        .values("observable_id")
        .annotate(first=Min("alert__first_seen"), last=Max("alert__last_seen"))
    ):
        seen = stats.get(row["observable_id"])
        if seen is not None:
            seen["first"] = min(d for d in (seen["first"], row["first"]) if d is not None)
            seen["last"] = max(d for d in (seen["last"], row["last"]) if d is not None)
    empty: dict = {}
    return [
        ObservableHit(
            o,
            numbers[o.pk],
            stats.get(o.pk, empty).get("n", 0),
            ioc=bool(stats.get(o.pk, empty).get("iocs")),
            sighted=bool(stats.get(o.pk, empty).get("sightings")),
            first_seen=stats.get(o.pk, empty).get("first"),
            last_seen=stats.get(o.pk, empty).get("last"),
        )
        for o in rows
    ]


def ticket_match_for_observable(text: str) -> tuple[dict, str]:
    """The ticket filter's observable criterion: `<id>` or `<type>:<value>` (refanged and normalised as
    on ingest) -> (lookup on Ticket, a type:value label); ValueError with a message a person can act on.

    Registered with socdesk.tickets.filters by AlertsConfig.ready.
    """
    if text.isascii() and text.isdigit():
        if int(text) > MAX_ID:
            raise ValueError(f"observable {text} is not a valid id.")
        found = Observable.objects.filter(pk=int(text)).values_list("type", "value").first()
        # One row per ticket: the (ticket, observable) pair is unique, so the join never duplicates.
        return {"ticket_observables__observable__pk": int(text)}, (
            f"{found[0]}:{found[1]}" if found else f"#{text}"
        )
    kind, sep, value = text.partition(":")
    kind = kind.strip().lower()
    normalised = normalise(kind, value) if sep and kind in ObservableType.values else None
    if normalised is None:
        raise ValueError(
            f"observable must be an observable id or <type>:<value> such as ip:203.0.113.7 "
            f"(types: {', '.join(ObservableType.values)}), not {text!r}."
        )
    return {"ticket_observables__observable__value_hash": value_hash(*normalised)}, ":".join(normalised)


def _first_alert_of_ticket() -> QuerySet[Alert]:
    """Alerts that are the first (lowest id) of their ticket, correlated with the ticket being filtered:
    "its first alert" in the figures' definitions (socdesk/reports/figures.py)."""
    earlier = Alert.objects.filter(ticket_id=OuterRef("ticket_id"), pk__lt=OuterRef("pk"))
    return Alert.objects.filter(ticket_id=OuterRef("pk")).exclude(Exists(earlier))


def tickets_first_alert_from(tools: list[str]) -> Q:
    """The ticket filter's `?origin=<tool>`: tickets whose first alert came from one of these adapters;
    `alert` stands for alert tickets that hold no alert at all (their origin stays `alert`).

    Registered with socdesk.tickets.filters by AlertsConfig.ready.
    """
    cond = Q(Exists(_first_alert_of_ticket().filter(source__in=[t for t in tools if t != "alert"])))
    if "alert" in tools:
        cond |= ~Q(Exists(Alert.objects.filter(ticket_id=OuterRef("pk"))))
    return cond


def tickets_first_alert_rule(rules: list[str]) -> Q:
    """The ticket filter's `?rule=`: tickets whose first alert carries one of these rule names."""
    return Q(Exists(_first_alert_of_ticket().filter(rule__in=rules)))
