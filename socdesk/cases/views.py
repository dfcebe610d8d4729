"""The console's tasks: a ticket's checklist panel (htmx) and the "My tasks" queue."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from socdesk.accounts.choices import Perm
from socdesk.accounts.selectors import agent_can
from socdesk.accounts.web import agent_view
from socdesk.cases.choices import TaskStatus
from socdesk.cases.forms import TaskAddForm, TaskMoveForm, TaskNoteForm, TaskPickForm, TaskStatusForm
from socdesk.cases.models import Playbook
from socdesk.cases.selectors import (
    playbooks_all,
    task_get_on_ticket,
    tasks_mine,
    ticket_playbook_runs,
    ticket_tasks,
)
from socdesk.cases.services import (
    playbook_apply,
    task_create,
    task_delete,
    task_note_add,
    task_reorder,
    task_set_status,
)
from socdesk.core.errors import ServiceError
from socdesk.core.json_errors import STATUS_FOR
from socdesk.tickets.models import Ticket
from socdesk.tickets.selectors import ticket_get_for_agent

MY_TASKS_LIMIT = 200


def _panel(
    request: HttpRequest,
    ticket: Ticket,
    *,
    notice: str = "",
    error: str = "",
    expanded: int | None = None,
    add_form: TaskAddForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tasks = list(ticket_tasks(ticket))
    runs = list(ticket_playbook_runs(ticket))
    applied = {run.playbook_id for run in runs}
    context = {
        "ticket": ticket,
        "tasks": tasks,
        "runs": runs,
        "done": sum(1 for t in tasks if t.status in (TaskStatus.DONE, TaskStatus.SKIPPED)),
        "can_edit": agent_can(request.agent, Perm.EDIT, ticket),  # type: ignore[attr-defined]
        "playbooks": [p for p in playbooks_all() if p.pk not in applied],
        "add_form": add_form or TaskAddForm(ticket=ticket),
        "notice": notice,
        "error": error,
        "expanded": expanded,
        "now": timezone.now(),
    }
    # htmx swaps only 2xx answers, so a refusal is sent as 200 there; plain posts keep the real status.
    return render(request, "cases/tasks_panel.html", context, status=200 if request.htmx else status)  # type: ignore[attr-defined]


def _task_id(request: HttpRequest) -> int | None:
    value = request.POST.get("task", "")
    return int(value) if value.isdigit() else None


def _do_add(request: HttpRequest, ticket: Ticket) -> str:
    form = TaskAddForm(request.POST, ticket=ticket)
    if not form.is_valid():
        raise _FormInvalid(form)
    data = form.cleaned_data
    task = task_create(
        actor=request.actor,  # type: ignore[attr-defined]
        ticket=ticket,
        title=data["title"],
        assignee=data["assignee"],
        team=data["team"],
        due_at=data["due_at"],
    )
    return f"Task “{task.title}” added."


def _do_status(request: HttpRequest, ticket: Ticket) -> str:
    form = TaskStatusForm(request.POST)
    if not form.is_valid():
        raise ServiceError("Choose a task and what to do with it.")
    task = task_get_on_ticket(ticket, form.cleaned_data["task"])
    task = task_set_status(
        actor=request.actor,  # type: ignore[attr-defined]
        task=task,
        status=form.cleaned_data["status"],
        reason=form.cleaned_data["reason"],
    )
    words = {
        TaskStatus.DONE: "done",
        TaskStatus.SKIPPED: "skipped",
        TaskStatus.IN_PROGRESS: "started",
        TaskStatus.OPEN: "open again",
    }
    return f"Task “{task.title}” {words[TaskStatus(task.status)]}."


def _do_move(request: HttpRequest, ticket: Ticket) -> str:
    form = TaskMoveForm(request.POST)
    if not form.is_valid():
        raise ServiceError("Choose a task and a direction.")
    task = task_get_on_ticket(ticket, form.cleaned_data["task"])
    order = [t.pk for t in ticket_tasks(ticket)]
    index = order.index(task.pk)
    other = index - 1 if form.cleaned_data["direction"] == "up" else index + 1
    if not 0 <= other < len(order):
        raise ServiceError(f"“{task.title}” is already {'first' if other < 0 else 'last'}.")
    order[index], order[other] = order[other], order[index]
    task_reorder(actor=request.actor, ticket=ticket, order=order)  # type: ignore[attr-defined]
    return f"Task “{task.title}” moved {form.cleaned_data['direction']}."


def _do_note(request: HttpRequest, ticket: Ticket) -> str:
    form = TaskNoteForm(request.POST)
    if not form.is_valid():
        raise ServiceError("Write the note first.", fields={"body": "required"})
    task = task_get_on_ticket(ticket, form.cleaned_data["task"])
    task_note_add(actor=request.actor, task=task, body=form.cleaned_data["body"])  # type: ignore[attr-defined]
    return f"Note added to “{task.title}”."


def _do_delete(request: HttpRequest, ticket: Ticket) -> str:
    form = TaskPickForm(request.POST)
    if not form.is_valid():
        raise ServiceError("Choose a task.")
    task = task_get_on_ticket(ticket, form.cleaned_data["task"])
    task_delete(actor=request.actor, task=task)  # type: ignore[attr-defined]
    return f"Task “{task.title}” deleted."


def _do_apply(request: HttpRequest, ticket: Ticket) -> str:
    value = request.POST.get("playbook", "")
    playbook = Playbook.objects.filter(pk=int(value)).first() if value.isdigit() else None
    if playbook is None:
        raise ServiceError("Choose a playbook to apply.", fields={"playbook": "required"})
    run = playbook_apply(actor=request.actor, ticket=ticket, playbook=playbook)  # type: ignore[attr-defined]
    return (
        f"Playbook {playbook.name} (version {run.version.number}) applied: {run.tasks.count()} tasks added."
    )


class _FormInvalid(Exception):
    def __init__(self, form: TaskAddForm):
        self.form = form


ACTIONS: dict[str, Callable[[HttpRequest, Ticket], str]] = {
    "add": _do_add,
    "status": _do_status,
    "move": _do_move,
    "note": _do_note,
    "delete": _do_delete,
    "apply": _do_apply,
}


@agent_view
@require_http_methods(["GET", "POST"])
def ticket_tasks_panel(request: HttpRequest, number: str) -> HttpResponse:
    """GET: the ticket's checklist; POST `action=add|status|move|note|delete|apply`: one change, then the
    checklist again with a sentence saying what happened (or why not)."""
    ticket = ticket_get_for_agent(request.agent, number)  # type: ignore[attr-defined]
    if request.method == "GET":
        opened = request.GET.get("open", "")
        return _panel(request, ticket, expanded=int(opened) if opened.isdigit() else None)
    action = ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        return _panel(request, ticket, error="Unknown task action.", status=400)
    expanded = _task_id(request) if request.POST.get("action") in ("note", "status") else None
    try:
        notice = action(request, ticket)
    except _FormInvalid as invalid:
        return _panel(request, ticket, error="Give the task a title.", add_form=invalid.form, status=400)
    except ServiceError as exc:
        return _panel(
            request, ticket, error=exc.message, expanded=expanded, status=STATUS_FOR.get(type(exc), 400)
        )
    if not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, notice)
        return redirect("tickets:detail", number=ticket.number)
    return _panel(request, ticket, notice=notice, expanded=expanded)


@agent_view
@require_GET
def my_tasks(request: HttpRequest) -> HttpResponse:
    """The tasks given to me or my teams that are still to do, soonest due first."""
    tasks = list(tasks_mine(request.agent)[:MY_TASKS_LIMIT])  # type: ignore[attr-defined]
    return render(
        request, "cases/my_tasks.html", {"tasks": tasks, "limit": MY_TASKS_LIMIT, "now": timezone.now()}
    )
