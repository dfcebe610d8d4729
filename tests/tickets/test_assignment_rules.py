"""Who may hold a ticket (one rule, every channel), and assignment and transfer changing only what the
agent chose, saying everything that changed."""

from __future__ import annotations

import pytest

from socdesk.accounts.services import access_grant, access_revoke, team_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.tickets import services
from socdesk.tickets.models import ThreadEntry, Ticket
from tests.console_helpers import client_for


def _written():
    return (Ticket.objects.count(), ThreadEntry.objects.count(), AuditEvent.objects.count())


def _fresh(ticket):
    return Ticket.objects.select_related("assignee", "team", "department").get(pk=ticket.pk)


def _last_line(ticket) -> str:
    return ThreadEntry.objects.filter(ticket=ticket).order_by("-id").first().body


# --- §3: an assignee must hold a role in the department (or belong to the ticket's team) ---------------


def test_a_new_ticket_cannot_go_to_an_agent_without_a_role_there(people):
    before = _written()
    with pytest.raises(ServiceError, match="Carol holds no role in SOC") as refused:
        services.ticket_create(
            actor=people.actor(people.alice), subject="Phish", department=people.soc, assignee=people.carol
        )
    assert refused.value.fields == {"assignee": "no_access"}
    assert _written() == before


def test_a_system_channel_gets_the_same_rule(people):
    # The osTicket API, ingest and jobs open tickets as a system or key actor: the rule is the service's.
    with pytest.raises(ServiceError, match="holds no role in SOC"):
        services.ticket_create(
            actor=Actor.system("ingest"), subject="Alert", department=people.soc, assignee=people.carol
        )


def test_a_member_of_the_tickets_team_may_hold_it_without_a_role(people):
    setup = Actor.system("test-setup")
    lent = team_create(actor=setup, name="Forensics", department=people.soc, members=[people.carol])
    ticket = services.ticket_create(
        actor=people.actor(people.alice),
        subject="Disk image",
        department=people.soc,
        assignee=people.carol,
        team=lent,
    )
    assert ticket.assignee == people.carol


