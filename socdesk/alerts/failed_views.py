"""The console's failed-deliveries page: what was acknowledged and could not become a ticket, and Retry.

Admins see every failed delivery, department leads those of their departments' integrations; for
anyone else the page does not exist (404, as for a missing page). Retry goes through the audited
`deliveries_requeue` service; the ingest loop then runs the deliveries again.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from socdesk.accounts.web import agent_view
from socdesk.alerts.failed import (
    COUNT_CAP,
    failed_count,
    failed_deliveries_visible_to,
    may_see_failed_deliveries,
    payload_preview,
)
from socdesk.alerts.ingest import deliveries_requeue

PAGE_SIZE = 50


def _visible(request: HttpRequest):
    agent = request.agent  # type: ignore[attr-defined]  # set by agent_view
    if not may_see_failed_deliveries(agent):
        raise Http404("Page not found.")
    return failed_deliveries_visible_to(agent)


@agent_view
@require_GET
def failed_deliveries(request: HttpRequest) -> HttpResponse:
    """GET /deliveries/failed: newest first, pages going back by delivery id (no counting past the cap)."""
    visible = _visible(request)
    page = visible
    before = request.GET.get("before", "")
    if before.isdigit():
        page = page.filter(id__lt=int(before))
    rows = list(page[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    total = failed_count(visible)
    context = {
        "rows": [(delivery, payload_preview(delivery)) for delivery in rows],
        "total": total,
        "total_label": f"{COUNT_CAP - 1}+" if total >= COUNT_CAP else str(total),
        "next_before": rows[-1].pk if more else None,
        "is_first_page": not before,
    }
    return render(request, "alerts/failed_deliveries.html", context)


@agent_view
@require_POST
def failed_deliveries_retry(request: HttpRequest) -> HttpResponse:
    """POST /deliveries/failed/retry: `one` id, the ticked `delivery` ids, or `all` (up to COUNT_CAP)."""
    visible = _visible(request)
    if request.POST.get("all"):
        ids = list(visible.values_list("id", flat=True)[:COUNT_CAP])
    else:
        # A row's own Retry button (`one`) retries that row only, whatever else is ticked.
        chosen = [request.POST["one"]] if request.POST.get("one") else request.POST.getlist("delivery")
        wanted = [int(value) for value in chosen if value.isdigit()]
        if not wanted:
            messages.error(request, "Select at least one delivery to retry, or use Retry all.")
            return redirect("failed-deliveries")
        ids = list(visible.filter(pk__in=wanted).values_list("id", flat=True))
        if not ids:  # none of them is failed and visible: as for any object the agent may not see
            raise Http404("There is no such failed delivery (it may have been retried already).")
    count = deliveries_requeue(actor=request.actor, delivery_ids=ids)  # type: ignore[attr-defined]
    if count:
        what = "1 delivery" if count == 1 else f"{count} deliveries"
        them = "it" if count == 1 else "them"
        messages.success(
            request,
            f"{what} queued again; the ingest loop processes {them} within seconds. "
            "If the cause is not fixed, a delivery comes back to this list with its new error.",
        )
    else:
        messages.info(request, "Nothing to retry: those deliveries are no longer failed.")
    return redirect("failed-deliveries")
