"""Saved searches read as queues: the query string they keep, their filters, and their counts.

A saved search keeps the queue page's query string, reduced to the parameters TicketFilter reads (paging
and anything else are dropped), so the console, the landing page and the API open it exactly as the
queue page would. What `q` means is TicketFilter's business: it is kept as sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from django.conf import settings
from django.db.models import F, Func, QuerySet, Subquery
from django.http import QueryDict

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Department, Team
from socdesk.accounts.selectors import departments_with_perm
from socdesk.core.text import clean_text
from socdesk.tickets.filters import TicketFilter, cached_count
from socdesk.tickets.models import SavedSearch, Ticket
from socdesk.tickets.selectors import tickets_visible_to

# What TicketFilter derives or reports rather than reads from the query string.
_NOT_PARAMETERS = frozenset({"errors", "observable_match", "observable_label"})
FILTER_PARAMETERS: tuple[str, ...] = tuple(
    f.name for f in fields(TicketFilter) if f.name not in _NOT_PARAMETERS
)
MAX_QUERY_LENGTH = 2000


def normalise_query(query: str | Mapping[str, Any]) -> str:
    """The query string reduced to TicketFilter's parameters, in a fixed order, empty values dropped,
    the queue always named (as the console reads it: none sent means the open tickets).

    The same filter always gives the same text, so the count cache and comparisons see one search.
    """
    params = QueryDict(query) if isinstance(query, str) else query
    pairs: list[tuple[str, str]] = []
    for name in FILTER_PARAMETERS:
        values = params.getlist(name) if hasattr(params, "getlist") else _as_list(params.get(name))
        # Control characters go at this boundary too (PostgreSQL refuses NUL in text).
        cleaned = (clean_text(str(value)) for value in values)
        pairs.extend((name, value) for value in cleaned if value.strip())
    if not any(name == "queue" for name, _ in pairs):
        # Written out, since the console's default queue (open) is not the API's (all tickets).
        pairs.insert(0, ("queue", TicketFilter.queue))
    out = QueryDict(mutable=True)
    for name, value in pairs:
        out.appendlist(name, value)
    return out.urlencode()


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def shareable_departments(agent: Agent) -> QuerySet[Department]:
    """Departments the agent may share a saved search with (all of them for an admin)."""
    allowed = departments_with_perm(agent, Perm.SHARE_QUEUES)
    departments = Department.objects.all()
    return departments if allowed is None else departments.filter(pk__in=allowed)


def may_change_saved_search(agent: Agent, saved_search: SavedSearch) -> bool:
    """Its owner may rename, share or delete a saved search; a shared one also whoever may share with
    its department (the department's leads, and admins)."""
    if saved_search.owner_id == agent.pk:
        return True
    if saved_search.department_id is None:
        return False
    allowed = departments_with_perm(agent, Perm.SHARE_QUEUES)
    return allowed is None or saved_search.department_id in allowed


def saved_search_filter(saved_search: SavedSearch) -> TicketFilter:
    """The saved search's filter, with a sentence in `errors` for each parameter no longer valid.

    Values the filter itself refuses are reported by it; ids of departments, agents and teams that no
    longer exist are reported here, since a queue filtered on them would silently show nothing.
    """
    ticket_filter = TicketFilter.from_querydict(QueryDict(saved_search.query))
    ticket_filter.errors.update(stale_references(ticket_filter))
    return ticket_filter


def stale_references(ticket_filter: TicketFilter) -> dict[str, str]:
    """{parameter: sentence} for ids in the filter that name nothing any more (one query per kind used)."""
    errors = {}
    checks = (
        ("department", ticket_filter.department, Department.objects.all(), "a department"),
        ("assignee", [a for a in ticket_filter.assignee if a], Agent.objects.all(), "an agent"),
        ("team", ticket_filter.team, Team.objects.all(), "a team"),
    )
    for parameter, ids, queryset, noun in checks:
        if not ids:
            continue
        gone = sorted(set(ids) - set(queryset.filter(pk__in=ids).values_list("pk", flat=True)))
        if gone:
            listed = ", ".join(map(str, gone))
            errors[parameter] = (
                f"This saved search filters on {noun} that no longer exists (id {listed}); "
                "change the filter and save the search again, or delete it."
            )
    return errors


def saved_search_counts(agent: Agent, searches: Iterable[SavedSearch]) -> dict[int, tuple[int, bool]]:
    """{saved search id: (count, capped)} for the agent, counted in one query and cached briefly."""
    searches = list(searches)
    if not searches:
        return {}
    signature = "saved|" + "|".join(f"{s.pk}:{s.query}" for s in searches)

    def count_all() -> dict[int, tuple[int, bool]]:
        visible = tickets_visible_to(agent)
        filters = {s.pk: TicketFilter.from_querydict(QueryDict(s.query)) for s in searches}
        return capped_counts(agent, {pk: f.apply(visible, agent, counting=True) for pk, f in filters.items()})

    return cached_count(agent, signature, count_all)


def capped_counts(agent: Agent, querysets: Mapping[int, QuerySet[Ticket]]) -> dict[int, tuple[int, bool]]:
    """Like filters.capped_count for many querysets at once: one SELECT whose columns are the counts.

    Each column counts at most SOCDESK_COUNT_CAP + 1 ids (a LIMIT inside the sub-select), so the cost is
    bounded per search and the number of queries does not grow with the number of saved searches.
    """
    cap = settings.SOCDESK_COUNT_CAP
    columns = {}
    for pk, qs in querysets.items():
        first_ids = qs.order_by().values("pk")[: cap + 1]
        # COUNT as a plain function, not an aggregate: no GROUP BY, one row from the sub-select.
        counted = Ticket.objects.filter(pk__in=first_ids).order_by()
        counted = counted.annotate(n=Func(F("pk"), function="COUNT"))
        columns[f"count_{pk}"] = Subquery(counted.values("n"))
    # The sub-selects need a row to hang on: the agent's own, which always exists.
    row = Agent.objects.filter(pk=agent.pk).annotate(**columns).values(*columns).get()
    # A search known to match nothing (an empty id list) compiles to no sub-select: NULL, i.e. 0.
    counts = {pk: row[f"count_{pk}"] or 0 for pk in querysets}
    return {pk: (cap, True) if n > cap else (n, False) for pk, n in counts.items()}
