"""`{% failed_deliveries_link %}`: the navigation's link to failed deliveries, for those who may see them.

Shown only when there is something to look at (a count > 0), so the bar stays quiet on a healthy
install; one read of the partial index of failed rows per page.
"""

from __future__ import annotations

from typing import Any

from django import template

from socdesk.alerts.failed import (
    COUNT_CAP,
    failed_count,
    failed_deliveries_visible_to,
    may_see_failed_deliveries,
)

register = template.Library()


@register.inclusion_tag("alerts/_failed_deliveries_link.html", takes_context=True)
def failed_deliveries_link(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    agent = getattr(request, "agent", None)
    if agent is None or not may_see_failed_deliveries(agent):
        return {"count": 0}
    count = failed_count(failed_deliveries_visible_to(agent))
    return {"count": count, "label": f"{COUNT_CAP - 1}+" if count >= COUNT_CAP else str(count)}
