"""The admin area's ticket filter pages: the list (order, on/off, hits, warnings), the editor's rows and
the services' refusals placed on them, and the dry run on a ticket or a sample payload, which writes
nothing. Admins only: every other persona gets the 404 of a missing page."""

from __future__ import annotations

from pathlib import Path

import pytest

from socdesk.accounts.services import team_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.routing.models import FilterRule, RulesetVersion
from socdesk.routing.services.filters import FilterDefinition, filter_create
from socdesk.tickets.models import Ticket
from tests.console_helpers import client_for

SETUP = Actor.system("test-setup")
WAZUH = (Path(__file__).resolve().parents[1] / "alerts" / "fixtures" / "wazuh_alert.json").read_text()


def rows(conditions=(), actions=()) -> dict:
    """The editor's two formsets as a browser posts them."""
    data = {
        "cond-TOTAL_FORMS": str(len(conditions)),
        "cond-INITIAL_FORMS": "0",
        "act-TOTAL_FORMS": str(len(actions)),
        "act-INITIAL_FORMS": "0",
    }
    for index, (field, operator, value) in enumerate(conditions):
        data |= {
            f"cond-{index}-field": field,
            f"cond-{index}-operator": operator,
            f"cond-{index}-value": value,
        }
    for index, (kind, target, value) in enumerate(actions):
        data |= {f"act-{index}-type": kind, f"act-{index}-target": target, f"act-{index}-value": value}
    return data


def filter_form(name="Phishing to Tier 1", conditions=(), actions=(), **settings) -> dict:
    return {
        "name": name,
        "enabled": "on",
        "channel": "any",
        "match_all": "1",
        "time_zone": "UTC",
        **settings,
        **rows(conditions, actions),
    }


def make_filter(name: str, conditions, actions, **kwargs) -> FilterRule:
    return filter_create(
        actor=SETUP, definition=FilterDefinition(name=name, conditions=conditions, actions=actions, **kwargs)
    )


ROUTING_PAGES = (
    "/admin-area/filters",
    "/admin-area/filters/new",
    "/admin-area/sla-plans",
    "/admin-area/sla-plans/new",
    "/admin-area/schedules",
    "/admin-area/schedules/new",
    "/admin-area/help-topics",
    "/admin-area/help-topics/new",
)


def test_only_admins_reach_the_routing_pages(people):
    rule = make_filter(
        "Tag", [{"field": "subject", "operator": "contains", "value": "x"}], [{"type": "stop"}]
    )
    admin = client_for(people.admin)
    for url in (*ROUTING_PAGES, f"/admin-area/filters/{rule.pk}"):
        assert admin.get(url).status_code == 200, url
    for persona in (people.alice, people.bob, people.carol):
        client = client_for(persona)
        for url in (*ROUTING_PAGES, f"/admin-area/filters/{rule.pk}"):
            assert client.get(url).status_code == 404, (persona, url)
        form = filter_form(
            name="Sneaky", conditions=[("subject", "contains", "x")], actions=[("stop", "", "")]
        )
        assert client.post("/admin-area/filters/new", form).status_code == 404
        assert client.post(f"/admin-area/filters/{rule.pk}/toggle", {"enabled": "0"}).status_code == 404
        assert client.post(f"/admin-area/filters/{rule.pk}/delete").status_code == 404
        assert (
            client.post("/admin-area/filters/dry-run", {"payload": WAZUH, "adapter": "wazuh"}).status_code
            == 404
        )
    rule.refresh_from_db()
    assert rule.enabled and list(FilterRule.objects.values_list("name", flat=True)) == ["Tag"]