def test_console_new_ticket_refuses_an_agent_without_a_role(people):
    before = _written()
    response = client_for(people.alice).post(
        "/tickets/new",
        {
            "subject": "Lost laptop",
            "department": people.soc.pk,
            "severity": "low",
            "source": "phone",
            "assignee": people.carol.pk,
            "body": "typed text",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Carol holds no role in SOC" in html and "typed text" in html
    assert _written() == before


def test_console_and_bulk_assignment_refuse_the_same(people, soc_ticket):
    alice = client_for(people.alice)
    response = alice.post(
        f"/tickets/{soc_ticket.number}/assign", {"version": 1, "assignee": people.carol.pk}, follow=True
    )
    # Carol is not offered in SOC's list at all: the form refuses her before the service would.
    assert response.status_code == 400 and _fresh(soc_ticket).assignee is None
    html = alice.post(
        "/tickets/bulk",
        {"ticket": [soc_ticket.number], "action": "assign", "assignee": people.carol.pk},
        follow=True,
    ).content.decode()
    assert "holds no role in SOC" in html and _fresh(soc_ticket).assignee is None


# --- §2: assigning changes only what the agent chose ---------------------------------------------------


def test_setting_the_team_keeps_an_assignee_from_outside_the_list(people, soc_ticket):
    """The admin (no role in SOC) claimed the ticket; alice sets a team: the admin stays assigned."""
    services.ticket_claim(actor=people.actor(people.admin), ticket=soc_ticket)
    alice = client_for(people.alice)
    page = alice.get(f"/tickets/{soc_ticket.number}/").content.decode()
    assign_select = page.split('id="assign_assignee"')[1].split("</select>")[0]
    assert f'value="{people.admin.pk}" selected' in assign_select
    version = _fresh(soc_ticket).version
    response = alice.post(
        f"/tickets/{soc_ticket.number}/assign",
        {"version": version, "assignee": people.admin.pk, "team": people.tier1.pk},
        follow=True,
    )
    assert "You set the team to Tier 1." in response.content.decode()
    t = _fresh(soc_ticket)
    assert (t.assignee, t.team) == (people.admin, people.tier1)
    event = AuditEvent.objects.filter(action="ticket.assigned").latest("id")
    assert event.before["assignee"] == event.after["assignee"] == people.admin.pk
    assert _last_line(t) == "alice set the team to Tier 1."


def test_setting_the_team_does_not_recheck_a_kept_assignee(people, soc_ticket):
    alice = people.actor(people.alice)
    services.ticket_assign(actor=alice, ticket=soc_ticket, agent=people.bob)
    setup = Actor.system("test-setup")
    access_revoke(actor=setup, agent=people.bob, department=people.soc)
    night = team_create(actor=setup, name="Night shift", department=people.soc, members=[people.alice])
    t = services.ticket_update(actor=alice, ticket=soc_ticket, changes={"team": night})
    assert (t.assignee, t.team) == (people.bob, night)
    # ...but giving the ticket to him anew is refused.
    services.ticket_release(actor=alice, ticket=t)
    services.ticket_update(actor=alice, ticket=t, changes={"team": None})
    with pytest.raises(ServiceError, match="Bob holds no role in SOC"):
        services.ticket_update(actor=alice, ticket=t, changes={"assignee": people.bob})


def test_the_message_names_every_side_that_changed(people, soc_ticket):
    alice = client_for(people.alice)
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.alice)
    response = alice.post(
        f"/tickets/{soc_ticket.number}/assign",
        {"version": _fresh(soc_ticket).version, "assignee": people.bob.pk, "team": people.tier1.pk},
        follow=True,
    )
    expected = "assigned the ticket to Bob (was Alice) and set the team to Tier 1."
    assert f"You {expected}" in response.content.decode()
    assert _last_line(soc_ticket) == f"alice {expected}"


def test_bulk_team_leaves_each_assignee_and_nobody_clears(people, soc_ticket):
    services.ticket_claim(actor=people.actor(people.bob), ticket=soc_ticket)
    alice = client_for(people.alice)
    alice.post("/tickets/bulk", {"ticket": [soc_ticket.number], "action": "assign", "team": people.tier1.pk})
    assert (_fresh(soc_ticket).assignee, _fresh(soc_ticket).team) == (people.bob, people.tier1)
    alice.post(
        "/tickets/bulk",
        {"ticket": [soc_ticket.number], "action": "assign", "assignee": "none", "team": ""},
    )
    assert (_fresh(soc_ticket).assignee, _fresh(soc_ticket).team) == (None, people.tier1)
    html = alice.post(
        "/tickets/bulk", {"ticket": [soc_ticket.number], "action": "assign"}, follow=True
    ).content.decode()
    assert "Choose an assignee or a team to set" in html


# --- §2: a transfer says why, and what it did to the assignee and team ------------------------------


def test_transfer_needs_a_reason_in_the_service_and_writes_nothing_without(people, soc_ticket):
    before = _written()
    for reason in ("", "   "):
        with pytest.raises(ServiceError, match="Say why the ticket goes to IT Help Desk") as refused:
            services.ticket_update(
                actor=people.actor(people.alice),
                ticket=soc_ticket,
                changes={"department": people.it, "reason": reason},
            )
        assert refused.value.fields == {"reason": "required"}
    assert _written() == before and _fresh(soc_ticket).department == people.soc


def test_a_reason_without_a_transfer_is_refused(people, soc_ticket):
    with pytest.raises(ServiceError, match="send it together with the department"):
        services.ticket_update(
            actor=people.actor(people.alice), ticket=soc_ticket, changes={"reason": "because"}
        )


def test_transfer_clears_who_does_not_fit_and_says_so(people, soc_ticket):
    services.ticket_assign(
        actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob, team=people.tier1
    )
    response = client_for(people.alice).post(
        f"/tickets/{soc_ticket.number}/transfer",
        {"version": _fresh(soc_ticket).version, "department": people.it.pk, "reason": "Laptop loss is IT's"},
        follow=True,
    )
    # Alice holds no role in IT: the ticket left her sight, so she lands on her queue with the message.
    assert response.redirect_chain[-1][0] == "/tickets/"
    html = response.content.decode()
    assert "Ticket transferred from SOC to IT Help Desk." in html
    assert "Bob was unassigned: they hold no role in IT Help Desk." in html
    assert "The team Tier 1 was removed: it belongs to another department." in html
    t = _fresh(soc_ticket)
    assert (t.department, t.assignee, t.team) == (people.it, None, None)
    assert _last_line(t) == (
        "alice transferred the ticket from SOC to IT Help Desk. Bob was unassigned: they hold no role in "
        "IT Help Desk. The team Tier 1 was removed: it belongs to another department. "
        "Reason: Laptop loss is IT's"
    )
    event = AuditEvent.objects.get(action="ticket.transferred")
    assert event.before == {"department": people.soc.pk, "assignee": people.bob.pk, "team": people.tier1.pk}
    assert event.after["assignee"] is None and event.after["reason"] == "Laptop loss is IT's"


def test_transfer_keeps_an_assignee_who_holds_a_role_there(people, soc_ticket):
    setup = Actor.system("test-setup")
    access_grant(actor=setup, agent=people.bob, department=people.it, role=people.analyst)
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    t = services.ticket_update(
        actor=people.actor(people.alice),
        ticket=soc_ticket,
        changes={"department": people.it, "reason": "IT owns laptops"},
    )
    assert (t.department, t.assignee) == (people.it, people.bob)
    assert "Bob stays assigned. Reason: IT owns laptops" in _last_line(t)


def test_console_transfer_without_a_reason_is_a_form_error(people, soc_ticket):
    before = _written()
    response = client_for(people.alice).post(
        f"/tickets/{soc_ticket.number}/transfer", {"version": 1, "department": people.it.pk}
    )
    assert response.status_code == 400
    assert "Say why the ticket is transferred" in response.content.decode()
    assert _written() == before


def test_bulk_transfer_needs_a_reason_and_keeps_it(people, soc_ticket):
    alice = client_for(people.alice)
    html = alice.post(
        "/tickets/bulk",
        {"ticket": [soc_ticket.number], "action": "transfer", "department": people.it.pk},
        follow=True,
    ).content.decode()
    assert "Say why the ticket is transferred" in html and _fresh(soc_ticket).department == people.soc
    alice.post(
        "/tickets/bulk",
        {"ticket": [soc_ticket.number], "action": "transfer", "department": people.it.pk, "reason": "IT's"},
    )
    assert _fresh(soc_ticket).department == people.it and _last_line(soc_ticket).endswith("Reason: IT's")


def test_htmx_transfer_out_of_sight_redirects_to_the_queue(people, soc_ticket):
    response = client_for(people.alice).post(
        f"/tickets/{soc_ticket.number}/transfer",
        {"version": 1, "department": people.it.pk, "reason": "IT's"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and response["HX-Redirect"] == "/tickets/"
