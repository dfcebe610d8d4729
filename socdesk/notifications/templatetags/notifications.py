"""`{% notification_bell %}`: the header's bell with the agent's unread count (one query per page)."""

from __future__ import annotations

from typing import Any

from django import template

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
