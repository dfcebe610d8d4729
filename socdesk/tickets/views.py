"""The agent console's ticket pages: landing, queues with bulk actions, the ticket page, new ticket.

Views are thin: parse the form, call one selector or service, render. Refusals from the services
(ServiceError and its kinds) become messages on the page, with the agent's typed text kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Department, Team
from socdesk.accounts.selectors import (
    agents_visible_to,
    assignable_agents,
    departments_with_perm,
    teams_visible_to,
    ticket_perms,
    visible_department_ids,
)
from socdesk.accounts.web import agent_view, error_status
from socdesk.audit.selectors import events_for_target
from socdesk.core.errors import NotFound, ServiceError
from socdesk.tickets import services
from socdesk.tickets.choices import Resolution, Severity, Source, Status
from socdesk.tickets.filters import (
    QUEUES,
    TicketFilter,
    cached_count,
    capped_count,
    queue_counts,
    queue_tickets,
)
from socdesk.tickets.forms import (
    BULK_ACTIONS,
    AssignForm,
    BulkForm,
    CollaboratorForm,
    ComposeForm,
    EditForm,
    NewTicketForm,
    SeverityForm,
    StatusForm,
    TagsForm,
    TransferForm,
    VersionedForm,
    incoming_files,
)
from socdesk.tickets.history import assignment_words, describe_event, transfer_consequences
from socdesk.tickets.hooks import run_compose_files, run_reply_notice
from socdesk.tickets.models import SavedSearch, Ticket
from socdesk.tickets.observables import observables_in_text
from socdesk.tickets.page_sections import new_ticket_sections_html
from socdesk.tickets.presence import presence_leave, presence_touch
from socdesk.tickets.rows import ROW_COLUMNS, ticket_rows
from socdesk.tickets.saved_searches import (
    may_change_saved_search,
    normalise_query,
    saved_search_counts,
    shareable_departments,
    stale_references,
)
from socdesk.tickets.search import ranked_count, search_snippets
from socdesk.tickets.selectors import (
    attachment_get_for_agent,
    saved_searches_visible_to,
    ticket_collaborators,
    ticket_get_for_agent,
    ticket_thread,
)
from socdesk.tickets.sorting import sort_header

# --- landing and queues -------------------------------------------------------------------------------


def export_query(params) -> str:
    """The queue's filters and sort for its export link (every page: the page number is dropped)."""
    query = params.copy()
    query.pop("page", None)
    return query.urlencode()


def count_label(count: int, capped: bool) -> str:
    """'1,234', or '10,000+' when counting stopped at the cap."""
    return f"{count:,}+" if capped else f"{count:,}"


HOME_ROWS = 15


@agent_view
@require_GET
def home(request):
    """The agent's queues and saved searches, and how many tickets each holds."""
    counts = queue_counts(request.agent)
    queues = [
        {"name": name, "label": label, "count": count_label(*counts[name])}
        for name, (label, _cond) in QUEUES.items()
    ]
    saved = list(saved_searches_visible_to(request.agent))
    saved_counts = saved_search_counts(request.agent, saved)
    saved_cards = [{"search": s, "count": count_label(*saved_counts[s.pk])} for s in saved]
    mine = ticket_rows(queue_tickets(request.agent, TicketFilter(queue="mine")), 0, HOME_ROWS)
    return render(
        request,
        "tickets/home.html",
        {"queues": queues, "saved": saved_cards, "rows": mine, "row_columns": ROW_COLUMNS},
    )


@agent_view
@require_GET
def queue(request):
    """One queue, filtered and sorted; 50 rows a page, read with LIMIT and never fully counted."""
    return render_queue(request, request.GET)


