"""Help topics and custom forms on the one ticket path (registered first in `RoutingConfig.ready`).

Before a batch is written, each draft with a help topic gets the topic's defaults and the hints the
later routing steps read, and every draft's custom field values are checked against its form with the
one check (`custom_values.check_values`) and stored typed; after the write, the topic is linked to its
ticket (`TicketTopic`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.routing.custom_values import Audience, CheckedValues, check_values
from socdesk.routing.models import HelpTopic, TicketTopic
from socdesk.routing.selectors import FormSpecs, form_specs, topic_form_id
from socdesk.tickets.choices import Severity, Source
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft


def audience_of(actor: Actor) -> Audience:
    """Whose flags (required, visible) apply: end users', or agents' (agents, keys, system jobs)."""
    if actor.kind == "user":
        return "user"
    return "key" if actor.kind == "apikey" else "agent"


def topic_drafts_apply(drafts: list[TicketDraft]) -> None:
    """Apply help topics and check custom fields (the before-create hook; a channel that batches
    requests calls it on each request first, so a refused one fails alone). Safe to run twice."""
    wanted = {d.help_topic for d in drafts if d.help_topic is not None}
    topics = (
        HelpTopic.objects.select_related("parent", "department", "team", "agent__user").in_bulk(wanted)
        if wanted
        else {}
    )
    forms: dict[int | None, FormSpecs] = {}
    for draft in drafts:
        topic = None
        if draft.help_topic is not None:
            topic = topics.get(draft.help_topic)
            if topic is None:
                raise ServiceError(
                    f"There is no help topic with id {draft.help_topic}; pick an existing one.",
                    fields={"help_topic": "unknown"},
                )
            _apply_defaults(draft, topic)
        if topic is None and not draft.custom_fields:
            continue
        form_id = topic_form_id(topic) if topic is not None else None
        if form_id not in forms:
            forms[form_id] = form_specs(form_id)
        specs = forms[form_id]
        # An alert is never refused for a field it lacks, and its own fields that no form knows stay in
        # the alert (the ticket's `extra`) rather than refusing it.
        is_alert = draft.alert is not None or draft.source == Source.ALERT
        checked = check_values(
            specs.fields,
            draft.custom_fields or {},
            audience=audience_of(draft.actor),
            require=form_id is not None and not is_alert,
            unknown="drop" if is_alert else "refuse",
            form_name=specs.name,
            local_tz=timezone.get_current_timezone(),
        )
        if checked.errors:
            raise ServiceError(
                checked.message, fields={f"custom_fields.{name}": "invalid" for name in checked.errors}
            )
        draft.custom_fields = checked.values


def alert_custom_fields_check(values: dict[str, Any]) -> CheckedValues:
    """An alert's custom fields as its ticket will get them: those named like a custom field, checked
    by that field's type (for a channel that answers at once, before it stores the alert)."""
    return check_values(
        form_specs(None).fields, values, audience="key", require=False, unknown="drop", form_name=""
    )


def _apply_defaults(draft: TicketDraft, topic: HelpTopic) -> None:
    """The topic's department (where the channel picked none itself), team, agent and severity (where
    the draft kept the default), and the hints for the SLA and auto-response steps."""
    if topic.department is not None and draft.hints.get("department_default"):
        draft.department = topic.department
    if topic.department_id in (None, draft.department.pk):
        if draft.team is None and topic.team is not None:
            draft.team = topic.team
        if draft.assignee is None and topic.agent is not None:
            draft.assignee = topic.agent
    if topic.severity and draft.severity == Severity.MEDIUM:
        draft.severity = topic.severity
    # The SLA clock takes the topic's plan from here unless a ticket filter sets hints["sla_plan"].
    draft.hints["help_topic"] = topic.pk
    if not topic.auto_response:
        draft.hints.setdefault("suppress_autoresponse", True)


def topic_tickets_link(tickets: list[Ticket], drafts: list[TicketDraft], now: datetime) -> None:
    """Store the help topic of each new ticket that has one (a filter's choice wins over the draft's)."""
    links = []
    for ticket, draft in zip(tickets, drafts, strict=True):
        topic_id = draft.hints.get("help_topic") or draft.help_topic
        if topic_id:
            links.append(TicketTopic(ticket_id=ticket.pk, topic_id=topic_id))
    if links:
        TicketTopic.objects.bulk_create(links)
