"""Console pages of routing: the help-topic section of the new-ticket form (rendered with the page, and
again by htmx when the topic changes) and the ticket page's panel
of its topic and custom fields, with its topic chooser (swapped in by htmx; tickets' templates only name
their URLs)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socdesk.accounts.choices import Perm
from socdesk.accounts.selectors import agent_can
from socdesk.accounts.web import agent_view
from socdesk.core.errors import ServiceError
from socdesk.core.json_errors import STATUS_FOR
from socdesk.routing.console import display_rows, field_inputs, submitted_values
from socdesk.routing.models import HelpTopic
from socdesk.routing.selectors import form_specs, help_topics_for_agents, ticket_topic, topic_form_id
from socdesk.routing.services.ticket_fields import ticket_set_custom_fields, ticket_set_help_topic
from socdesk.routing.topic_queue import topic_choices
from socdesk.tickets.models import Ticket
from socdesk.tickets.selectors import ticket_get_for_agent


def _invalid(exc: ServiceError) -> frozenset[str]:
    """The custom fields a refusal names (its fields are `custom_fields.<name>`)."""
    return frozenset(key.split(".", 1)[1] for key in exc.fields if key.startswith("custom_fields."))


def _topic(value: str | None) -> HelpTopic | None:
    if not value or not value.isdigit():
        return None
    return HelpTopic.objects.select_related("parent").filter(pk=int(value)).first()


def new_ticket_topic_section(request, data: QueryDict, invalid: frozenset[str]) -> str:
    """The new-ticket form's help-topic select and the chosen topic's fields, with the values sent (kept
    when the topic changes or the form comes back refused, `invalid` naming the fields it refused)."""
    topic = _topic(data.get("help_topic"))
    form_id = topic_form_id(topic) if topic is not None else None
    specs = form_specs(form_id) if form_id is not None else None
    context = {
        "topics": help_topics_for_agents(),
        "topic": topic,
        "form_name": specs.name if specs else "",
        "inputs": field_inputs(specs.fields, submitted_values(data), "agent") if specs else [],
        "invalid": invalid,
    }
    return render_to_string("routing/new_ticket_topic.html", context, request=request)


@agent_view
@require_GET
def new_ticket_topic(request) -> HttpResponse:
    """GET: the help-topic section again, for the topic just chosen (htmx swaps it in on change)."""
    return HttpResponse(new_ticket_topic_section(request, request.GET, frozenset()))


@agent_view
@require_GET
def queue_help_topic_filter(request) -> HttpResponse:
    """GET: the queue filter's Help topic select, with the topics chosen in `?help_topic=` selected (an
    id that is no topic is named, so the agent knows why the queue is empty)."""
    chosen = [value for value in request.GET.getlist("help_topic") if value]
    choices = topic_choices()
    known = {str(pk) for pk, _label in choices} | {"0"}
    unknown = [value for value in chosen if value not in known]
    context = {
        "choices": choices,
        "chosen": set(chosen),
        "error": (
            f"There is no help topic {', '.join(unknown)} among those you can filter by; "
            "choose from the list."
            if unknown
            else ""
        ),
    }
    return render(request, "routing/queue_topic_filter.html", context)


def _panel(
    request,
    ticket: Ticket,
    *,
    error: str = "",
    notice: str = "",
    editing: bool = False,
    status: int = 200,
    invalid: frozenset[str] = frozenset(),
    chosen_topic: str | None = None,
) -> HttpResponse:
    topic = ticket_topic(ticket.pk)
    specs = form_specs(topic_form_id(topic) if topic is not None else None)
    values = ticket.custom_fields or {}
    can_edit = agent_can(request.agent, Perm.EDIT, ticket)
    fields = specs.fields if topic is not None else tuple(s for s in specs.fields if s.name in values)
    if editing and can_edit:
        sent = submitted_values(request.POST, fields) if request.method == "POST" else values
        inputs = field_inputs(fields, sent, "agent")
    else:
        inputs = []
    context = {
        "ticket": ticket,
        "topic": topic,
        "form_name": specs.name,
        "rows": display_rows(fields, values, "agent"),
        "inputs": inputs,
        "editing": editing and can_edit and bool(fields),
        "can_edit": can_edit and bool(fields),
        "error": error,
        "notice": notice,
        "invalid": invalid,
        # The chooser: offered to whoever may edit the ticket, at the version this panel was read at.
        "topics": help_topics_for_agents() if can_edit and not editing else [],
        "chosen_topic": chosen_topic if chosen_topic is not None else str(topic.pk if topic else ""),
    }
    response = render(request, "routing/ticket_fields_panel.html", context, status=status)
    if status >= 400:
        # htmx swaps a 4xx only when told (socdesk/static/socdesk/app.js): the panel shows the sentence.
        response["HX-Reswap"] = "outerHTML"
    return response


@agent_view
@require_http_methods(["GET", "POST"])
def ticket_fields_panel(request, number: str) -> HttpResponse:
    """GET: the ticket's help topic and custom fields (?edit=1: as a form). POST: save the form."""
    ticket = ticket_get_for_agent(request.agent, number)
    if request.method == "GET":
        return _panel(request, ticket, editing=request.GET.get("edit") == "1")
    topic = ticket_topic(ticket.pk)
    specs = form_specs(topic_form_id(topic) if topic is not None else None)
    values = ticket.custom_fields or {}
    fields = specs.fields if topic is not None else tuple(s for s in specs.fields if s.name in values)
    try:
        ticket = ticket_set_custom_fields(
            actor=request.actor,
            ticket=ticket,
            values=submitted_values(request.POST, [s for s in fields if s.visible_to("agent")]),
        )
    except ServiceError as exc:
        if exc.message.startswith("Nothing to change"):
            return _panel(request, ticket, notice=exc.message)
        return _panel(request, ticket, error=exc.message, editing=True, status=STATUS_FOR.get(type(exc), 400))
    return _panel(request, ticket, notice="Custom fields saved.")