def render_queue(request, params, *, saved: SavedSearch | None = None):
    """The queue page for these query parameters; `saved` when they come from a saved search."""
    agent = request.agent
    ticket_filter = TicketFilter.from_querydict(params)
    # Read before limit_to drops the ids: a saved search's removed agent gets its own sentence.
    stale = stale_references(ticket_filter) if saved is not None else {}
    # The filter lists offer only what the agent may see, and a submitted id outside it is dropped.
    all_departments = list(Department.objects.all())  # the bulk transfer may send tickets anywhere
    seen_ids = visible_department_ids(agent)
    seen_departments = [d for d in all_departments if seen_ids is None or d.pk in seen_ids]
    seen_agents = list(agents_visible_to(agent))
    seen_teams = list(teams_visible_to(agent))
    ticket_filter.limit_to("department", {d.pk for d in seen_departments})
    ticket_filter.limit_to("assignee", {a.pk for a in seen_agents})
    ticket_filter.limit_to("team", {t.pk for t in seen_teams})
    ticket_filter.errors.update(stale)
    tickets = queue_tickets(agent, ticket_filter)
    size = settings.SOCDESK_QUEUE_PAGE_SIZE
    try:
        page = max(1, int(params.get("page", "1")))
    except ValueError:
        page = 1
    start = (page - 1) * size
    # One row past the page tells whether there is a next page without counting the whole queue.
    rows = ticket_rows(tickets, start, start + size + 1)
    has_next = len(rows) > size
    rows = rows[:size]
    if ticket_filter.search.positive_text:
        snippets = search_snippets(ticket_filter.search, [row["id"] for row in rows])
        for row in rows:
            row["snippet"] = snippets.get(row["id"], "")
    # The signature is the filter without paging or sorting: every page of one queue shares a count.
    signature = params.copy()
    signature.pop("page", None)
    signature.pop("sort", None)
    total, capped = cached_count(agent, signature.urlencode(), lambda: capped_count(tickets))
    share_departments = list(shareable_departments(agent))
    edit_departments = list(share_departments)
    if saved is not None and saved.department is not None and saved.department not in edit_departments:
        edit_departments.append(saved.department)  # renaming keeps the sharing it has
    ranked = ticket_filter.sort == "relevance" and bool(ticket_filter.search.positive_text)
    if ranked:
        total, capped = ranked_count(total, capped)
    context = {
        "filter": ticket_filter,
        "queue_name": ticket_filter.queue,
        "queue_label": saved.name if saved else QUEUES[ticket_filter.queue][0],
        "queues": [(name, label) for name, (label, _c) in QUEUES.items()],
        "saved": saved,
        "saved_tabs": list(saved_searches_visible_to(agent)),
        "may_change_saved": saved is not None and may_change_saved_search(agent, saved),
        "share_departments": share_departments,
        "edit_departments": edit_departments,
        "save_query": saved.query if saved else normalise_query(params),
        "rows": rows,
        "row_columns": ROW_COLUMNS,
        "page": page,
        "has_next": has_next,
        "has_previous": page > 1,
        "first_row": start + 1 if rows else 0,
        "last_row": start + len(rows),
        "total_label": count_label(total, capped),
        "export_query": export_query(params),
        # Ranking reads the RANK_WINDOW most recent matches (search_rank_order): say so.
        "ranked_subset": ranked and capped,
        "statuses": Status.choices,
        "severities": Severity.choices,
        "sources": Source.choices,
        "filter_departments": seen_departments,
        # A bulk transfer may send tickets to any department, as the ticket page's transfer may.
        "departments": all_departments,
        "agents": seen_agents,
        "teams": seen_teams,
        "sort": ticket_filter.sort,
        "sort_links": sort_header(ticket_filter.sort),
        "bulk_actions": BULK_ACTIONS,
        "resolutions": Resolution.choices,
    }
    return render(request, "tickets/queue.html", context)


@agent_view
@require_POST
def bulk(request):
    """Apply one change to each selected ticket through the services; report each refusal by ticket."""
    back = request.POST.get("next") or reverse("tickets:queue")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("tickets:queue")
    numbers = [n for n in request.POST.getlist("ticket") if n.strip()][:500]
    form = BulkForm(request.POST)
    if not numbers:
        messages.error(request, "Select at least one ticket first.")
        return redirect(back)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:  # ErrorList yields message strings; its stubs say ValidationError too
                messages.error(request, str(error))
        return redirect(back)
    changes = form.changes()
    done, refused = [], []
    for number in numbers:
        try:
            ticket = ticket_get_for_agent(request.agent, number)
            # refuse_unchanged: the agent asked for this change, so one that changes nothing is reported.
            services.ticket_update(actor=request.actor, ticket=ticket, changes=changes, refuse_unchanged=True)
            done.append(ticket.number)
        except ServiceError as exc:
            refused.append(f"{number}: {exc.message}")
    if done:
        messages.success(request, f"Changed {len(done)} ticket(s): {', '.join(done)}.")
    for line in refused:
        messages.error(request, line)
    return redirect(back)


