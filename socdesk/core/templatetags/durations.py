"""`{{ ticket.time_to_acknowledge|duration }}`: a timedelta as "3 h 4 min" (see core.durations)."""

from __future__ import annotations

from datetime import timedelta

from django import template

from socdesk.core.durations import duration_label

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    return duration_label(value)
