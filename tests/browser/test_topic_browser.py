"""In a real Chromium: an agent changes a ticket's help topic while a reply is half-written; the new
topic's fields appear, the draft stays, and the rest of the page is at the new version. Then the queue
is filtered by help topic, from its filter and with `topic:` in the search box."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.routing.models import TicketTopic
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_change_severity, ticket_create
from tests.browser.conftest import sign_in
from tests.routing.fixtures_forms import incident_topic, malware_topic, topic_ticket

pytestmark = pytest.mark.browser

DRAFT = "Sandbox verdict pending; the attachment drops a loader."


def test_changing_the_topic_keeps_the_draft_and_the_queue_filters_by_topic(
    page, live_server, cast, screenshots
):
    setup = incident_topic(cast)
    malware = malware_topic()
    ticket = topic_ticket(cast, setup.topic, subject="Invoice attachment opened", host_ip="10.20.0.7")
    ticket_create(actor=Actor.for_agent(cast.alice), subject="VPN brute force", department=cast.soc)
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.set_viewport_size({"width": 1440, "height": 1000})
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    page.get_by_label("Message").fill(DRAFT)

    panel = page.locator("#custom-fields-panel")
    expect(panel.get_by_text("Host IP")).to_be_visible()
    chooser = panel.get_by_label("Help topic")
    expect(chooser).to_have_value(str(setup.topic.pk))
    chooser.select_option(label="Malware")
    # Bob changes the ticket meanwhile: the topic change is refused in the panel, the draft stays.
    ticket_change_severity(actor=Actor.for_agent(cast.bob), ticket=ticket, severity="medium")
    panel.get_by_role("button", name="Change topic").click()
    expect(page.locator("#custom-fields-panel [role=alert]")).to_contain_text("changed since you loaded it")
    expect(page.get_by_label("Message")).to_have_value(DRAFT)
    page.screenshot(path=screenshots / "topic-change-refused-stale.png", full_page=True)
    assert TicketTopic.objects.get(ticket=ticket).topic == setup.topic
    # The panel now carries the stored version and the pick: a second submit is deliberate.
    page.locator("#custom-fields-panel").get_by_role("button", name="Change topic").click()

    # The new topic's form, the page's main part re-read with the message, and the draft kept.
    expect(page.locator("#custom-fields-panel").get_by_text("Malware family")).to_be_visible()
    expect(page.get_by_text("Help topic set to Malware.")).to_be_visible()
    expect(page.locator(".history-list")).to_contain_text("changed the help topic")
    expect(page.get_by_label("Message")).to_have_value(DRAFT)
    page.screenshot(path=screenshots / "topic-changed-draft-kept.png", full_page=True)
    assert TicketTopic.objects.get(ticket=ticket).topic == malware

    # Every other form is at the new version: a sidebar change right after goes through.
    page.locator("summary", has_text="Severity and tags").click()
    page.get_by_label("Severity").select_option(label="Critical")
    page.get_by_role("button", name="Set severity").click()
    expect(page.locator(".ticket-head .sev")).to_have_text("Critical")
    expect(page.get_by_label("Message")).to_have_value(DRAFT)
    assert Ticket.objects.get(pk=ticket.pk).severity == "critical"

    # The queue: the Help topic select arrives after the page; filtering keeps the choice.
    page.goto(f"{base}/tickets/?queue=all")
    topic_filter = page.locator("form.filters").get_by_label("Help topic")
    expect(topic_filter).to_be_visible()
    topic_filter.select_option(label="Malware")
    page.locator("form.filters").get_by_role("button", name="Filter").click()
    expect(page.locator("form.filters").get_by_label("Help topic")).to_have_value(str(malware.pk))
    expect(page.get_by_text("Invoice attachment opened")).to_be_visible()
    expect(page.get_by_text("VPN brute force")).to_have_count(0)
    page.screenshot(path=screenshots / "queue-help-topic-filter.png", full_page=True)

    page.goto(f"{base}/tickets/?queue=all")
    page.locator("[data-search]").fill("topic:none")
    page.locator("[data-search]").press("Enter")
    expect(page.get_by_text("VPN brute force")).to_be_visible()
    expect(page.get_by_text("Invoice attachment opened")).to_have_count(0)
    page.locator("[data-search-help] summary").click()
    expect(page.locator("[data-search-help]")).to_contain_text("a help topic by name")
    page.screenshot(path=screenshots / "queue-topic-search.png", full_page=True)
    # The refused change's 409 is the one failed load Chromium reports: no script error, no CSP refusal.
    assert [p for p in problems if "status of 409" not in p] == []