# --- the ticket page ----------------------------------------------------------------------------------


def _form(action: str, ticket, data=None, files=None, initial=None):
    """The form of one ticket action; ids are prefixed by the action so several forms share a page."""
    form_class = ACTIONS[action][0]
    kwargs: dict[str, Any] = {"auto_id": f"{action}_%s"}
    if form_class is AssignForm:
        # The current assignee and team are offered whoever they are: the form sends both sides, and a
        # side the agent did not touch must come back unchanged, not cleared.
        kwargs |= {
            "agents": assignable_agents(ticket.department_id, current=ticket.assignee_id),
            "teams": Team.objects.filter(
                Q(department__isnull=True) | Q(department_id=ticket.department_id) | Q(pk=ticket.team_id)
            ),
        }
    if form_class is StatusForm:
        kwargs["ticket"] = ticket
    if data is None:
        return form_class(initial=initial, **kwargs)
    return form_class(data, files, **kwargs)


def _action_forms(ticket) -> dict:
    """Unbound forms for every action on the ticket, loaded at the current version."""
    v = {"version": ticket.version}
    initial = {
        "assign": {"assignee": ticket.assignee_id, "team": ticket.team_id},
        "transfer": {"department": ticket.department_id},
        "severity": {"severity": ticket.severity},
        "tags": {"tags": ", ".join(t.name for t in ticket.tags.all())},
        "edit": {"subject": ticket.subject, "due_at": ticket.due_at},
    }
    return {action: _form(action, ticket, initial=v | initial.get(action, {})) for action in ACTIONS}


def render_ticket(
    request,
    ticket,
    *,
    bound: dict | None = None,
    error: str = "",
    status: int = 200,
    draft_sent: bool = False,
):
    """The ticket page (or, for htmx, just its main partial), with any bound form kept as typed.

    `draft_sent` tells the page's script that the reply or note went out, so the draft it keeps is dropped.
    """
    agent = request.agent
    forms = _action_forms(ticket)
    forms.update(bound or {})
    history = [(event, describe_event(event)) for event in events_for_target("ticket", ticket.pk)]
    context = {
        "ticket": ticket,
        "entries": list(ticket_thread(ticket)),
        "collaborators": list(ticket_collaborators(ticket)),
        "history": history,
        "perms": ticket_perms(agent, ticket),
        "forms": forms,
        "error": error,
        "presence_seconds": settings.SOCDESK_PRESENCE_SECONDS,
        "draft_sent": draft_sent,
    }
    template = "tickets/ticket.html#ticket-main" if request.htmx else "tickets/ticket.html"
    # htmx swaps only 2xx answers, so a refusal is sent as 200 there; plain posts keep the real status.
    return render(request, template, context, status=200 if request.htmx else status)


@agent_view
@require_GET
def ticket_detail(request, number):
    """Everything about one ticket: fields, thread, attachments, actions and its audit history."""
    ticket = ticket_get_for_agent(request.agent, number)
    return render_ticket(request, ticket)


def _do_compose(actor, ticket, data):
    service = services.ticket_note if data["kind"] == "note" else services.ticket_reply
    entry = service(
        actor=actor,
        ticket=ticket,
        body=data["body"],
        attachments=incoming_files(data["attachments"]) + run_compose_files(actor, ticket, data),
        expected_version=data["version"],
        observables=observables_in_text(data["body"]) if data["extract_observables"] else (),
    )
    if data["kind"] == "note":
        return "Internal note added."
    # Only what really happened: the mail app says whether it was e-mailed, queued or why not.
    notice = run_reply_notice(entry)
    if notice is None:
        return "Reply saved."
    text, ok = notice
    return text if ok else (text, messages.WARNING)


