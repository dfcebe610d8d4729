"""A ticket's help topic and custom field values after it is opened: values checked against its help
topic's form and stored through the tickets service; both audited with before and after."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.routing.custom_values import check_values, is_empty
from socdesk.routing.models import HelpTopic, TicketTopic
from socdesk.routing.selectors import form_specs, ticket_topic, topic_form_id
from socdesk.routing.topic_hooks import audience_of
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_store_custom_values
from socdesk.tickets.services.steps import (
    check_version,
    lock_ticket,
    record_ticket_event,
    require_perm,
    touch,
)


@transaction.atomic
def ticket_set_custom_fields(
    *,
    actor: Actor,
    ticket: Ticket,
    values: Mapping[str, Any],
    expected_version: int | None = None,
) -> Ticket:
    """Set (or, with an empty value, clear) some of a ticket's custom fields; the others stay.

    Checked like a new ticket's values, for the actor's audience; a field required of that audience
    cannot be cleared. Needs the edit permission in the ticket's department.
    """
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.EDIT, ticket)
    topic = ticket_topic(ticket.pk)
    specs = form_specs(topic_form_id(topic) if topic is not None else None)
    audience = audience_of(actor)
    checked = check_values(
        specs.fields,
        values,
        audience=audience,
        require=False,
        form_name=specs.name,
        local_tz=timezone.get_current_timezone(),
    )
    errors = dict(checked.errors)
    changes: dict[str, Any] = {}
    by_name = {spec.name: spec for spec in specs.fields}
    for raw_name, value in values.items():
        name = str(raw_name).strip().lower()
        if name in errors:
            continue
        if is_empty(value):
            if specs.name and by_name[name].required_of(audience):
                errors[name] = f"Custom field {by_name[name].title} is required; it cannot be cleared."
            changes[name] = None
        else:
            changes[name] = checked.values[name]
    if errors:
        raise ServiceError(
            " ".join(errors.values()), fields={f"custom_fields.{n}": "invalid" for n in errors}
        )
    return ticket_store_custom_values(
        actor=actor, ticket=ticket, changes=changes, labels=specs.labels, expected_version=expected_version
    )


@transaction.atomic
def ticket_set_help_topic(
    *, actor: Actor, ticket: Ticket, topic: HelpTopic | None, expected_version: int | None = None
) -> Ticket:
    """Put a ticket on another help topic (None: none), audited as `ticket.help_topic_changed`.

    Only the topic changes: its defaults were for the opening, the values already held stay (they are
    checked against the new topic's form when next changed). The ticket's version moves, so an edit
    based on the page as it was before is refused like any other stale edit. The SLA clock follows the
    new topic's plan unless a filter chose the plan (socdesk.routing.services.sla_clocks, after-change
    hook): filter, else help topic, else department, else the default plan.
    """
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.EDIT, ticket)
    check_version(ticket, expected_version)
    current = ticket_topic(ticket.pk)
    if (current.pk if current else None) == (topic.pk if topic else None):
        raise ServiceError("Nothing to change: the ticket is already on that help topic.")
    if topic is None:
        TicketTopic.objects.filter(ticket=ticket).delete()
    else:
        TicketTopic.objects.update_or_create(ticket=ticket, defaults={"topic": topic})
    touch(ticket, actor, timezone.now())
    ticket.save(update_fields=["version", "last_activity_at", "acknowledged_at"])
    record_ticket_event(
        actor,
        "ticket.help_topic_changed",
        ticket,
        before={"help_topic": current.pk if current else None},
        after={"help_topic": topic.pk if topic else None},
    )
    return ticket
