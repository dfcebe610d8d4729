"""The routing admin pages in a real browser: configuration shown, nothing to add, change or delete."""

from __future__ import annotations

from datetime import date

import pytest

from socdesk.core.actor import Actor
from socdesk.routing.services.filters import FilterDefinition, filter_create
from socdesk.routing.services.sla import (
    EscalationDefinition,
    PlanDefinition,
    ScheduleDefinition,
    schedule_create,
    sla_plan_create,
)

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_routing_admin_pages_show_the_configuration(people, password, live_server, page, screenshots):
    actor = Actor.for_agent(people.admin)
    hours = {day: ["09:00-12:00", "13:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    schedule = schedule_create(
        actor=actor,
        definition=ScheduleDefinition(
            name="Paris office",
            time_zone="Europe/Paris",
            hours=hours,
            holidays={date(2026, 12, 25): "Christmas"},
        ),
    )
    plan = sla_plan_create(
        actor=actor,
        definition=PlanDefinition(
            name="P1",
            schedule=schedule,
            targets={"critical": (15, 240), "high": (60, 480)},
            escalations=[EscalationDefinition(trigger="breached", notify="team_lead")],
        ),
    )
    filter_create(
        actor=actor,
        definition=FilterDefinition(
            name="Wazuh critical from servers",
            channel="alert",
            conditions=[{"field": "alert.raw.rule.level", "operator": "greater_than", "value": 11}],
            actions=[{"type": "set_sla_plan", "value": plan.pk}],
        ),
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert page.locator("text=Ticket filters").count() >= 1
    page.goto(f"{live_server.url}/admin/routing/filterrule/")
    assert page.locator("text=Wazuh critical from servers").count() == 1
    assert page.locator("text=Add ticket filter").count() == 0
    page.screenshot(path=str(screenshots / "routing-admin-filters.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/routing/slaplan/{plan.pk}/change/")
    assert page.locator("text=team_lead").count() + page.locator("text=The team lead").count() >= 1
    page.screenshot(path=str(screenshots / "routing-admin-plan.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/admin/routing/schedule/{schedule.pk}/change/")
    assert page.locator("text=Christmas").count() >= 1
    assert page.locator("td.field-start", has_text="13:00").count() == 5  # HH:MM, not minutes
    page.screenshot(path=str(screenshots / "routing-admin-schedule-phone.png"), full_page=True)