def _do_claim(actor, ticket, data):
    services.ticket_claim(actor=actor, ticket=ticket, expected_version=data["version"])
    return "You own this ticket now."


def _do_release(actor, ticket, data):
    services.ticket_release(actor=actor, ticket=ticket, expected_version=data["version"])
    return "Ticket released."


def _updater(done: Callable[[dict, Ticket, Ticket], str]):
    """A handler sending the form's fields (all but the version) to ticket_update as one change; `done`
    words the success message from the data sent and the ticket before and after."""

    def handler(actor, ticket, data):
        after = services.ticket_update(
            actor=actor,
            ticket=ticket,
            changes={name: value for name, value in data.items() if name != "version"},
            expected_version=data["version"],
            refuse_unchanged=True,
        )
        return done(data, ticket, after)

    return handler


def _assigned(data: dict, before: Ticket, after: Ticket) -> str:
    """'You assigned the ticket to Bob and set the team to Tier 1.': every side that changed."""
    words = assignment_words((before.assignee, before.team), (after.assignee, after.team))
    return f"You {words}." if words else "Assignment changed."


def _transferred(data: dict, before: Ticket, after: Ticket) -> str:
    """'Ticket transferred from SOC to IT. Bob was unassigned: …': what happened to assignee and team."""
    consequences = transfer_consequences(
        after.department, (before.assignee, before.team), (after.assignee, after.team)
    )
    return (
        f"Ticket transferred from {before.department.name} to {after.department.name}. {consequences}".strip()
    )


def _do_collaborator_add(actor, ticket, data):
    added = services.collaborator_add(actor=actor, ticket=ticket, email=data["email"])
    return f"{added.contact.email} is now a collaborator on {ticket.number}."


def _do_collaborator_remove(actor, ticket, data):
    services.collaborator_remove(actor=actor, ticket=ticket, email=data["email"])
    return f"{data['email'].strip().lower()} is no longer a collaborator."


# action name in the URL -> (form class, handler returning the success message)
ACTIONS = {
    "compose": (ComposeForm, _do_compose),
    "claim": (VersionedForm, _do_claim),
    "release": (VersionedForm, _do_release),
    "assign": (AssignForm, _updater(_assigned)),
    "transfer": (TransferForm, _updater(_transferred)),
    "status": (
        StatusForm,
        _updater(lambda data, *_: f"Status set to {Status(data['status']).label.lower()}."),
    ),
    "severity": (
        SeverityForm,
        _updater(lambda data, *_: f"Severity set to {Severity(data['severity']).label.lower()}."),
    ),
    "tags": (TagsForm, _updater(lambda data, *_: "Tags saved.")),
    "edit": (EditForm, _updater(lambda data, *_: "Ticket updated.")),
    "collaborator_add": (CollaboratorForm, _do_collaborator_add),
    "collaborator_remove": (CollaboratorForm, _do_collaborator_remove),
}


@agent_view
@require_POST
def ticket_action(request, number, action):
    """One change to a ticket; on refusal the page comes back with the message and the typed text."""
    ticket = ticket_get_for_agent(request.agent, number)
    if action not in ACTIONS:
        raise Http404("No such action.")
    handler = ACTIONS[action][1]
    form = _form(action, ticket, request.POST, request.FILES)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return render_ticket(request, ticket, bound={action: form}, error=first, status=400)
    try:
        message = handler(request.actor, ticket, form.cleaned_data)
    except ServiceError as exc:
        fresh = ticket_get_for_agent(request.agent, number)
        # Keep what the agent typed, but base a retry on the version now stored: the message told
        # them what changed, so a second submit is a deliberate decision.
        data = request.POST.copy()
        data["version"] = str(fresh.version)
        return render_ticket(
            request,
            fresh,
            bound={action: _form(action, fresh, data)},
            error=exc.message,
            status=error_status(exc),
        )
    if isinstance(message, tuple):  # (text, level): a change made, with something to watch out for
        messages.add_message(request, message[1], message[0])
    else:
        messages.success(request, message)
    try:
        fresh = ticket_get_for_agent(request.agent, number)
    except NotFound:
        # The change (a transfer to a department the agent has no role in) took the ticket out of
        # their sight: back to their queue, where the message says what happened.
        if request.htmx:
            return HttpResponseClientRedirect(reverse("tickets:queue"))
        return redirect("tickets:queue")
    if request.htmx:
        fresh = ticket_get_for_agent(request.agent, number)
        return render_ticket(request, fresh, draft_sent=action == "compose")
    return redirect("tickets:detail", number=ticket.number)


