"""Reads of the audit trail."""

from __future__ import annotations

from django.db.models import QuerySet

from socdesk.audit.models import AuditEvent


def events_for_target(target_type: str, target_id: str | int) -> QuerySet[AuditEvent]:
    """Events about one object, oldest first (a ticket's own history)."""
    return AuditEvent.objects.filter(target_type=target_type, target_id=str(target_id)).order_by("id")


def events_filtered(
    *, actor: str = "", action: str = "", target: str = "", since=None, until=None
) -> QuerySet[AuditEvent]:
    """The admin audit browser's query: newest first, filtered by actor, action prefix, target and dates."""
    events = AuditEvent.objects.all().order_by("-id")
    if actor:
        events = events.filter(actor_label__iexact=actor)
    if action:
        events = events.filter(action__startswith=action)
    if target:
        events = events.filter(target_label__icontains=target)
    if since:
        events = events.filter(occurred_at__gte=since)
    if until:
        events = events.filter(occurred_at__lt=until)
    return events