# The ticket page re-reads its main part on this event (socdesk/templates/tickets/ticket.html): a new
# topic moves the version every other form there carries, and may move the SLA clock.
TICKET_CHANGED_EVENT = "ticket-changed"


def _chosen_topic(value: str) -> HelpTopic | None:
    """The topic picked in the chooser ("" for none); ServiceError for one that is not offered."""
    if not value:
        return None
    topic = next((t for t in help_topics_for_agents() if str(t.pk) == value), None)
    if topic is None:
        raise ServiceError(
            f"There is no help topic {value!r} to choose; pick one from the list.",
            fields={"help_topic": "unknown"},
        )
    return topic


def _version(value: str | None) -> int:
    if not value or not value.isdigit():
        raise ServiceError(
            "The form came without the ticket's version; reload the ticket and choose the topic again.",
            fields={"version": "required"},
        )
    return int(value)


@agent_view
@require_POST
def ticket_help_topic(request, number: str) -> HttpResponse:
    """POST: put the ticket on the chosen help topic (the panel's chooser), refusing a stale version."""
    ticket = ticket_get_for_agent(request.agent, number)
    chosen = request.POST.get("help_topic", "").strip()
    try:
        ticket = ticket_set_help_topic(
            actor=request.actor,
            ticket=ticket,
            topic=_chosen_topic(chosen),
            expected_version=_version(request.POST.get("version")),
        )
    except ServiceError as exc:
        fresh = ticket_get_for_agent(request.agent, number)
        if exc.message.startswith("Nothing to change"):
            return _panel(request, fresh, notice=exc.message)
        # The chooser keeps the pick but carries the version now stored: the sentence said what changed,
        # so a second submit is a deliberate decision.
        return _panel(
            request, fresh, error=exc.message, status=STATUS_FOR.get(type(exc), 400), chosen_topic=chosen
        )
    topic = ticket_topic(ticket.pk)
    message = f"Help topic set to {topic.name}." if topic else "Help topic removed."
    messages.success(request, message)
    if not request.htmx:
        return redirect("tickets:detail", number=ticket.number)
    response = _panel(request, ticket, notice=message)
    response["HX-Trigger"] = TICKET_CHANGED_EVENT
    return response