@agent_view
@require_POST
def presence(request, number):
    """Heartbeat from an open ticket page: record this agent, answer with who else is there."""
    ticket = ticket_get_for_agent(request.agent, number)
    if request.POST.get("leave"):
        presence_leave(ticket.pk, request.agent)
        return render(request, "tickets/ticket.html#presence-list", {"others": []})
    others = presence_touch(ticket.pk, request.agent, composing=request.POST.get("composing") == "1")
    return render(request, "tickets/ticket.html#presence-list", {"others": others})


@agent_view
@require_GET
def attachment_download(request, attachment_id):
    """Serve a file only to agents who may see its ticket, always as a download, never rendered."""
    attachment = attachment_get_for_agent(request.agent, attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file of this attachment is missing from storage.") from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.filename, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- new ticket ---------------------------------------------------------------------------------------


def _creatable_departments(agent):
    allowed = departments_with_perm(agent, Perm.CREATE)
    depts = Department.objects.all()
    return depts if allowed is None else depts.filter(pk__in=allowed)


@agent_view
def ticket_new(request):
    """An agent opens a ticket for a requester, in a department where they may create tickets."""
    departments = _creatable_departments(request.agent)
    form = NewTicketForm(request.POST or None, request.FILES or None, departments=departments)
    error, status = "", 200
    # The help topic section belongs to the app above (routing): its values are passed on as sent,
    # and checked by its hook on ticket_create.
    topic_id, custom = _topic_values(request.POST)
    refused_fields: list[str] = []
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_create(
                    actor=request.actor,
                    subject=data["subject"],
                    department=data["department"],
                    body=data["body"],
                    requester_email=data["requester_email"],
                    requester_name=data["requester_name"],
                    requester_phone=data["requester_phone"],
                    severity=data["severity"],
                    source=data["source"],
                    assignee=data["assignee"],
                    team=data["team"],
                    tags=data["tags"],
                    attachments=incoming_files(data["attachments"]),
                    observables=observables_in_text(data["subject"], data["body"]),
                    help_topic=topic_id,
                    custom_fields=custom,
                )
            except ServiceError as exc:
                for field, _code in exc.fields.items():
                    if field in form.fields:
                        form.add_error(field, exc.message)
                error, status = exc.message, error_status(exc)
                refused_fields = list(exc.fields)
            else:
                messages.success(request, f"Ticket {ticket.number} opened.")
                return redirect("tickets:detail", number=ticket.number)
        else:
            error, status = "The ticket was not opened; correct the fields marked below.", 400
    return render(
        request,
        "tickets/new.html",
        {
            "form": form,
            "error": error,
            "no_departments": not departments.exists(),
            "sections": new_ticket_sections_html(
                request,
                request.POST if request.method == "POST" else QueryDict(),
                [name.split(".", 1)[1] for name in refused_fields if name.startswith("custom_fields.")],
            ),
        },
        status=status,
    )


CUSTOM_PREFIX = "custom."


def _topic_values(data) -> tuple[int | None, dict[str, Any]]:
    """The help topic id and the `custom.<name>` values a new-ticket form sent (several: a list)."""
    raw_topic = (data.get("help_topic") or "").strip()
    custom: dict[str, Any] = {}
    for key in data:
        if key.startswith(CUSTOM_PREFIX) and len(key) > len(CUSTOM_PREFIX):
            items = data.getlist(key)
            custom[key[len(CUSTOM_PREFIX) :]] = items if len(items) > 1 else items[0]
    if not raw_topic:
        return None, custom
    # Not an id (or beyond any id): 0, which no topic has, so the refusal names what was sent wrong.
    return (int(raw_topic) if raw_topic.isdigit() and len(raw_topic) < 10 else 0), custom
