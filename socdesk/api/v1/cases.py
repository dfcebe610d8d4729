"""Tasks and playbooks: a ticket's tasks (CRUD, notes, order), applying a playbook, "my tasks", and the
playbooks themselves (admin) with their statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.db.models import F, QuerySet
from ninja import Query, Router, Schema
from ninja import Status as Reply
from pydantic import Field

from socdesk.accounts.models import Agent, Team
from socdesk.api.v1.schemas import DbId, ErrorOut, InputSchema, QueryParams
from socdesk.api.v1.security import Caller, requires
from socdesk.cases.choices import PENDING_STATUSES, TaskStatus
from socdesk.cases.models import Playbook, PlaybookVersion, Task, TaskNote
from socdesk.cases.selectors import (
    playbook_task_durations,
    playbook_versions,
    playbooks_all,
    task_get_on_ticket,
    tasks_given_to,
    ticket_tasks,
)
from socdesk.cases.services import (
    PlaybookDefinition,
    TemplateDefinition,
    playbook_apply,
    playbook_create,
    playbook_delete,
    playbook_update,
    task_create,
    task_delete,
    task_note_add,
    task_reorder,
    task_set_status,
    task_update,
)
from socdesk.core.errors import NotFound, ServiceError

router = Router(tags=["tasks and playbooks"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}
TASKS_MAX = 200


# ---- schemas -----------------------------------------------------------------------------------------


class TaskNoteOut(Schema):
    id: int
    author: str
    body: str
    created_at: datetime


class TaskOut(Schema):
    id: int
    ticket: str = Field(description="The ticket's number.")
    title: str
    description: str
    status: TaskStatus
    skip_reason: str
    required: bool
    order: int
    assignee: str | None = Field(description="The assignee's username.")
    team: str | None = Field(description="The team's name.")
    due_at: datetime | None
    done_at: datetime | None
    created_at: datetime
    playbook: str | None = Field(description="The playbook the task came from (null: added by hand).")
    playbook_version: int | None
    notes: list[TaskNoteOut]


class TaskList(Schema):
    items: list[TaskOut]


class TaskIn(InputSchema):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10000)
    assignee: DbId | str | None = Field(None, description="Agent id or username.")
    team: DbId | str | None = Field(None, description="Team id or name (of the ticket's department).")
    due_at: datetime | None = None
    required: bool = False


class TaskPatchIn(InputSchema):
    """Only the fields sent change; null clears assignee, team and due_at. A status of `skipped` needs
    `reason`."""

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10000)
    assignee: DbId | str | None = None
    team: DbId | str | None = None
    due_at: datetime | None = None
    required: bool | None = None
    status: TaskStatus | None = None
    reason: str = Field("", max_length=500, description="Why the task is skipped (with status skipped).")


class TaskNoteIn(InputSchema):
    body: str = Field(min_length=1, max_length=10000)


class TaskOrderIn(InputSchema):
    order: list[DbId] = Field(max_length=1000, description="Every task id of the ticket, in the new order.")


class PlaybookApplyIn(InputSchema):
    playbook: DbId | str = Field(description="Playbook id or name.")


class PlaybookRunOut(Schema):
    playbook: str
    version: int
    applied_at: datetime
    applied_by: str
    tasks: list[TaskOut]


class MyTasksParams(QueryParams):
    mine: bool = Field(False, description="Only tasks given to you or your teams (needs an agent).")
    status: Literal["pending", "open", "in_progress", "done", "skipped", "any"] = Field(
        "pending", description="pending = open or in progress."
    )


class TemplateIO(InputSchema):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10000)
    due_minutes: int | None = Field(None, description="Minutes after the playbook is applied.")
    required: bool = True
    team: DbId | None = Field(None, description="Team id.")


class PlaybookIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=10000)
    block_resolution: bool = True
    required_fields: list[str] = Field(default_factory=list, max_length=100)
    help_topics: list[DbId] = Field(default_factory=list, max_length=1000, description="Help topic ids.")
    tasks: list[TemplateIO] = Field(min_length=1, max_length=200)


class PlaybookVersionOut(Schema):
    number: int
    created_at: datetime
    created_by: str
    required_fields: list[str]
    tasks: list[TemplateIO]


class PlaybookOut(Schema):
    id: int
    name: str
    description: str
    block_resolution: bool
    help_topics: list[int]
    current: PlaybookVersionOut | None
    versions: list[int] = Field(description="Every version's number, newest first.")


class PlaybookList(Schema):
    items: list[PlaybookOut]


class TaskDurationOut(Schema):
    position: int
    title: str
    done: int = Field(description="How many of these tasks were done in the period.")
    median_seconds: float | None = Field(description="Median from the task's creation to done.")


class PlaybookStatsOut(Schema):
    playbook: str
    tasks: list[TaskDurationOut]


class StatsParams(QueryParams):
    since: datetime | None = Field(None, description="Tasks done at or after this instant.")
    until: datetime | None = Field(None, description="Tasks done before this instant.")


# ---- helpers -------------------------------------------------------------------------------------------


def task_out(task: Task) -> dict:
    run = task.run
    return {
        "id": task.pk,
        "ticket": task.ticket.number,
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "skip_reason": task.skip_reason,
        "required": task.required,
        "order": task.order,
        "assignee": task.assignee.user.get_username() if task.assignee else None,
        "team": task.team.name if task.team else None,
        "due_at": task.due_at,
        "done_at": task.done_at,
        "created_at": task.created_at,
        "playbook": run.playbook.name if run else None,
        "playbook_version": run.version.number if run else None,
        "notes": [note_out(n) for n in task.notes.all()],
    }


def note_out(note: TaskNote) -> dict:
    return {"id": note.pk, "author": note.author_label, "body": note.body, "created_at": note.created_at}


def _agent(value: int | str) -> Agent:
    agents = Agent.objects.select_related("user")
    found = (
        agents.filter(pk=value).first()
        if isinstance(value, int)
        else agents.filter(user__username__iexact=value.strip()).first()
    )
    if found is None:
        raise ServiceError(
            f"There is no agent {value!r}; give their id or username.", fields={"assignee": "unknown"}
        )
    return found


def _team(value: int | str) -> Team:
    teams = Team.objects.all()
    found = (
        teams.filter(pk=value).first()
        if isinstance(value, int)
        else teams.filter(name__iexact=value.strip()).first()
    )
    if found is None:
        raise ServiceError(f"There is no team {value!r}; give its id or name.", fields={"team": "unknown"})
    return found


def _task(caller: Caller, number: str, task_id: int) -> Task:
    ticket = caller.get_ticket(number)
    task_get_on_ticket(ticket, task_id)
    return ticket_tasks(ticket).get(pk=task_id)


def _playbook(value: int | str) -> Playbook:
    found = (
        Playbook.objects.filter(pk=value).first()
        if isinstance(value, int)
        else Playbook.objects.filter(name__iexact=value.strip()).first()
    )
    if found is None:
        raise NotFound(f"There is no playbook {value!r}.")
    return found


def version_out(version: PlaybookVersion) -> dict:
    return {
        "number": version.number,
        "created_at": version.created_at,
        "created_by": version.created_by,
        "required_fields": list(version.required_fields),
        "tasks": [
            {
                "title": t.title,
                "description": t.description,
                "due_minutes": t.due_minutes,
                "required": t.required,
                "team": t.team_id,
            }
            for t in version.templates.all()
        ],
    }


def playbook_out(playbook: Playbook) -> dict:
    versions = list(playbook_versions(playbook))
    return {
        "id": playbook.pk,
        "name": playbook.name,
        "description": playbook.description,
        "block_resolution": playbook.block_resolution,
        "help_topics": sorted(link.topic_id for link in playbook.topic_links.all()),
        "current": version_out(versions[0]) if versions else None,
        "versions": [v.number for v in versions],
    }


def _definition(payload: PlaybookIn) -> PlaybookDefinition:
    return PlaybookDefinition(
        name=payload.name,
        description=payload.description,
        block_resolution=payload.block_resolution,
        required_fields=payload.required_fields,
        topic_ids=payload.help_topics,
        templates=[
            TemplateDefinition(
                title=t.title,
                description=t.description,
                due_minutes=t.due_minutes,
                required=t.required,
                team_id=t.team,
            )
            for t in payload.tasks
        ],
    )


# ---- a ticket's tasks ------------------------------------------------------------------------------------


@router.get(
    "/tickets/{number}/tasks",
    response={200: TaskList} | ERRORS,
    auth=requires("tickets:read"),
    url_name="ticket_tasks",
    summary="List a ticket's tasks",
)
def ticket_task_list(request, number: str):
    """The ticket's checklist in order, with each task's notes. Scope: tickets:read; 404 if not visible."""
    caller: Caller = request.auth
    ticket = caller.get_ticket(number)
    return {"items": [task_out(t) for t in ticket_tasks(ticket)]}


@router.post(
    "/tickets/{number}/tasks",
    response={201: TaskOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_task_create",
    summary="Add a task",
)
def ticket_task_create(request, number: str, payload: TaskIn):
    """Add a task at the end of the checklist. Scope: tickets:write."""
    caller: Caller = request.auth
    ticket = caller.get_ticket(number)
    task = task_create(
        actor=caller.actor,
        ticket=ticket,
        title=payload.title,
        description=payload.description,
        assignee=_agent(payload.assignee) if payload.assignee is not None else None,
        team=_team(payload.team) if payload.team is not None else None,
        due_at=payload.due_at,
        required=payload.required,
    )
    return Reply(201, task_out(_task(caller, number, task.pk)))


@router.put(
    "/tickets/{number}/tasks/order",
    response={200: TaskList} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_task_reorder",
    summary="Reorder a ticket's tasks",
)
def ticket_task_reorder(request, number: str, payload: TaskOrderIn):
    """Put the tasks in this order (every task id once). Scope: tickets:write."""
    caller: Caller = request.auth
    ticket = caller.get_ticket(number)
    task_reorder(actor=caller.actor, ticket=ticket, order=payload.order)
    return {"items": [task_out(t) for t in ticket_tasks(ticket)]}


@router.get(
    "/tickets/{number}/tasks/{task_id}",
    response={200: TaskOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="ticket_task",
    summary="Show a task",
)
def ticket_task_get(request, number: str, task_id: int):
    """One task with its notes. Scope: tickets:read."""
    return task_out(_task(request.auth, number, task_id))


@router.patch(
    "/tickets/{number}/tasks/{task_id}",
    response={200: TaskOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_task_update",
    summary="Change a task",
)
def ticket_task_update(request, number: str, task_id: int, payload: TaskPatchIn):
    """Change the fields sent, and the status (skipping needs `reason`). Scope: tickets:write."""
    caller: Caller = request.auth
    task = _task(caller, number, task_id)
    sent = payload.model_fields_set - {"status", "reason"}
    if sent:
        changes: dict = {}
        if "title" in sent and payload.title is not None:
            changes["title"] = payload.title
        if "description" in sent and payload.description is not None:
            changes["description"] = payload.description
        if "assignee" in sent:
            changes["assignee"] = _agent(payload.assignee) if payload.assignee is not None else None
        if "team" in sent:
            changes["team"] = _team(payload.team) if payload.team is not None else None
        if "due_at" in sent:
            changes["due_at"] = payload.due_at
        if "required" in sent and payload.required is not None:
            changes["required"] = payload.required
        task = task_update(actor=caller.actor, task=task, **changes)
    if payload.status is not None:
        task = task_set_status(actor=caller.actor, task=task, status=payload.status, reason=payload.reason)
    elif not sent:
        raise ServiceError("Nothing to change: send a field or a status.")
    return task_out(_task(caller, number, task_id))


@router.delete(
    "/tickets/{number}/tasks/{task_id}",
    response={204: None} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_task_delete",
    summary="Delete a task",
)
def ticket_task_delete(request, number: str, task_id: int):
    """Remove a task (a playbook's required task is skipped instead: 400). Scope: tickets:write."""
    caller: Caller = request.auth
    task_delete(actor=caller.actor, task=_task(caller, number, task_id))
    return Reply(204, None)


@router.post(
    "/tickets/{number}/tasks/{task_id}/notes",
    response={201: TaskNoteOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_task_note",
    summary="Add a note to a task",
)
def ticket_task_note(request, number: str, task_id: int, payload: TaskNoteIn):
    """Add a note to the task's own thread. Scope: tickets:write."""
    caller: Caller = request.auth
    note = task_note_add(actor=caller.actor, task=_task(caller, number, task_id), body=payload.body)
    return Reply(201, note_out(note))


@router.post(
    "/tickets/{number}/playbooks",
    response={201: PlaybookRunOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_playbook_apply",
    summary="Apply a playbook to a ticket",
)
def ticket_playbook_apply(request, number: str, payload: PlaybookApplyIn):
    """Add the playbook's current tasks to the ticket; a playbook already applied is refused (400).
    Scope: tickets:write."""
    caller: Caller = request.auth
    ticket = caller.get_ticket(number)
    run = playbook_apply(actor=caller.actor, ticket=ticket, playbook=_playbook(payload.playbook))
    tasks = ticket_tasks(ticket).filter(run=run)
    return Reply(
        201,
        {
            "playbook": run.playbook.name,
            "version": run.version.number,
            "applied_at": run.applied_at,
            "applied_by": run.applied_by,
            "tasks": [task_out(t) for t in tasks],
        },
    )


# ---- my tasks ----------------------------------------------------------------------------------------------


@router.get(
    "/tasks",
    response={200: TaskList} | ERRORS,
    auth=requires("tickets:read"),
    url_name="task_list",
    summary="List tasks (mine)",
)
def task_list(request, params: Query[MyTasksParams]):
    """Tasks on tickets you may see, soonest due first (at most 200); `?mine=1`: those given to you or
    your teams (an agent's session or personal token). Scope: tickets:read."""
    caller: Caller = request.auth
    if params.mine:
        if caller.agent is None:
            raise ServiceError(
                "?mine=1 lists an agent's tasks: use a personal token or a console session.",
                fields={"mine": "needs_agent"},
            )
        tasks: QuerySet[Task] = tasks_given_to(caller.agent)
    else:
        tasks = Task.objects.filter(ticket__in=caller.visible_tickets()).select_related(
            "ticket", "assignee__user", "team", "run__playbook"
        )
        tasks = tasks.order_by(F("due_at").asc(nulls_last=True), "ticket_id", "order", "id")
    if params.status == "pending":
        tasks = tasks.filter(status__in=PENDING_STATUSES)
    elif params.status != "any":
        tasks = tasks.filter(status=params.status)
    rows = list(tasks.select_related("run__version").prefetch_related("notes")[:TASKS_MAX])
    return {"items": [task_out(t) for t in rows]}


# ---- playbooks (configuration) -----------------------------------------------------------------------------


@router.get(
    "/playbooks",
    response={200: PlaybookList} | ERRORS,
    auth=requires("tickets:read"),
    url_name="playbook_list",
    summary="List playbooks",
)
def playbook_list(request):
    """Every playbook with its current version. Scope: tickets:read."""
    return {"items": [playbook_out(p) for p in playbooks_all().prefetch_related("topic_links")]}


@router.get(
    "/playbooks/{playbook_id}",
    response={200: PlaybookOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="playbook",
    summary="Show a playbook",
)
def playbook_get(request, playbook_id: int):
    """One playbook with its current version. Scope: tickets:read."""
    return playbook_out(_playbook(playbook_id))


@router.get(
    "/playbooks/{playbook_id}/versions/{number}",
    response={200: PlaybookVersionOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="playbook_version",
    summary="Show one version of a playbook",
)
def playbook_version_get(request, playbook_id: int, number: int):
    """What a playbook held at a version (the tickets it was applied to keep it). Scope: tickets:read."""
    version = playbook_versions(_playbook(playbook_id)).filter(number=number).first()
    if version is None:
        raise NotFound(f"The playbook has no version {number}.")
    return version_out(version)


@router.post(
    "/playbooks",
    response={201: PlaybookOut} | ERRORS,
    auth=requires("admin"),
    url_name="playbook_create",
    summary="Create a playbook",
)
def playbook_create_endpoint(request, payload: PlaybookIn):
    """A new playbook (version 1). Scope: admin."""
    caller: Caller = request.auth
    return Reply(201, playbook_out(playbook_create(actor=caller.actor, definition=_definition(payload))))


@router.put(
    "/playbooks/{playbook_id}",
    response={200: PlaybookOut} | ERRORS,
    auth=requires("admin"),
    url_name="playbook_update",
    summary="Replace a playbook",
)
def playbook_update_endpoint(request, playbook_id: int, payload: PlaybookIn):
    """Replace the playbook: a new version when its tasks or required fields change. Scope: admin."""
    caller: Caller = request.auth
    playbook = playbook_update(
        actor=caller.actor, playbook=_playbook(playbook_id), definition=_definition(payload)
    )
    return playbook_out(playbook)


@router.delete(
    "/playbooks/{playbook_id}",
    response={204: None} | ERRORS,
    auth=requires("admin"),
    url_name="playbook_delete",
    summary="Delete a playbook",
)
def playbook_delete_endpoint(request, playbook_id: int):
    """Delete a playbook never applied to a ticket (400 otherwise). Scope: admin."""
    caller: Caller = request.auth
    playbook_delete(actor=caller.actor, playbook=_playbook(playbook_id))
    return Reply(204, None)


@router.get(
    "/playbooks/{playbook_id}/stats",
    response={200: PlaybookStatsOut} | ERRORS,
    auth=requires("admin"),
    url_name="playbook_stats",
    summary="Median time per task of a playbook",
)
def playbook_stats(request, playbook_id: int, params: Query[StatsParams]):
    """For each task of the playbook: how many were done and the median time from creation to done.
    Scope: admin."""
    playbook = _playbook(playbook_id)
    figures = playbook_task_durations(playbook, since=params.since, until=params.until)
    return {
        "playbook": playbook.name,
        "tasks": [
            {
                "position": f.position,
                "title": f.title,
                "done": f.done,
                "median_seconds": f.median.total_seconds() if f.median is not None else None,
            }
            for f in figures
        ],
    }
