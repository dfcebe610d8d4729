"""The alerts app's part of a ticket merge: alerts, their de-duplication keys and the observables.

Registered with socdesk.tickets.merge_hooks when the app loads. The source's alerts move to the
survivor, and so do the de-duplication keys that pointed to the source, so a repeat of one of its alerts
lands on the survivor; its observables join the survivor (those it has already stay on the source).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socdesk.alerts.ingest.write import alert_occurrences_refresh
from socdesk.alerts.models import Alert, DedupKey, TicketObservable
from socdesk.tickets.merge_hooks import MergeMover
from socdesk.tickets.merge_movers import plural
from socdesk.tickets.models import Ticket


def _observables_moving(source: Ticket, target: Ticket):
    on_target = TicketObservable.objects.filter(ticket=target).values("observable_id")
    return TicketObservable.objects.filter(ticket=source).exclude(observable_id__in=on_target)


def describe(source: Ticket, target: Ticket) -> str | None:
    """'2 alerts, 3 observables' (None when the source has neither)."""
    alerts = Alert.objects.filter(ticket=source).count()
    observables = _observables_moving(source, target).count()
    parts = [plural(alerts, "alert")] if alerts else []
    if observables:
        parts.append(plural(observables, "observable"))
    return ", ".join(parts) or None


def move(source: Ticket, target: Ticket, now: datetime) -> dict[str, Any]:
    """Move the alerts, the keys and the observables; recount both tickets' alert occurrences."""
    alerts = list(Alert.objects.filter(ticket=source).order_by("pk").values_list("pk", flat=True))
    keys = list(DedupKey.objects.filter(ticket=source).order_by("pk").values_list("pk", flat=True))
    observables = list(_observables_moving(source, target).order_by("pk").values_list("pk", flat=True))
    Alert.objects.filter(pk__in=alerts).update(ticket=target)
    DedupKey.objects.filter(pk__in=keys).update(ticket=target)
    TicketObservable.objects.filter(pk__in=observables).update(ticket=target)
    if alerts:
        alert_occurrences_refresh({source.pk, target.pk})
    moved = {"alerts": alerts, "dedup_keys": keys, "observables": observables}
    return moved if any(moved.values()) else {}


def undo(source: Ticket, target: Ticket, moved: dict[str, Any]) -> None:
    """Put back what `move` moved and is still on the survivor; recount both tickets' occurrences."""
    Alert.objects.filter(pk__in=moved.get("alerts", []), ticket=target).update(ticket=source)
    DedupKey.objects.filter(pk__in=moved.get("dedup_keys", []), ticket=target).update(ticket=source)
    TicketObservable.objects.filter(pk__in=moved.get("observables", []), ticket=target).update(ticket=source)
    alert_occurrences_refresh({source.pk, target.pk})


MOVER = MergeMover("alerts", describe, move, undo)
