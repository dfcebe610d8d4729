"""The custom forms editor in a real Chromium, under the Content-Security-Policy: a form made with a choice
field and a required one, a refused field shown next to what is wrong, the form picked on a help topic's
page, and the console's new-ticket form asking for its fields once that topic is chosen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.routing.models import CustomField, CustomForm
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from tests.browser.conftest import htmx_settled, sign_in
from tests.browser.test_admin_area_browser import DESKTOP, PHONE, no_sideways_scroll
from tests.browser.test_csp_browser import PolicyWatch

pytestmark = pytest.mark.browser


def test_a_custom_form_made_in_the_admin_area_reaches_the_new_ticket_form(
    page, live_server, cast, screenshots
):
    help_topic_create(
        actor=Actor.system("test-setup"),
        definition=TopicDefinition(name="Phishing", department=cast.soc, severity="high"),
    )
    base = live_server.url
    watch = PolicyWatch(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    watch.visit(f"{base}/admin-area/")
    page.get_by_role("navigation", name="Admin area").get_by_role("link", name="Custom forms").click()
    expect(page.locator("table.admin-list")).to_contain_text("No custom forms yet")

    page.get_by_role("link", name="New form").click()
    watch.check(screenshots / "admin-area-custom-form-new.png")
    page.get_by_label("Name").fill("Phishing details")
    page.get_by_label("Description").fill("What the analyst needs to triage a reported mail.")
    page.get_by_role("button", name="Create form").click()
    page.wait_for_url(re.compile(r".*/admin-area/custom-forms/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("Custom form Phishing details created")

    # A choice field, its machine name made from the label.
    page.get_by_role("link", name="Add field").click()
    page.get_by_label("Label").fill("Business impact")
    page.get_by_label("Type").select_option(label="Choice")
    page.get_by_label("Choices").fill("Low\nMedium\nHigh")
    page.get_by_label("Help text").fill("As the reporter sees it.")
    page.get_by_label("Agents must fill it").check()
    watch.check(screenshots / "admin-area-custom-field-new.png")
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_role("status")).to_contain_text("Field Business impact saved.")

    # A refused field says what to fix next to it and keeps what was typed.
    page.get_by_role("link", name="Add field").click()
    page.get_by_label("Label").fill("Sender address")
    page.get_by_label("Type").select_option(label="Email address")
    page.get_by_label("End users see it").uncheck()
    page.get_by_label("End users must fill it").check()
    page.get_by_role("button", name="Add field").click()
    expect(page.locator(".field.invalid .field-error")).to_contain_text(
        "a field hidden from end users cannot be required of them."
    )
    expect(page.get_by_label("Label")).to_have_value("Sender address")
    watch.check(screenshots / "admin-area-custom-field-refused.png")
    assert CustomField.objects.count() == 1
    page.get_by_label("End users must fill it").uncheck()
    page.get_by_role("button", name="Add field").click()
    expect(page.locator("table.custom-fields")).to_contain_text("sender_address")

    rows = page.locator("table.custom-fields tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Business impact")
    expect(rows.nth(0)).to_contain_text("Low, Medium, High")
    expect(rows.nth(1)).to_contain_text("Email address")
    watch.check(screenshots / "admin-area-custom-form-edit.png")
    page.set_viewport_size(PHONE)
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / "admin-area-custom-form-edit-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)

    # Picked on the help topic's page.
    page.get_by_role("navigation", name="Admin area").get_by_role("link", name="Help topics").click()
    page.get_by_role("link", name="Phishing").click()
    page.get_by_label("Custom form").select_option(label="Phishing details")
    watch.check(screenshots / "admin-area-help-topic-custom-form.png")
    page.get_by_role("button", name="Save help topic").click()
    expect(page.locator("table.admin-list")).to_contain_text("Phishing details")
    watch.check(screenshots / "admin-area-help-topics-custom-form.png")

    page.get_by_role("navigation", name="Admin area").get_by_role("link", name="Custom forms").click()
    row = page.locator("table.admin-list tbody tr", has_text="Phishing details")
    expect(row).to_contain_text("Phishing")
    expect(row.locator("td").nth(1)).to_have_text("2")
    watch.check(screenshots / "admin-area-custom-forms.png")
    form = CustomForm.objects.get()
    assert AuditEvent.objects.filter(action="custom_field.created").count() == 2
    assert form.topics.get().name == "Phishing"

    # The console's new-ticket form asks for the fields once the topic is chosen.
    page.goto(f"{base}/tickets/new")
    page.get_by_label("Department").select_option(label="SOC")
    expect(page.get_by_label("Help topic")).to_be_visible()
    htmx_settled(page)  # the help-topic select was just swapped in
    page.get_by_label("Help topic").select_option(label="Phishing")
    impact = page.get_by_label("Business impact *")
    expect(impact).to_be_visible()
    expect(impact.locator("option")).to_contain_text(["Low", "Medium", "High"])
    expect(page.get_by_label("Sender address")).to_be_visible()
    watch.check(screenshots / "custom-form-new-ticket.png")

    # Deleting asks first; a form a help topic uses is refused and kept.
    watch.visit(f"{base}/admin-area/custom-forms/{form.pk}")
    page.get_by_role("link", name="Delete Sender address").click()
    expect(page.get_by_role("heading")).to_have_text("Delete the field Sender address from Phishing details?")
    watch.check(screenshots / "admin-area-custom-field-delete.png")
    page.get_by_role("button", name="Delete the field").click()
    expect(page.get_by_role("status")).to_contain_text("Field Sender address deleted.")
    expect(page.locator("table.custom-fields tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Delete this form").click()
    expect(page.get_by_role("alert")).to_contain_text("Phishing use this form: give them another form first")
    watch.check(screenshots / "admin-area-custom-form-delete.png")
    page.get_by_role("button", name="Delete the form").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Custom form 'Phishing details' is used by help topic(s) Phishing; give them another form first."
    )
    watch.check(screenshots / "admin-area-custom-form-delete-refused.png")
    assert CustomForm.objects.filter(pk=form.pk).exists()
    assert list(form.fields.values_list("name", flat=True)) == ["business_impact"]
