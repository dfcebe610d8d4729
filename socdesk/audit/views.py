"""The admin audit browser: every recorded event, filtered, newest first, with the chain's state.

Only admins may see it. Who is an admin is the accounts app's business, and accounts sits above audit,
so the URLconf (socdesk/urls.py) serves this view behind `socdesk.accounts.web.admin_view`, which signs
the agent in, sets `request.agent` and activates their time zone; the view refuses to answer without it.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from socdesk.audit.chain import GENESIS
from socdesk.audit.describe import describe_changes
from socdesk.audit.selectors import events_filtered
from socdesk.audit.verify import verify_chain

PAGE_SIZE = 50
# Verified prefix of the chain, so each page load only checks events sealed since the last one.
VERIFIED_KEY = "audit:verified-prefix"
# At most this many events are checked per page load; the rest on the following loads.
VERIFY_PER_REQUEST = 20_000


def chain_status() -> dict:
    """How far the chain is verified: resumes from the last verified link kept in the cache.

    The full check from the first event is `socdesk audit verify`; this keeps the page fast.
    """
    seq, link = cache.get(VERIFIED_KEY) or (0, GENESIS)
    result = verify_chain(after_seq=seq, after_hash=link, limit=VERIFY_PER_REQUEST, include_unsealed=False)
    if not result.ok:
        cache.delete(VERIFIED_KEY)
        return {"ok": False, "seq": result.broken_seq, "reason": result.reason}
    if result.last_seq > seq:
        cache.set(VERIFIED_KEY, (result.last_seq, result.last_hash), timeout=3600)
    return {"ok": True, "seq": result.last_seq}


def _day(raw: str, errors: list[str], name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{name} must be a date like 2026-11-27, not {raw!r}.")
        return None


def _compact(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


@require_GET
def audit_browser(request):
    """Filter by actor, action, target and dates; pages go back in time by event id (no counting)."""
    agent = getattr(request, "agent", None)
    if agent is None or not agent.is_admin:  # served without admin_view around it: answer as if absent
        raise Http404("Page not found.")
    params = request.GET
    errors: list[str] = []
    tz = timezone.get_current_timezone()
    since_day = _day(params.get("since", ""), errors, "From")
    until_day = _day(params.get("until", ""), errors, "To")
    events = events_filtered(
        actor=params.get("actor", "").strip(),
        action=params.get("action", "").strip(),
        target=params.get("target", "").strip(),
        since=datetime.combine(since_day, time.min, tz) if since_day else None,
        until=datetime.combine(until_day + timedelta(days=1), time.min, tz) if until_day else None,
    )
    before = params.get("before", "")
    if before.isdigit():
        events = events.filter(id__lt=int(before))
    rows = list(events[: PAGE_SIZE + 1])
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    changes = describe_changes(rows)  # names looked up once for the page, not per row
    for event in rows:
        event.before_json = _compact(event.before)
        event.after_json = _compact(event.after)
        event.changes = changes[event.pk]
    return render(
        request,
        "audit/browser.html",
        {
            "events": rows,
            "next_before": rows[-1].id if has_more else None,
            "is_first_page": not before,
            "errors": errors,
            "chain": chain_status(),
            "params": params,
        },
    )
