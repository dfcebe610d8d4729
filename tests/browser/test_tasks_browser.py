"""In a real Chromium: the ticket's checklist (apply a playbook, tick a task done, skip one with a reason,
move one with the keyboard, add one, open its notes), the resolve refusal naming the open task, and the
My tasks queue."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.cases.selectors import ticket_tasks
from socdesk.core.actor import Actor
from socdesk.tickets import services
from tests.browser.conftest import htmx_settled, sign_in
from tests.cases.helpers import make_playbook

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_checklist_and_my_tasks(page, live_server, cast, screenshots, width, height):
    make_playbook()
    ticket = services.ticket_create(
        actor=Actor.for_agent(cast.alice),
        subject="Fwd: invoice overdue (phishing?)",
        department=cast.soc,
        body="Reported by Pat in finance.",
        requester_email="pat@finance.example.test",
    )
    base = live_server.url
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    panel = page.locator("#tasks-panel")
    expect(panel).to_contain_text("No tasks yet.")
    panel.get_by_role("button", name="Apply playbook").click()
    htmx_settled(page)
    panel = page.locator("#tasks-panel")
    expect(panel.get_by_role("status")).to_contain_text(
        "Playbook Phishing triage (version 1) applied: 3 tasks added."
    )

    panel.get_by_label("Done: Collect the reported message").check()
    htmx_settled(page)
    panel = page.locator("#tasks-panel")
    expect(panel.get_by_role("status")).to_contain_text("Task “Collect the reported message” done.")
    expect(panel.locator("[data-progress]")).to_have_text("1 of 3 done")

    # Skip with a reason, from the task's expanded part.
    task = panel.locator('li[data-task="Search for other recipients"]')
    task.locator("summary").click()
    task.get_by_label("Reason to skip").fill("Only one recipient in the gateway log")
    task.get_by_role("button", name="Skip").click()
    htmx_settled(page)
    panel = page.locator("#tasks-panel")
    expect(panel.locator('li[data-task="Search for other recipients"]')).to_contain_text(
        "Skipped: Only one recipient in the gateway log"
    )

    # Add a task for bob, then move it up with the keyboard.
    panel.get_by_label("New task").fill("Tell Pat the outcome")
    panel.get_by_label("Task assignee").select_option(label="Bob")
    panel.get_by_role("button", name="Add task").click()
    htmx_settled(page)
    panel = page.locator("#tasks-panel")
    up = panel.get_by_role("button", name="Move “Tell Pat the outcome” up")
    up.focus()
    page.keyboard.press("Enter")
    htmx_settled(page)
    assert [t.title for t in ticket_tasks(ticket)] == [
        "Collect the reported message",
        "Check sender authentication",
        "Tell Pat the outcome",
        "Search for other recipients",
    ]
    panel = page.locator("#tasks-panel")
    task = panel.locator('li[data-task="Check sender authentication"]')
    task.locator("summary").click()
    task.get_by_label("Note on “Check sender authentication”").fill("SPF fail, DKIM none: spoofed.")
    task.get_by_role("button", name="Add note").click()
    htmx_settled(page)
    panel = page.locator("#tasks-panel")
    expect(panel.locator('li[data-task="Check sender authentication"] .task-notes')).to_contain_text(
        "SPF fail"
    )
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=screenshots / f"tasks-checklist-{width}.png")

    # Resolving is refused while "Check sender authentication" (required) is open.
    services.ticket_change_status(actor=Actor.for_agent(cast.alice), ticket=ticket, status="in_progress")
    page.goto(f"{base}/tickets/{ticket.number}/")
    status_form = page.locator("form[data-action=status]")
    if width < 800:
        status_form.scroll_into_view_if_needed()
    status_form.get_by_label("Status").select_option("resolved")
    status_form.get_by_label("Resolution").select_option("true_positive")
    status_form.get_by_role("button", name="Set status").click()
    htmx_settled(page)
    expect(page.get_by_role("alert").first).to_contain_text(
        "cannot be resolved yet: the required task “Check sender authentication” is still open"
    )
    history = page.locator(".history-list")
    expect(history).to_contain_text("applied the playbook Phishing triage (version 1, 3 tasks)")
    expect(history).to_contain_text("skipped the task “Search for other recipients”: Only one recipient")
    page.screenshot(path=screenshots / f"tasks-resolve-refused-{width}.png", full_page=True)

    # Bob's My tasks: the task given to him, with its ticket.
    page.context.clear_cookies()
    sign_in(page, base, "bob", PERSONA_PASSWORD)
    page.get_by_role("link", name="My tasks").click()
    row = page.locator('tr[data-task="Tell Pat the outcome"]')
    expect(row).to_contain_text(ticket.number)
    page.screenshot(path=screenshots / f"my-tasks-{width}.png", full_page=True)
    row.get_by_role("link", name="Tell Pat the outcome").click()
    expect(page.locator("#tasks-panel")).to_contain_text("Tell Pat the outcome")


def test_admin_edits_a_playbook_into_a_new_version_and_a_filter_applies_it(
    page, live_server, cast, screenshots
):
    from socdesk.cases.models import Playbook
    from socdesk.routing.models import FilterRule

    make_playbook()
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.goto(f"{base}/admin-area/")
    page.get_by_role("navigation", name="Admin area").get_by_role("link", name="Playbooks").click()
    page.get_by_role("link", name="Phishing triage").click()
    page.get_by_label("Task 4", exact=True).fill("Block the URL")
    page.get_by_label("Due after, task 4").fill("90")
    page.get_by_label("Task 4 required").check()
    page.get_by_label("Team of task 4").select_option(label="Tier 1")
    page.get_by_role("button", name="Save playbook").click()
    expect(page.locator(".messages, [role=status]").first).to_contain_text("saved as version 2")
    expect(page.locator("[data-preview]")).to_contain_text("Block the URL")
    expect(page.locator('details[data-version="1"]')).to_contain_text("3 tasks")
    page.screenshot(path=screenshots / "admin-playbook.png", full_page=True)
    assert Playbook.objects.get().current.number == 2

    page.get_by_role("navigation", name="Admin area").get_by_role("link", name="Ticket filters").click()
    page.get_by_role("link", name="New filter").click()
    page.get_by_label("Name").fill("Phishing playbook")
    page.locator("[name=cond-0-field]").fill("subject")
    page.locator("[name=cond-0-operator]").select_option("contains")
    page.locator("[name=cond-0-value]").fill("phish")
    page.locator("[name=act-0-type]").select_option(label="Apply a playbook")
    page.locator("[name=act-0-target]").select_option(label="Phishing triage")
    page.get_by_role("button", name="Create filter").click()
    expect(page.get_by_role("alert").or_(page.locator(".messages"))).to_contain_text(
        "Filter Phishing playbook created."
    )
    rule = FilterRule.objects.get(name="Phishing playbook")
    assert rule.actions == [{"type": "apply_playbook", "value": Playbook.objects.get().pk}]
