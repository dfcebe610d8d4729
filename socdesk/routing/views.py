"""Console pages of routing: the help-topic section of the new-ticket form and the ticket page's panel
of its topic and custom fields (both swapped in by htmx; tickets' templates only name their URLs)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from socdesk.accounts.choices import Perm
from socdesk.accounts.selectors import agent_can
from socdesk.accounts.web import agent_view
from socdesk.core.errors import ServiceError
from socdesk.core.json_errors import STATUS_FOR
from socdesk.routing.console import display_rows, field_inputs, submitted_values
from socdesk.routing.models import HelpTopic
from socdesk.routing.selectors import form_specs, help_topics_for_agents, ticket_topic, topic_form_id
from socdesk.routing.services.ticket_fields import ticket_set_custom_fields
from socdesk.tickets.models import Ticket
from socdesk.tickets.selectors import ticket_get_for_agent


def _invalid(exc: ServiceError) -> frozenset[str]:
    """The custom fields a refusal names (its fields are `custom_fields.<name>`)."""
    return frozenset(key.split(".", 1)[1] for key in exc.fields if key.startswith("custom_fields."))


def _topic(value: str | None) -> HelpTopic | None:
    if not value or not value.isdigit():
        return None
    return HelpTopic.objects.select_related("parent").filter(pk=int(value)).first()


@agent_view
@require_GET
def new_ticket_topic(request) -> HttpResponse:
    """GET: the help-topic select and the chosen topic's fields, with the values sent (kept when the topic
    changes or the new-ticket form comes back with an error)."""
    topic = _topic(request.GET.get("help_topic"))
    form_id = topic_form_id(topic) if topic is not None else None
    specs = form_specs(form_id) if form_id is not None else None
    context = {
        "topics": help_topics_for_agents(),
        "topic": topic,
        "form_name": specs.name if specs else "",
        "inputs": field_inputs(specs.fields, submitted_values(request.GET), "agent") if specs else [],
        # Fields the new-ticket form's refused post named (the tickets view passes them back).
        "invalid": frozenset(request.GET.get("invalid_fields", "").split(",")),
    }
    return render(request, "routing/new_ticket_topic.html", context)


def _panel(
    request,
    ticket: Ticket,
    *,
    error: str = "",
    notice: str = "",
    editing: bool = False,
    status: int = 200,
    invalid: frozenset[str] = frozenset(),
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
    }
    return render(request, "routing/ticket_fields_panel.html", context, status=status)


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
        response = _panel(
            request, ticket, error=exc.message, editing=True, status=STATUS_FOR.get(type(exc), 400)
        )
        # htmx swaps a 4xx only when told (socdesk/static/socdesk/app.js): the panel shows the sentence.
        response["HX-Reswap"] = "outerHTML"
        return response
    return _panel(request, ticket, notice="Custom fields saved.")
