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
    expect(panel.get_by_role("status")).to_contain_text("Playbook Phishing triage (version 1) applied: 3 tasks added.")

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
    panel.get_by_label("Assignee").select_option(label="Bob")
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
    expect(panel.locator('li[data-task="Check sender authentication"] .task-notes')).to_contain_text("SPF fail")
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
