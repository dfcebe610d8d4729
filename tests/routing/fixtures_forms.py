"""A help topic with a custom form, built through the services (shared by the forms tests)."""

from __future__ import annotations

from dataclasses import dataclass

from socdesk.core.actor import Actor
from socdesk.routing.models import CustomForm, HelpTopic
from socdesk.routing.services.forms import FieldDefinition, custom_field_create, custom_form_create
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft, ticket_create_many

SETUP = Actor.system("test-setup")


@dataclass
class IncidentTopic:
    form: CustomForm
    topic: HelpTopic


def incident_topic(people, **topic_overrides) -> IncidentTopic:
    """'Phishing' (SOC, Tier 1, high) with the form 'Incident details': host IP (required of agents),
    business impact (choice, required of end users), affected systems (multiple choice), seen at
    (date and time), confirmed (checkbox), analyst notes (hidden from end users)."""
    form = custom_form_create(actor=SETUP, name="Incident details")
    for order, definition in enumerate(
        [
            FieldDefinition(name="host_ip", label="Host IP", type="ip", agent_required=True),
            FieldDefinition(
                name="impact",
                label="Business impact",
                type="choice",
                choices=["Low", "High"],
                user_required=True,
            ),
            FieldDefinition(
                name="systems", label="Affected systems", type="multi_choice", choices=["mail", "vpn", "erp"]
            ),
            FieldDefinition(name="seen_at", label="First seen", type="datetime"),
            FieldDefinition(name="confirmed", label="Confirmed", type="checkbox"),
            FieldDefinition(name="notes", label="Analyst notes", type="long_text", user_visible=False),
        ]
    ):
        custom_field_create(
            actor=SETUP, form=form, definition=FieldDefinition(**{**definition.__dict__, "order": order})
        )
    values = {
        "name": "Phishing",
        "department": people.soc,
        "team": people.tier1,
        "severity": "high",
        "form": form,
    } | topic_overrides
    topic = help_topic_create(actor=SETUP, definition=TopicDefinition(**values))
    return IncidentTopic(form=form, topic=topic)


def malware_topic() -> HelpTopic:
    """'Malware' with the form 'Malware details': family (a choice)."""
    form = custom_form_create(actor=SETUP, name="Malware details")
    custom_field_create(
        actor=SETUP,
        form=form,
        definition=FieldDefinition(name="family", label="Malware family", type="choice", choices=["Emotet"]),
    )
    return help_topic_create(actor=SETUP, definition=TopicDefinition(name="Malware", form=form))


def topic_draft(people, topic: HelpTopic, *, actor: Actor | None = None, subject: str = "x", **values):
    """A draft in SOC on the topic, by alice unless another actor is given, with these custom values."""
    return TicketDraft(
        actor=actor or Actor.for_agent(people.alice),
        subject=subject,
        department=people.soc,
        help_topic=topic.pk,
        custom_fields=values,
    )


def topic_ticket(people, topic: HelpTopic, **values) -> Ticket:
    """A ticket opened by alice in SOC on the topic with these custom values."""
    return ticket_create_many([topic_draft(people, topic, **values)])[0]
