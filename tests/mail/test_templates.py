"""Mail templates: code defaults, a global template, a department's override, the check at save (part,
line and error; nothing written), the sandbox, the preview and the admin pages."""

from __future__ import annotations

import re

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.mail.mail_templates import (
    REPLY_MARKER,
    TemplateSource,
    mail_render,
    mail_template_reset,
    mail_template_save,
    template_check,
)
from socdesk.mail.models import MailTemplate, OutboundMessage
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create, ticket_reply
from tests.console_helpers import client_for

SETUP = Actor.system("test-setup")
pytestmark = pytest.mark.django_db

CUSTOM = TemplateSource(
    subject="Ticket {{ ticket.number }}: we are on it",
    text_body="Dear {{ requester.name }}, {{ department.name }} has {{ ticket.number }} "
    "({{ ticket.status }}).",
    html_body="<p>Dear {{ requester.name }}, see {{ ticket.link }}</p>",
)


@pytest.fixture(autouse=True)
def _mail_delivers(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SOCDESK_BASE_URL = "https://soc.example.test"


def open_ticket(people, department=None, subject="Odd login prompt") -> Ticket:
    return ticket_create(
        actor=Actor.for_agent(people.admin),
        subject=subject,
        department=department or people.soc,
        body="A page asked for my password <twice>.",
        requester_email="pat@example.test",
        requester_name="Pat <Doe>",
    )


def auto_response(ticket) -> OutboundMessage:
    return OutboundMessage.objects.get(ticket=ticket, kind="auto_response")


def test_the_defaults_carry_the_reply_marker_and_the_token(people):
    ticket = open_ticket(people)
    message = auto_response(ticket)
    assert message.subject == f"[#{ticket.number}] Odd login prompt"
    assert message.body.startswith(REPLY_MARKER) and message.html.count(REPLY_MARKER) == 1
    entry = ticket_reply(actor=Actor.for_agent(people.alice), ticket=ticket, body="Blocked <it>.")
    reply = OutboundMessage.objects.get(entry=entry)
    assert reply.subject == f"Re: Odd login prompt [#{ticket.number}]"
    assert reply.body.startswith(f"{REPLY_MARKER}\n\nBlocked <it>.\n")
    assert "Blocked &lt;it&gt;." in reply.html  # values are escaped in HTML, never in text


def test_a_global_template_is_used_and_a_departments_own_overrides_it_there(people):
    mail_template_save(actor=SETUP, kind="auto_response", department=None, source=CUSTOM)
    own = TemplateSource(subject="IT got it", text_body="IT: {{ ticket.number }}", html_body="")
    mail_template_save(actor=SETUP, kind="auto_response", department=people.it, source=own)

    soc = open_ticket(people)
    message = auto_response(soc)
    # The [#number] token is added: replies find their ticket by it.
    assert message.subject == f"Ticket {soc.number}: we are on it [#{soc.number}]"
    assert message.body == f"Dear Pat <Doe>, SOC has {soc.number} (New)."
    assert message.html == f"<p>Dear Pat &lt;Doe&gt;, see https://soc.example.test/tickets/{soc.number}/</p>"

    it = open_ticket(people, department=people.it)
    message = auto_response(it)
    assert (message.subject, message.body, message.html) == (
        f"IT got it [#{it.number}]",
        f"IT: {it.number}",
        "",
    )

    assert mail_template_reset(actor=SETUP, kind="auto_response", department=people.it) is True
    assert auto_response(open_ticket(people, department=people.it)).subject.startswith("Ticket ")
    assert mail_template_reset(actor=SETUP, kind="auto_response", department=people.it) is False
    actions = list(
        AuditEvent.objects.filter(action__startswith="mail_template.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["mail_template.reset", "mail_template.saved", "mail_template.saved"]


def test_saving_again_replaces_the_row_and_records_what_it_was(people):
    mail_template_save(actor=SETUP, kind="reply", department=None, source=CUSTOM)
    changed = TemplateSource(subject="Re: {{ ticket.subject }}", text_body="{{ message }}", html_body="")
    mail_template_save(actor=SETUP, kind="reply", department=None, source=changed)
    row = MailTemplate.objects.get()
    assert (row.subject, row.text_body, row.html_body) == (changed.subject, changed.text_body, "")
    last = AuditEvent.objects.filter(action="mail_template.saved").order_by("id").last()
    assert last.before["subject"] == CUSTOM.subject and last.after["subject"] == changed.subject


@pytest.mark.parametrize(
    "source, field, sentence",
    [
        (
            TemplateSource("Hi", "Line one\n{% if ticket.number %}\nno end", ""),
            "text_body",
            "The text body has an error on line 2: Unclosed tag on line 2: 'if'",
        ),
        (
            TemplateSource("{{ ticket.number|nosuchfilter }}", "x", ""),
            "subject",
            "Invalid filter: 'nosuchfilter'",
        ),
        (
            TemplateSource("Hi", "x", "<p>\n{% load static %}</p>"),
            "html_body",
            "'static' is not a registered tag library",
        ),
        (TemplateSource("Hi", "x", "{% include 'base.html' %}"), "html_body", "base.html"),
        (TemplateSource("", "x", ""), "subject", "The subject is empty"),
        (TemplateSource("Hi", "  ", ""), "text_body", "The text body is empty"),
    ],
)
def test_a_template_that_cannot_render_is_refused_and_nothing_is_written(people, source, field, sentence):
    with pytest.raises(ServiceError) as refused:
        mail_template_save(actor=SETUP, kind="auto_response", department=None, source=source)
    assert sentence in refused.value.fields[field]
    assert not MailTemplate.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="mail_template.").exists()


def test_an_unknown_kind_is_refused(people):
    with pytest.raises(ServiceError, match="no mail template 'digest'"):
        mail_template_save(actor=SETUP, kind="digest", department=None, source=CUSTOM)


def test_a_template_sees_the_documented_values_only(people):
    sneaky = TemplateSource(
        subject="{{ ticket.number }}",
        text_body="[{{ settings.SECRET_KEY }}][{{ ticket.requester.user.password }}][{{ request }}]",
        html_body="",
    )
    mail_template_save(actor=SETUP, kind="auto_response", department=None, source=sneaky)
    assert auto_response(open_ticket(people)).body == "[][][]"


def test_a_subject_renders_to_one_line(people):
    mail_template_save(
        actor=SETUP,
        kind="auto_response",
        department=None,
        source=TemplateSource("{{ ticket.subject }}\nBcc: x@evil.test", "x", ""),
    )
    ticket = open_ticket(people, subject="Beacon")
    assert auto_response(ticket).subject == f"Beacon Bcc: x@evil.test [#{ticket.number}]"


def test_the_check_renders_the_sample_ticket():
    rendered = template_check(CUSTOM)
    assert rendered.subject == "Ticket SOC-1042: we are on it"  # the preview shows the template as written
    assert rendered.text == "Dear Dana Requester, SOC has SOC-1042 (New)."


def test_the_reply_template_gets_the_agent_and_the_message(people):
    mail_template_save(
        actor=SETUP,
        kind="reply",
        department=None,
        source=TemplateSource("Re: {{ ticket.subject }}", "{{ agent.name }} wrote: {{ message }}", ""),
    )
    ticket = open_ticket(people)
    rendered = mail_render("reply", ticket, agent=people.alice, message="Done.")
    assert rendered.text == f"{people.alice.name} wrote: Done."


# --- the admin pages ----------------------------------------------------------------------------------


def test_the_list_says_which_template_is_in_use(people):
    mail_template_save(actor=SETUP, kind="reply", department=people.it, source=CUSTOM)
    page = client_for(people.admin).get("/admin-area/mail-templates").content.decode()
    assert "New ticket: auto-response" in page and "Agent&#x27;s reply" in page
    assert "its own" in page and "the default" in page
    assert f'href="/admin-area/mail-templates/reply/{people.it.pk}"' in page


def test_the_edit_page_previews_saves_refuses_and_resets(people):
    admin = client_for(people.admin)
    url = f"/admin-area/mail-templates/auto_response/{people.soc.pk}"
    page = admin.get(url).content.decode()
    assert "In use now: the default." in page and "SOC-1042" in page and "{{ ticket.number }}" in page

    form = {"subject": CUSTOM.subject, "text_body": CUSTOM.text_body, "html_body": CUSTOM.html_body}
    preview = admin.post(url, {**form, "action": "preview"}).content.decode()
    assert (
        "Ticket SOC-1042: we are on it" in preview
        and "Dear Dana Requester, SOC has SOC-1042 (New)." in preview
    )
    assert not MailTemplate.objects.exists()  # a preview writes nothing

    bad = admin.post(url, {**form, "text_body": "ok\n{% for x in %}", "action": "save"})
    assert bad.status_code == 400
    assert re.search(r"The text body has an error on line 2: .*for", bad.content.decode())
    assert not MailTemplate.objects.exists()

    saved = admin.post(url, {**form, "action": "save"}, follow=True).content.decode()
    assert "Template saved" in saved and "In use now: the department&#x27;s own." in saved
    row = MailTemplate.objects.get()
    assert (row.kind, row.department, row.subject) == ("auto_response", people.soc, CUSTOM.subject)
    assert AuditEvent.objects.get(action="mail_template.saved").actor_label == "admin"

    reset = admin.post(url, {"action": "reset"}, follow=True).content.decode()
    assert "Back to the default" in reset and not MailTemplate.objects.exists()


def test_the_template_pages_are_a_404_for_agents_and_for_unknown_kinds(people):
    alice = client_for(people.alice)
    assert alice.get("/admin-area/mail-templates").status_code == 404
    assert alice.get("/admin-area/mail-templates/reply/0").status_code == 404
    assert (
        alice.post("/admin-area/mail-templates/reply/0", {**CUSTOM.__dict__, "action": "save"}).status_code
        == 404
    )
    assert not MailTemplate.objects.exists()
    admin = client_for(people.admin)
    assert admin.get("/admin-area/mail-templates/digest/0").status_code == 404
    assert admin.get("/admin-area/mail-templates/reply/999999").status_code == 404
