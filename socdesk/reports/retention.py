"""Old per-minute alert counts go: the dashboard reads only the last hour of them."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from socdesk.alerts.models import AlertsPerMinute

KEEP = timedelta(days=1)


def alert_minutes_prune() -> int:
    """Delete per-minute alert counts older than KEEP; returns how many."""
    deleted, _ = AlertsPerMinute.objects.filter(minute__lt=timezone.now() - KEEP).delete()
    return deleted
