"""The console's saved searches: open one as a queue, save the current filter, rename, share, delete.

Another department's shared search is a 404 here like a missing one (the selector never tells them apart).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from socdesk.accounts.models import Department
from socdesk.accounts.web import agent_view
from socdesk.core.errors import ServiceError
from socdesk.tickets import services
from socdesk.tickets.forms import SavedSearchForm
from socdesk.tickets.saved_searches import shareable_departments
from socdesk.tickets.selectors import saved_search_get_for_agent
from socdesk.tickets.services import UNSET
from socdesk.tickets.views import render_queue

# What the person viewing a saved queue may change without changing the saved search itself.
VIEW_PARAMETERS = ("page", "sort")


@agent_view
@require_GET
def saved_queue(request, saved_search_id: int):
    """A saved search opened as a queue tab; paging and sorting apply on top of its filter."""
    saved = saved_search_get_for_agent(request.agent, saved_search_id)
    params = QueryDict(saved.query, mutable=True)
    for name in VIEW_PARAMETERS:
        if request.GET.get(name):
            params[name] = request.GET[name]
    return render_queue(request, params, saved=saved)


def _form(request, keep_department_id: int | None = None) -> SavedSearchForm:
    departments = shareable_departments(request.agent)
    if keep_department_id is not None:  # keeping the current sharing needs no permission to share anew
        departments = departments | Department.objects.filter(pk=keep_department_id)
    return SavedSearchForm(request.POST, departments=departments)


def _form_refused(request, form: SavedSearchForm) -> None:
    for errors in form.errors.values():
        for error in errors:  # ErrorList yields message strings
            messages.error(request, f"The search was not saved: {error}")


def _service_refused(request, exc: ServiceError) -> None:
    messages.error(request, f"The search was not saved: {exc.message}")


@agent_view
@require_POST
def saved_create(request):
    """Save the filter the agent is looking at under a name, for themself or shared with a department."""
    form = _form(request)
    back_to_queue = reverse("tickets:queue") + "?" + request.POST.get("query", "")
    if not form.is_valid():
        _form_refused(request, form)
        return redirect(back_to_queue)
    try:
        saved = services.saved_search_create(
            actor=request.actor,
            name=form.cleaned_data["name"],
            query=form.cleaned_data["query"],
            department=form.cleaned_data["department"],
        )
    except ServiceError as exc:
        _service_refused(request, exc)
        return redirect(back_to_queue)
    where = f"shared with {saved.department.name}" if saved.department else "for you only"
    messages.success(
        request, f"Saved “{saved.name}” ({where}); it is a tab here and a card on the home page."
    )
    return redirect("tickets:saved", saved_search_id=saved.pk)


@agent_view
@require_POST
def saved_edit(request, saved_search_id: int):
    """Rename a saved search or change who it is shared with."""
    saved = saved_search_get_for_agent(request.agent, saved_search_id)
    form = _form(request, keep_department_id=saved.department_id)
    if not form.is_valid():
        _form_refused(request, form)
        return redirect("tickets:saved", saved_search_id=saved.pk)
    try:
        saved = services.saved_search_update(
            actor=request.actor,
            saved_search=saved,
            name=form.cleaned_data["name"],
            # A form without the field leaves the sharing as it is; an empty choice is "Only me".
            department=form.cleaned_data["department"] if "department" in request.POST else UNSET,
        )
    except ServiceError as exc:
        _service_refused(request, exc)
    else:
        messages.success(request, f"Saved search “{saved.name}” updated.")
    return redirect("tickets:saved", saved_search_id=saved.pk)


MOVES = {"earlier": -1, "later": 1}


@agent_view
@require_POST
def saved_move(request, saved_search_id: int):
    """Move one of the agent's own saved searches one tab earlier or later."""
    saved = saved_search_get_for_agent(request.agent, saved_search_id)
    offset = MOVES.get(request.POST.get("direction", ""))
    if offset is None:
        messages.error(request, "Choose whether to move the saved search earlier or later.")
    else:
        try:
            services.saved_search_move(actor=request.actor, saved_search=saved, offset=offset)
        except ServiceError as exc:
            messages.error(request, f"The saved search was not moved: {exc.message}")
    return redirect("tickets:saved", saved_search_id=saved.pk)


@agent_view
@require_POST
def saved_delete(request, saved_search_id: int):
    """Delete a saved search and go back to the open tickets."""
    saved = saved_search_get_for_agent(request.agent, saved_search_id)
    try:
        services.saved_search_delete(actor=request.actor, saved_search=saved)
    except ServiceError as exc:
        messages.error(request, f"The saved search was not deleted: {exc.message}")
        return redirect("tickets:saved", saved_search_id=saved.pk)
    messages.success(request, f"Saved search “{saved.name}” deleted.")
    return redirect("tickets:queue")
