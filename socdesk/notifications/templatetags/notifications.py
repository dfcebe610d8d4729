"""`{% notification_bell %}`: the header's bell with the agent's unread count (one query per page);
`|ago`: how long ago, in words ("just now", "5 minutes ago")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from socdesk.notifications.selectors import UNREAD_COUNT_CAP, unread_count

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    agent = getattr(request, "agent", None)
    if agent is None:
        return {"shown": False}
    count = unread_count(agent)
    return {
        "shown": True,
        "count": count,
        "label": f"{UNREAD_COUNT_CAP - 1}+" if count >= UNREAD_COUNT_CAP else str(count),
        "next": request.get_full_path() if request else "",
    }


@register.filter
def ago(moment: datetime) -> str:
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"
