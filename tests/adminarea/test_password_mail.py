"""The set-password link goes out by real SMTP when outbound mail is configured (aiosmtpd on loopback),
is only shown when it is not, and a mail server that refuses leaves the agent created and the link shown."""

from __future__ import annotations

import re
from email import message_from_bytes

from socdesk.accounts.models import Agent
from socdesk.audit.models import AuditEvent
from tests.adminarea.test_agents import agent_form
from tests.console_helpers import client_for
from tests.core.processes import free_port


def test_the_link_is_mailed_over_smtp_and_shown(people, smtp):
    response = client_for(people.admin).post("/admin-area/agents/new", agent_form(people))
    page = response.content.decode()
    link = re.search(r'value="(http://testserver/account/set-password/[^"]+)"', page)[1]
    assert "The link was mailed to dana@example.test." in page
    [(recipients, raw)] = smtp.messages
    message = message_from_bytes(raw)
    assert recipients == ["dana@example.test"] and message["Subject"] == "Set your SOCdesk password"
    assert link in message.get_payload(decode=True).decode()
    event = AuditEvent.objects.get(action="agent.password_link_issued")
    assert event.after["mailed_to"] == "dana@example.test" and link not in str(event.after)


def test_without_outbound_mail_the_link_is_only_shown(people, settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    page = client_for(people.admin).post("/admin-area/agents/new", agent_form(people)).content.decode()
    assert "Outbound mail is not configured" in page and "/account/set-password/" in page


def test_a_refusing_mail_server_still_creates_the_agent_and_shows_the_link(people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    page = client_for(people.admin).post("/admin-area/agents/new", agent_form(people)).content.decode()
    assert Agent.objects.filter(user__username="dana").exists()
    assert "Mailing the link to dana@example.test failed" in page and "/account/set-password/" in page