def test_a_filter_is_built_from_rows_and_audited(people):
    admin = client_for(people.admin)
    form = filter_form(
        conditions=[("subject", "contains", "phish"), ("", "equals", "")],  # the empty row is ignored
        actions=[
            ("set_team", f"team:{people.tier1.pk}", ""),
            ("add_tags", "", "phishing, mail"),
            ("", "", ""),
        ],
    )
    response = admin.post("/admin-area/filters/new", form)
    assert response.status_code == 302
    rule = FilterRule.objects.get(name="Phishing to Tier 1")
    assert rule.conditions == [{"field": "subject", "operator": "contains", "value": "phish"}]
    assert rule.actions == [
        {"type": "set_team", "value": people.tier1.pk},
        {"type": "add_tags", "value": ["phishing", "mail"]},
    ]
    assert AuditEvent.objects.filter(action="ticket_filter.created", target_id=str(rule.pk)).exists()
    page = admin.get(response["Location"]).content.decode()
    # The saved rows come back as they were chosen: the team selected in its list, the tags typed.
    assert f'<option value="team:{people.tier1.pk}" selected>' in page
    assert 'value="phishing, mail"' in page


def test_a_regex_that_does_not_compile_is_shown_on_its_row_and_nothing_is_saved(people):
    before = (AuditEvent.objects.count(), RulesetVersion.objects.values_list("version", flat=True).first())
    form = filter_form(
        conditions=[("subject", "contains", "x"), ("body", "matches", "(unclosed")],
        actions=[("add_tags", "", "t")],
    )
    response = client_for(people.admin).post("/admin-area/filters/new", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert "condition 2 (body matches): has a regular expression that does not compile" in page
    assert "Check condition 2 below" in page
    # The message sits in the second condition row, not the first.
    rows_html = page.split("data-condition-row")
    assert "does not compile" in rows_html[2] and "does not compile" not in rows_html[1]
    assert not FilterRule.objects.exists()
    assert (
        AuditEvent.objects.count(),
        RulesetVersion.objects.values_list("version", flat=True).first(),
    ) == before


def test_an_action_on_a_deleted_team_is_refused_on_its_row(people):
    gone = team_create(actor=SETUP, name="Night shift", department=people.soc)
    gone_id = gone.pk
    gone.delete()
    before = AuditEvent.objects.count()
    form = filter_form(
        conditions=[("subject", "contains", "x")],
        actions=[("add_tags", "", "t"), ("set_team", f"team:{gone_id}", "")],
    )
    response = client_for(people.admin).post("/admin-area/filters/new", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert f"action 2 (set_team): there is no team with id {gone_id}; pick an existing one." in page
    assert page.split("data-action-row")[2].count("there is no team") == 1
    # The choice stays visible as posted, marked as gone, so the admin sees what to change.
    assert f"team:{gone_id} (no longer exists)" in page
    assert not FilterRule.objects.exists() and AuditEvent.objects.count() == before


def test_choosing_an_object_of_the_wrong_kind_is_refused(people):
    form = filter_form(conditions=[("subject", "contains", "x")], actions=[("set_team", "severity:high", "")])
    response = client_for(people.admin).post("/admin-area/filters/new", form)
    assert response.status_code == 400
    assert "Action 1 (set_team): choose a team in the list, not a severity." in response.content.decode()
    assert not FilterRule.objects.exists()


def test_a_filter_without_actions_says_so(people):
    form = filter_form(conditions=[("subject", "contains", "x")], actions=[("", "", "")])
    response = client_for(people.admin).post("/admin-area/filters/new", form)
    assert response.status_code == 400
    assert "needs at least one action" in response.content.decode()
    assert not FilterRule.objects.exists()


def test_add_a_row_shows_one_more_and_saves_nothing(people):
    form = filter_form(name="", conditions=[("subject", "contains", "phish")], actions=[("stop", "", "")])
    response = client_for(people.admin).post("/admin-area/filters/new", {**form, "add": "condition"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("data-condition-row") == 2 and 'value="phish"' in page
    assert "This field is required" not in page  # nothing was checked yet
    assert not FilterRule.objects.exists()


def test_editing_keeps_the_order_and_clears_the_invalid_warning(people):
    rule = make_filter(
        "Old", [{"field": "subject", "operator": "contains", "value": "x"}], [{"type": "stop"}], order=70
    )
    FilterRule.objects.filter(pk=rule.pk).update(enabled=False, disabled_reason="Team 9 was deleted.")
    admin = client_for(people.admin)
    page = admin.get(f"/admin-area/filters/{rule.pk}").content.decode()
    assert "Disabled as invalid:" in page and "Team 9 was deleted." in page
    form = filter_form(name="Renamed", conditions=[("subject", "contains", "y")], actions=[("stop", "", "")])
    assert admin.post(f"/admin-area/filters/{rule.pk}", form).status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.order, rule.enabled, rule.disabled_reason) == ("Renamed", 70, True, "")
    assert rule.conditions[0]["value"] == "y"


def test_the_list_warns_about_a_filter_disabled_as_invalid(people):
    make_filter("Fine", [{"field": "subject", "operator": "contains", "value": "x"}], [{"type": "stop"}])
    broken = make_filter(
        "Broken", [{"field": "subject", "operator": "contains", "value": "x"}], [{"type": "stop"}]
    )
    FilterRule.objects.filter(pk=broken.pk).update(
        enabled=False, disabled_reason="Its SLA plan was deleted.", hit_count=12
    )
    page = client_for(people.admin).get("/admin-area/filters").content.decode()
    broken_row = page.split('data-filter="Broken"')[1].split("</tr>")[0]
    assert 'class="tag warn"' in broken_row and "Its SLA plan was deleted." in broken_row
    assert "<td>12</td>" in broken_row and "Turn Broken on" in broken_row
    fine_row = page.split('data-filter="Fine"')[1].split("</tr>")[0]
    assert "tag warn" not in fine_row


def test_filters_are_turned_off_and_on_audited(people):
    rule = make_filter(
        "Tag", [{"field": "subject", "operator": "contains", "value": "x"}], [{"type": "stop"}]
    )
    admin = client_for(people.admin)
    assert admin.post(f"/admin-area/filters/{rule.pk}/toggle", {"enabled": "0"}).status_code == 302
    rule.refresh_from_db()
    assert not rule.enabled
    assert admin.post(f"/admin-area/filters/{rule.pk}/toggle", {"enabled": "1"}).status_code == 302
    rule.refresh_from_db()
    assert rule.enabled
    actions = list(AuditEvent.objects.filter(target_id=str(rule.pk)).values_list("action", flat=True))
    assert "ticket_filter.disabled" in actions and "ticket_filter.enabled" in actions


def test_a_filter_that_no_longer_compiles_cannot_be_turned_on(people):
    rule = make_filter(
        "Tag", [{"field": "subject", "operator": "contains", "value": "x"}], [{"type": "stop"}]
    )
    FilterRule.objects.filter(pk=rule.pk).update(
        enabled=False, conditions=[{"field": "subject", "operator": "matches", "value": "(bad"}]
    )
    before = AuditEvent.objects.count()
    admin = client_for(people.admin)
    response = admin.post(f"/admin-area/filters/{rule.pk}/toggle", {"enabled": "1"}, follow=True)
    assert (
        "does not compile" in response.content.decode()
        and "Fix it before turning it on." in response.content.decode()
    )
    rule.refresh_from_db()
    assert not rule.enabled and AuditEvent.objects.count() == before


def test_filters_move_up_and_down(people):
    names = ["A", "B", "C"]
    made = [
        make_filter(n, [{"field": "subject", "operator": "contains", "value": n}], [{"type": "stop"}])
        for n in names
    ]
    admin = client_for(people.admin)
    assert admin.post(f"/admin-area/filters/{made[2].pk}/move", {"direction": "up"}).status_code == 302
    assert list(FilterRule.objects.order_by("order", "id").values_list("name", flat=True)) == ["A", "C", "B"]
    assert admin.post(f"/admin-area/filters/{made[0].pk}/move", {"direction": "down"}).status_code == 302
    assert list(FilterRule.objects.order_by("order", "id").values_list("name", flat=True)) == ["C", "A", "B"]
    assert AuditEvent.objects.filter(action="ticket_filter.reordered").count() == 2
    # Past the top: refused with a sentence, nothing changes.
    response = admin.post(f"/admin-area/filters/{made[2].pk}/move", {"direction": "up"}, follow=True)
    assert "Filter &#x27;C&#x27; already runs first." in response.content.decode()
    assert list(FilterRule.objects.order_by("order", "id").values_list("name", flat=True)) == ["C", "A", "B"]


def test_a_filter_is_deleted(people):
    rule = make_filter(
        "Tag", [{"field": "subject", "operator": "contains", "value": "x"}], [{"type": "stop"}]
    )
    assert client_for(people.admin).post(f"/admin-area/filters/{rule.pk}/delete").status_code == 302
    assert not FilterRule.objects.exists()
    assert AuditEvent.objects.filter(action="ticket_filter.deleted").exists()


def test_the_filter_list_takes_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    admin = client_for(people.admin)
    admin.get("/admin-area/filters")  # the first call builds the process's ruleset
    for n in range(12):
        make_filter(f"F{n}", [{"field": "subject", "operator": "contains", "value": "x"}], [{"type": "stop"}])
    admin.get("/admin-area/filters")
    with django_assert_max_num_queries(10):
        assert admin.get("/admin-area/filters").status_code == 200


# --- the dry run -----------------------------------------------------------------------------------------


def state() -> tuple:
    """Everything a dry run must leave alone."""
    return (
        Ticket.objects.count(),
        AuditEvent.objects.count(),
        list(FilterRule.objects.order_by("pk").values_list("hit_count", "last_matched_at", "updated_at")),
        RulesetVersion.objects.values_list("version", flat=True).first(),
    )


@pytest.fixture
def routing_filters(people):
    """Three filters: phishing mail to Tier 1 (stops), anything high, and a later one never reached."""
    phishing = make_filter(
        "Phishing to Tier 1",
        [{"field": "tags", "operator": "equals", "value": "phishing"}],
        [{"type": "set_team", "value": people.tier1.pk}, {"type": "add_tags", "value": ["triage"]}],
        order=10,
    )
    high = make_filter(
        "High is urgent",
        [{"field": "severity", "operator": "greater_than", "value": "medium"}],
        [{"type": "set_severity", "value": "critical"}],
        order=20,
        stop_on_match=True,
    )
    later = make_filter(
        "Everything else",
        [{"field": "subject", "operator": "contains", "value": "powershell"}],
        [{"type": "add_note", "value": "seen"}],
        order=30,
    )
    email_only = make_filter(
        "Mail only",
        [{"field": "subject", "operator": "contains", "value": "powershell"}],
        [{"type": "add_tags", "value": "mail"}],
        channel="email",
        order=5,
    )
    return phishing, high, later, email_only


def test_a_dry_run_on_a_ticket_shows_matches_conditions_and_actions_and_writes_nothing(
    people, soc_ticket, routing_filters
):
    before = state()
    response = client_for(people.admin).post("/admin-area/filters/dry-run", {"ticket": soc_ticket.number})
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Ticket {soc_ticket.number}: Suspicious PowerShell on WS-042" in page
    # The actions in order, with the team's name rather than its id.
    assert (
        page.index("Set team: Tier 1 (SOC)")
        < page.index("Add tags: triage")
        < page.index("Set severity: critical")
    )
    assert "✓ <code>tags equals &#x27;phishing&#x27;</code>" in page
    assert "✓ <code>severity is greater than &#x27;medium&#x27;</code>" in page
    assert "Not reached: filter &#x27;High is urgent&#x27; ended the run." in page
    assert "It is for the email channel, not web." in page
    assert "Add internal note" not in page
    assert state() == before


def test_a_dry_run_on_a_sample_payload_goes_through_the_adapter(people, routing_filters):
    make_filter(
        "Wazuh brute force",
        [
            {"field": "alert.source", "operator": "equals", "value": "wazuh"},
            {"field": "alert.raw.rule.level", "operator": "greater_than", "value": 9},
            {"field": "observable.ip", "operator": "in_cidr", "value": "203.0.113.0/24"},
        ],
        [{"type": "set_team", "value": people.tier1.pk}],
        order=1,
        channel="alert",
    )
    before = state()
    response = client_for(people.admin).post(
        "/admin-area/filters/dry-run", {"payload": WAZUH, "adapter": "wazuh"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alert: sshd: brute force" in page
    assert "✓ <code>alert.raw.rule.level is greater than 9</code>" in page
    assert "✓ <code>observable.ip is in the network(s) &#x27;203.0.113.0/24&#x27;</code>" in page
    assert "Set team: Tier 1 (SOC)" in page
    assert state() == before


def test_a_dry_run_explains_what_it_cannot_read(people, routing_filters):
    admin = client_for(people.admin)
    response = admin.post("/admin-area/filters/dry-run", {"payload": "{not json", "adapter": "wazuh"})
    assert response.status_code == 400 and "line 1" in response.content.decode()
    response = admin.post("/admin-area/filters/dry-run", {"ticket": "SOC-999999"})
    assert response.status_code == 400
    assert (
        "There is no ticket &#x27;SOC-999999&#x27; you can see; check the number."
        in response.content.decode()
    )
    response = admin.post("/admin-area/filters/dry-run", {"adapter": "wazuh"})
    assert "Give a ticket number or paste a sample payload to try." in response.content.decode()


def test_a_dry_run_reports_a_regex_that_ran_out_of_time(people, soc_ticket):
    make_filter(
        "Hostile", [{"field": "body", "operator": "matches", "value": r"^(a|aa)+$"}], [{"type": "stop"}]
    )
    from socdesk.tickets.models import ThreadEntry

    ThreadEntry.objects.filter(ticket=soc_ticket).update(body="a" * 40 + "!")
    response = client_for(people.admin).post("/admin-area/filters/dry-run", {"ticket": soc_ticket.number})
    page = response.content.decode()
    assert "Hostile, condition 1: the regular expression ran out of time (counted as no match)." in page
    assert "timed out:" in page


def test_one_filter_is_tried_on_its_own_page_even_when_off(people, soc_ticket, routing_filters):
    phishing = routing_filters[0]
    FilterRule.objects.filter(pk=phishing.pk).update(enabled=False)
    before = state()
    response = client_for(people.admin).post(
        f"/admin-area/filters/{phishing.pk}/dry-run", {"ticket": soc_ticket.number}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page  # the htmx fragment only
    assert "Set team: Tier 1 (SOC)" in page and "High is urgent" not in page
    assert state() == before


def test_a_sample_sent_to_an_integration_uses_its_settings_and_its_filters(people):
    from socdesk.alerts.integrations import integration_create

    wazuh_prod = integration_create(
        actor=SETUP, adapter="wazuh", name="Wazuh prod", department=people.soc, default_severity="low"
    )
    make_filter(
        "Only Wazuh prod",
        [{"field": "alert.source", "operator": "equals", "value": "wazuh"}],
        [{"type": "add_tags", "value": "prod"}],
        channel="alert",
        channel_id=wazuh_prod.pk,
    )
    admin = client_for(people.admin)
    # With the adapter alone, the filter is for another integration and is not considered.
    page = admin.post("/admin-area/filters/dry-run", {"payload": WAZUH, "adapter": "wazuh"}).content.decode()
    assert "It is for another integration or mailbox." in page and "Add tags: prod" not in page
    # Sent to the integration (the adapter field is left at another value: the integration's wins).
    form = {"payload": WAZUH, "adapter": "generic", "integration": wazuh_prod.pk}
    page = admin.post("/admin-area/filters/dry-run", form).content.decode()
    assert "Add tags: prod" in page
