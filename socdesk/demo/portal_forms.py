"""The demo's portal forms: three help topics with their custom forms, as an administrator would set
them up (through the routing services), so the requester portal offers them out of the box."""

from __future__ import annotations

from socdesk.accounts.models import Department
from socdesk.demo.people import SETUP
from socdesk.routing.models import CustomForm, HelpTopic
from socdesk.routing.services.forms import FieldDefinition, custom_field_create, custom_form_create
from socdesk.routing.services.topics import TopicDefinition, help_topic_create

# (topic, department, severity, form description, fields). A field named `suspicious_email` makes the
# portal ask for the message itself (a .eml file or the pasted headers and text): docs/portal.md.
PORTAL_FORMS: list[tuple[str, str, str, str, list[FieldDefinition]]] = [
    (
        "Report a suspicious e-mail",
        "SOC",
        "medium",
        "A message that looks like phishing, sent to the SOC with its headers.",
        [
            FieldDefinition(
                name="suspicious_email",
                label="The suspicious e-mail (headers and text)",
                type="long_text",
                help_text="Pasted by the requester when they cannot attach the .eml file.",
                agent_visible=False,
                order=0,
            ),
            FieldDefinition(
                name="clicked_link",
                label="Did you click a link or open an attachment?",
                type="choice",
                choices=["No", "I clicked a link", "I opened an attachment", "I entered my password"],
                user_required=True,
                order=1,
            ),
        ],
    ),
    (
        "Report a lost or stolen device",
        "IT Help Desk",
        "high",
        "A laptop, phone or token that is missing.",
        [
            FieldDefinition(
                name="device_type",
                label="Device",
                type="choice",
                choices=["Laptop", "Phone", "Tablet", "Security key", "Other"],
                user_required=True,
                order=0,
            ),
            FieldDefinition(name="asset_tag", label="Asset tag, if you know it", type="text", order=1),
            FieldDefinition(
                name="lost_at",
                label="When did you last have it?",
                type="datetime",
                user_required=True,
                order=2,
            ),
            FieldDefinition(name="stolen", label="I think it was stolen", type="checkbox", order=3),
        ],
    ),
    (
        "Request access",
        "IT Help Desk",
        "low",
        "Access to a system, share or application.",
        [
            FieldDefinition(
                name="system", label="System or application", type="text", user_required=True, order=0
            ),
            FieldDefinition(
                name="access_level",
                label="Access needed",
                type="choice",
                choices=["Read", "Write", "Administrator"],
                user_required=True,
                order=1,
            ),
            FieldDefinition(name="approver", label="Your manager's e-mail address", type="email", order=2),
        ],
    ),
]


def portal_forms_create(departments: dict[str, Department]) -> list[HelpTopic]:
    """Create the three portal topics and forms (existing ones with the same names are kept)."""
    topics = []
    for name, department, severity, description, fields in PORTAL_FORMS:
        existing = HelpTopic.objects.filter(name=name, parent=None).first()
        if existing is not None:
            topics.append(existing)
            continue
        form = CustomForm.objects.filter(name=name).first()
        if form is None:
            form = custom_form_create(actor=SETUP, name=name, description=description)
            for definition in fields:
                custom_field_create(actor=SETUP, form=form, definition=definition)
        topics.append(
            help_topic_create(
                actor=SETUP,
                definition=TopicDefinition(
                    name=name,
                    department=departments.get(department),
                    severity=severity,
                    portal_visible=True,
                    form=form,
                ),
            )
        )
    return topics
