"""Saved searches: an agent keeps a queue filter under a name, for themself or shared with a department."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.http import QueryDict

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Department
from socdesk.accounts.selectors import departments_with_perm
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.core.text import clean_text
from socdesk.tickets.filters import TicketFilter
from socdesk.tickets.models import SavedSearch
from socdesk.tickets.saved_searches import MAX_QUERY_LENGTH, may_change_saved_search, normalise_query
from socdesk.tickets.selectors import saved_search_get_for_agent
from socdesk.tickets.services.update import UNSET, Unset

NAME_MAX = SavedSearch._meta.get_field("name").max_length or 80
MAX_PER_AGENT = 50  # own saved searches; the landing page counts them all, so there is a bound


def _agent(actor: Actor) -> Agent:
    if actor.agent is None:
        raise PermissionDenied("Saved searches belong to an agent; use a personal token or the console.")
    return actor.agent


def _clean_name(name: str) -> str:
    cleaned = " ".join(clean_text(name).split())
    if not cleaned:
        raise ServiceError("Give the saved search a name.", fields={"name": "required"})
    if len(cleaned) > NAME_MAX:
        raise ServiceError(
            f"The name is {len(cleaned)} characters long; keep it to {NAME_MAX}.", fields={"name": "too_long"}
        )
    return cleaned


def _clean_query(query: str | Mapping[str, Any]) -> str:
    normalised = normalise_query(query)
    if len(normalised) > MAX_QUERY_LENGTH:
        raise ServiceError(
            f"This search is too long to save ({len(normalised)} characters; at most {MAX_QUERY_LENGTH}).",
            fields={"query": "too_long"},
        )
    ticket_filter = TicketFilter.from_querydict(QueryDict(normalised))
    if ticket_filter.errors:
        raise ServiceError(
            "This search cannot be saved until its filter is corrected: "
            + " ".join(ticket_filter.errors.values()),
            fields={"query": "invalid"},
        )
    if ticket_filter.observable.isdigit() and not ticket_filter.observable_label.startswith("#"):
        # An observable chosen by id is kept as its type:value (the same tickets), which the landing
        # page's counts read without looking the id up again for every saved search.
        params = QueryDict(normalised, mutable=True)
        params["observable"] = ticket_filter.observable_label
        normalised = normalise_query(params)
    return normalised


def _check_share(agent: Agent, department: Department | None) -> None:
    """Sharing with a department needs the share-queues permission there (admins may share anywhere)."""
    if department is None:
        return
    allowed = departments_with_perm(agent, Perm.SHARE_QUEUES)
    if allowed is not None and department.pk not in allowed:
        raise PermissionDenied(
            f"You may not share searches with {department.name}: that needs the "
            f"“{Perm.SHARE_QUEUES.label}” permission there. Save it for yourself instead.",
            fields={"department": "forbidden"},
        )


def _check_name_free(owner: Agent, name: str, exclude: int | None = None) -> None:
    taken = SavedSearch.objects.filter(owner=owner, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ServiceError(
            f"You already have a saved search named “{name}”; choose another name.", fields={"name": "taken"}
        )


def _check_may_change(agent: Agent, saved_search: SavedSearch) -> None:
    """The owner may change their search; a shared one also by whoever may share with its department."""
    if may_change_saved_search(agent, saved_search):
        return
    where = f" or a lead of {saved_search.department.name}" if saved_search.department else ""
    raise PermissionDenied(f"Only {saved_search.owner.name}{where} may change “{saved_search.name}”.")


def _snapshot(saved_search: SavedSearch) -> dict[str, Any]:
    return {
        "name": saved_search.name,
        "query": saved_search.query,
        "department": saved_search.department_id,
        "position": saved_search.position,
    }


@transaction.atomic
def saved_search_create(
    *, actor: Actor, name: str, query: str | Mapping[str, Any], department: Department | None = None
) -> SavedSearch:
    """Save a queue filter under a name, for the actor alone or shared with `department`."""
    agent = _agent(actor)
    name = _clean_name(name)
    query = _clean_query(query)
    _check_share(agent, department)
    # Lock the agent's row so two saves at once neither both pass the limit nor take one position.
    Agent.objects.select_for_update().filter(pk=agent.pk).first()
    _check_name_free(agent, name)
    own = SavedSearch.objects.filter(owner=agent)
    if own.count() >= MAX_PER_AGENT:
        raise ServiceError(
            f"You already have {MAX_PER_AGENT} saved searches; delete one you no longer use first.",
            fields={"name": "limit"},
        )
    last = own.aggregate(last=Max("position"))["last"]
    saved_search = SavedSearch.objects.create(
        name=name, owner=agent, department=department, query=query, position=0 if last is None else last + 1
    )
    record(actor=actor, action="saved_search.created", target=saved_search, after=_snapshot(saved_search))
    return saved_search


@transaction.atomic
def saved_search_update(
    *,
    actor: Actor,
    saved_search: SavedSearch,
    name: str | Unset = UNSET,
    query: str | Mapping[str, Any] | Unset = UNSET,
    department: Department | Unset | None = UNSET,
    position: int | Unset = UNSET,
) -> SavedSearch:
    """Rename, re-filter, share or unshare (None), or move a saved search; fields left UNSET stay."""
    agent = _agent(actor)
    # Re-read through the agent's sight under a lock: a search they may not see is a 404, not a 403.
    saved_search_get_for_agent(agent, saved_search.pk)
    locked = SavedSearch.objects.select_for_update(of=("self",)).select_related("department", "owner__user")
    saved_search = locked.get(pk=saved_search.pk)
    _check_may_change(agent, saved_search)
    before = _snapshot(saved_search)
    if not isinstance(name, Unset):
        saved_search.name = _clean_name(name)
        _check_name_free(saved_search.owner, saved_search.name, exclude=saved_search.pk)
    if not isinstance(query, Unset):
        saved_search.query = _clean_query(query)
    if not isinstance(department, Unset) and department != saved_search.department:
        _check_share(agent, department)
        saved_search.department = department
    if not isinstance(position, Unset):
        if position < 0:
            raise ServiceError("A position is 0 or more.", fields={"position": "invalid"})
        saved_search.position = position
    after = _snapshot(saved_search)
    if after == before:
        return saved_search
    saved_search.save()
    changed = [key for key in after if after[key] != before[key]]
    record(
        actor=actor,
        action="saved_search.updated",
        target=saved_search,
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed},
    )
    return saved_search


@transaction.atomic
def saved_search_delete(*, actor: Actor, saved_search: SavedSearch) -> None:
    """Delete a saved search (its owner, or a lead of the department it is shared with)."""
    agent = _agent(actor)
    saved_search_get_for_agent(agent, saved_search.pk)  # NotFound for a search they may not see
    locked = SavedSearch.objects.select_for_update(of=("self",)).select_related("department", "owner__user")
    saved_search = locked.get(pk=saved_search.pk)
    _check_may_change(agent, saved_search)
    before = _snapshot(saved_search)
    target_id, label = str(saved_search.pk), str(saved_search)
    saved_search.delete()
    record(
        actor=actor,
        action="saved_search.deleted",
        target_type="savedsearch",
        target_id=target_id,
        target_label=label,
        before=before,
    )


@transaction.atomic
def saved_search_move(*, actor: Actor, saved_search: SavedSearch, offset: int) -> SavedSearch:
    """Move one of the actor's own saved searches `offset` places among their own tabs (-1: earlier)."""
    agent = _agent(actor)
    saved_search_get_for_agent(agent, saved_search.pk)  # NotFound for a search they may not see
    if saved_search.owner_id != agent.pk:
        raise PermissionDenied("You can only reorder your own saved searches.")
    # Lock the owner's row: two moves at once would otherwise renumber from the same stale order.
    Agent.objects.select_for_update().filter(pk=agent.pk).first()
    own = list(SavedSearch.objects.filter(owner=agent).order_by("position", "id"))
    index = next(i for i, s in enumerate(own) if s.pk == saved_search.pk)
    target = index + offset
    if not 0 <= target < len(own):
        where = "first" if offset < 0 else "last"
        raise ServiceError(f"“{own[index].name}” is already the {where} of your saved searches.")
    moved = own.pop(index)
    own.insert(target, moved)
    before = moved.position
    changed = []
    for position, search in enumerate(own):  # renumbered 0..n-1, which also mends equal positions
        if search.position != position:
            search.position = position
            changed.append(search)
    SavedSearch.objects.bulk_update(changed, ["position"])
    record(
        actor=actor,
        action="saved_search.moved",
        target=moved,
        before={"position": before},
        after={"position": moved.position},
    )
    return moved
