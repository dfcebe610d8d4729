"""The ticket filter editor's last two settings: the events a filter also runs on, and its webhook secret
(write-only: set, kept when left blank, removed; never in a page nor in the audit trail). Also the list's
badges and the filter's recent webhook deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.audit.models import AuditEvent
from socdesk.routing.models import FilterRule, FilterWebhookDelivery, RulesetVersion
from socdesk.routing.webhooks import SIGNATURE_HEADER
from tests.adminarea.test_routing_filters import filter_form, make_filter
from tests.console_helpers import client_for
from tests.routing.test_apply import open_ticket
from tests.routing.test_apply_delivery import Receiver

SECRET = "whsec-9f2c41d7-never-shown"
HOOK = "https://soar.example.test/hooks/socdesk"
TAG_RULE = {"conditions": [("subject", "contains", "phish")], "actions": [("add_tags", "", "phishing")]}
HOOK_RULE = {"conditions": [("subject", "contains", "phish")], "actions": [("webhook", "", HOOK)]}


def written() -> tuple:
    """Everything a refused save must leave as it was."""
    return (
        list(FilterRule.objects.order_by("pk").values_list("name", "actions", "on_events", "webhook_secret")),
        AuditEvent.objects.count(),
        RulesetVersion.objects.values_list("version", flat=True).first(),
    )


def hook_filter(**fields) -> FilterRule:
    return make_filter(
        "To the SOAR",
        [{"field": "subject", "operator": "contains", "value": "phish"}],
        [{"type": "webhook", "value": HOOK}],
        **fields,
    )


def ticked(page: str) -> set[str]:
    """The events whose checkbox is ticked in a page."""
    boxes = re.findall(r'<input type="checkbox" name="on_events"[^>]*>', page)
    return {re.search(r'value="(\w+)"', box).group(1) for box in boxes if " checked" in box}  # type: ignore[union-attr]


def audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values("before", "after")), default=str)


# --- events ----------------------------------------------------------------------------------------------


def test_events_are_saved_in_their_order_and_shown_ticked_and_in_the_list(people):
    admin = client_for(people.admin)
    form = filter_form(**TAG_RULE, on_events=["severity_raised", "reply_received"])
    response = admin.post("/admin-area/filters/new", form)
    assert response.status_code == 302
    rule = FilterRule.objects.get()
    assert rule.on_events == ["reply_received", "severity_raised"]
    event = AuditEvent.objects.get(action="ticket_filter.created")
    assert event.after["on_events"] == ["reply_received", "severity_raised"]

    page = admin.get(response["Location"]).content.decode()
    assert ticked(page) == {"reply_received", "severity_raised"}
    assert 'value="alert_repeated"' in page and 'value="reopened"' in page
    # Each event says in one line when it happens.
    assert "The ticket&#x27;s severity goes up (lowering it does not count)." in page
    assert "Every filter runs when a ticket is opened." in page

    listing = admin.get("/admin-area/filters").content.decode()
    runs_on = listing.split('class="runs-on"')[1].split("</td>")[0]
    assert "new ticket" in runs_on and "reply received" in runs_on and "severity raised" in runs_on
    assert "reopened" not in runs_on


def test_unticking_every_event_leaves_creation_only(people):
    rule = make_filter(
        "Tag",
        [{"field": "subject", "operator": "contains", "value": "x"}],
        [{"type": "add_tags", "value": ["x"]}],
        on_events=["reopened"],
    )
    admin = client_for(people.admin)
    form = filter_form(name="Tag", conditions=[("subject", "contains", "x")], actions=[("add_tags", "", "x")])
    assert admin.post(f"/admin-area/filters/{rule.pk}", form).status_code == 302
    rule.refresh_from_db()
    assert rule.on_events == []
    listing = admin.get("/admin-area/filters").content.decode()
    assert "reopened" not in listing.split('class="runs-on"')[1].split("</td>")[0]


def test_an_action_of_creation_on_events_is_refused_next_to_the_events_and_nothing_is_written(people):
    admin = client_for(people.admin)
    before = written()
    form = filter_form(
        conditions=[("subject", "contains", "phish")],
        actions=[("add_tags", "", "phishing"), ("set_status", "status:resolved", "")],
        on_events=["reply_received"],
    )
    response = admin.post("/admin-area/filters/new", form)
    assert response.status_code == 400
    page = response.content.decode()
    message = "action 2 (set_status) only applies when a ticket is opened"
    events = page.split('id="events"')[1].split("</fieldset>")[0]
    assert message in events
    # Not placed on the action row as well: one sentence, where the events are chosen.
    assert message not in page.split('id="actions"')[1].split("</fieldset>")[0]
    assert "Check the fields marked below." in page
    # What was ticked and typed is shown again.
    assert ticked(page) == {"reply_received"}
    assert written() == before

    # The same refusal on an existing filter changes nothing either.
    rule = make_filter(
        "Close resolved",
        [{"field": "subject", "operator": "contains", "value": "phish"}],
        [{"type": "set_status", "value": "resolved"}],
    )
    before = written()
    form = filter_form(
        name="Close resolved",
        conditions=[("subject", "contains", "phish")],
        actions=[("set_status", "status:resolved", "")],
        on_events=["reopened"],
    )
    response = admin.post(f"/admin-area/filters/{rule.pk}", form)
    assert response.status_code == 400
    assert "action 1 (set_status) only applies when a ticket is opened" in response.content.decode()
    assert written() == before


def test_an_unknown_event_is_refused_by_the_form(people):
    before = written()
    response = client_for(people.admin).post(
        "/admin-area/filters/new", filter_form(**TAG_RULE, on_events=["ticket_deleted"])
    )
    assert response.status_code == 400
    assert "ticket_deleted is not one of the available choices" in response.content.decode()
    assert written() == before


def test_adding_a_row_keeps_the_events_ticked_and_saves_nothing(people):
    before = written()
    form = filter_form(**TAG_RULE, on_events=["alert_repeated"], add="action")
    response = client_for(people.admin).post("/admin-area/filters/new", form)
    assert response.status_code == 200
    assert ticked(response.content.decode()) == {"alert_repeated"}
    assert written() == before


# --- the webhook secret -----------------------------------------------------------------------------------


def test_the_secret_field_shows_only_for_a_filter_that_calls_a_webhook(people):
    admin = client_for(people.admin)
    tagger = make_filter(
        "Tag",
        [{"field": "subject", "operator": "contains", "value": "x"}],
        [{"type": "add_tags", "value": "x"}],
    )
    hook = hook_filter()
    assert (
        'id="webhook-secret" data-webhook-secret hidden'
        in admin.get(f"/admin-area/filters/{tagger.pk}").content.decode()
    )
    page = admin.get(f"/admin-area/filters/{hook.pk}").content.decode()
    assert 'id="webhook-secret" data-webhook-secret>' in page
    assert "A secret is set" not in page and "Remove the secret" not in page
    # A row just switched to "Call a webhook" (posted while adding a row) shows it too.
    form = filter_form(**HOOK_RULE, add="action")
    assert "data-webhook-secret>" in admin.post("/admin-area/filters/new", form).content.decode()


def test_a_secret_is_set_signs_the_deliveries_and_is_never_shown_nor_audited(people):
    admin = client_for(people.admin)
    response = admin.post("/admin-area/filters/new", filter_form(**HOOK_RULE, webhook_secret=SECRET))
    assert response.status_code == 302
    rule = FilterRule.objects.get()
    assert rule.webhook_secret == SECRET
    page = admin.get(response["Location"]).content.decode()
    assert SECRET not in page
    assert "A secret is set — leave blank to keep it." in page
    assert "Remove the secret" in page
    assert 'name="webhook_secret"' in page and 'type="password"' in page
    listing = admin.get("/admin-area/filters").content.decode()
    assert SECRET not in listing and "webhook signed" in listing
    created = AuditEvent.objects.get(action="ticket_filter.created")
    assert created.after["webhook_secret"] is True
    assert SECRET not in audit_text()


def test_the_secret_set_in_the_editor_signs_the_calls(people, settings):
    settings.SOCDESK_FILTER_WEBHOOK_SECRET = "server-wide"
    receiver = Receiver()
    old, HUEY.immediate = HUEY.immediate, True
    try:
        form = filter_form(
            conditions=[("subject", "contains", "phish")],
            actions=[("webhook", "", receiver.url)],
            webhook_secret=SECRET,
        )
        assert client_for(people.admin).post("/admin-area/filters/new", form).status_code == 302
        with TestCase.captureOnCommitCallbacks(execute=True):
            open_ticket(people)
    finally:
        HUEY.immediate = old
        receiver.close()
    [(headers, body)] = receiver.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER.lower()] == expected


def test_a_blank_secret_keeps_the_one_stored(people):
    rule = hook_filter(webhook_secret=SECRET)
    admin = client_for(people.admin)
    form = filter_form(name="To the SOAR", **HOOK_RULE, on_events=["reopened"], webhook_secret="")
    assert admin.post(f"/admin-area/filters/{rule.pk}", form).status_code == 302
    rule.refresh_from_db()
    assert rule.webhook_secret == SECRET and rule.on_events == ["reopened"]
    updated = AuditEvent.objects.get(action="ticket_filter.updated")
    assert updated.before["webhook_secret"] is True and updated.after["webhook_secret"] is True
    assert "webhook_secret_changed" not in updated.after


def test_a_new_secret_replaces_the_old_and_the_audit_says_only_that_it_changed(people):
    rule = hook_filter(webhook_secret=SECRET)
    admin = client_for(people.admin)
    form = filter_form(name="To the SOAR", **HOOK_RULE, webhook_secret="rotated-2026-11")
    response = admin.post(f"/admin-area/filters/{rule.pk}", form)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.webhook_secret == "rotated-2026-11"
    updated = AuditEvent.objects.get(action="ticket_filter.updated")
    assert updated.after["webhook_secret"] is True and updated.after["webhook_secret_changed"] is True
    assert SECRET not in audit_text() and "rotated-2026-11" not in audit_text()
    assert "rotated-2026-11" not in admin.get(response["Location"]).content.decode()


def test_the_secret_is_removed_with_its_checkbox(people):
    rule = hook_filter(webhook_secret=SECRET)
    admin = client_for(people.admin)
    form = filter_form(name="To the SOAR", **HOOK_RULE, remove_webhook_secret="on")
    response = admin.post(f"/admin-area/filters/{rule.pk}", form)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.webhook_secret == ""
    updated = AuditEvent.objects.get(action="ticket_filter.updated")
    assert (updated.before["webhook_secret"], updated.after["webhook_secret"]) == (True, False)
    page = admin.get(response["Location"]).content.decode()
    assert "A secret is set" not in page
    assert "webhook unsigned" in admin.get("/admin-area/filters").content.decode()


def test_a_new_secret_and_remove_together_are_refused_and_nothing_changes(people):
    rule = hook_filter(webhook_secret=SECRET)
    before = written()
    form = filter_form(
        name="To the SOAR", **HOOK_RULE, webhook_secret="typed-then-refused-77", remove_webhook_secret="on"
    )
    response = client_for(people.admin).post(f"/admin-area/filters/{rule.pk}", form)
    assert response.status_code == 400
    page = response.content.decode()
    secret_box = page.split('id="webhook-secret"')[1].split("</fieldset>")[0]
    assert "Either type a new secret or tick “Remove the secret”, not both." in secret_box
    assert "The secret you typed was not saved; type it again." in secret_box
    assert "typed-then-refused-77" not in page and SECRET not in page
    assert written() == before


def test_a_secret_too_long_is_refused_with_the_services_sentence_and_never_echoed(people):
    before = written()
    long_secret = "k" * 201
    form = filter_form(**HOOK_RULE, webhook_secret=long_secret)
    response = client_for(people.admin).post("/admin-area/filters/new", form)
    assert response.status_code == 400
    page = response.content.decode()
    secret_box = page.split('id="webhook-secret"')[1].split("</fieldset>")[0]
    assert "the webhook secret has at most 200 characters" in secret_box
    assert long_secret not in page
    assert written() == before


def test_a_refused_save_never_echoes_the_secret_typed(people):
    form = filter_form(
        conditions=[("subject", "matches", "(unclosed")],
        actions=[("webhook", "", HOOK)],
        webhook_secret=SECRET,
    )
    response = client_for(people.admin).post("/admin-area/filters/new", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert SECRET not in page
    assert "The secret you typed was not saved; type it again." in page
    assert not FilterRule.objects.exists()


def test_the_list_says_how_each_webhook_is_signed(people, settings):
    settings.SOCDESK_FILTER_WEBHOOK_SECRET = ""
    hook_filter(webhook_secret=SECRET)
    make_filter(
        "Unsigned hook",
        [{"field": "subject", "operator": "contains", "value": "x"}],
        [{"type": "webhook", "value": HOOK}],
    )
    make_filter("No hook", [{"field": "subject", "operator": "contains", "value": "x"}], [{"type": "stop"}])
    admin = client_for(people.admin)

    def badges() -> dict[str, str]:
        page = admin.get("/admin-area/filters").content.decode()
        cells = page.split('data-filter="')[1:]
        return {cell.split('"')[0]: cell.split("</td>")[1] for cell in cells}

    shown = badges()
    assert "webhook signed</span>" in shown["To the SOAR"]
    assert "webhook unsigned" in shown["Unsigned hook"]
    assert "webhook" not in shown["No hook"]
    settings.SOCDESK_FILTER_WEBHOOK_SECRET = "server-wide"
    assert "webhook signed (server secret)" in badges()["Unsigned hook"]


# --- the delivery log -------------------------------------------------------------------------------------


def deliveries(rule: FilterRule, count: int) -> None:
    now = timezone.now()
    FilterWebhookDelivery.objects.bulk_create(
        FilterWebhookDelivery(
            rule=rule,
            filter_name=rule.name,
            url=f"{HOOK}?n={n}",
            event="ticket.created",
            status="failed" if n == count - 1 else "delivered",
            attempts=8 if n == count - 1 else 1,
            response_code=503 if n == count - 1 else 200,
            last_error="The receiver answered HTTP 503 Service Unavailable." if n == count - 1 else "",
            next_attempt_at=now,
            created_at=now - timedelta(minutes=count - n),
        )
        for n in range(count)
    )


def test_the_edit_page_shows_the_last_20_webhook_deliveries_newest_first(
    people, django_assert_max_num_queries
):
    rule = hook_filter()
    other = make_filter(
        "Other hook",
        [{"field": "subject", "operator": "contains", "value": "x"}],
        [{"type": "webhook", "value": HOOK}],
    )
    deliveries(other, 3)
    admin = client_for(people.admin)
    empty = admin.get(f"/admin-area/filters/{rule.pk}").content.decode()
    assert "Recent webhook deliveries" in empty and "No calls yet" in empty
    deliveries(rule, 25)
    admin.get(f"/admin-area/filters/{rule.pk}")
    with django_assert_max_num_queries(20):
        page = admin.get(f"/admin-area/filters/{rule.pk}").content.decode()
    log = page.split('id="webhook-deliveries"')[1].split("</section>")[0]
    assert log.count("<tr>") == 21  # the header and 20 calls
    assert f"{HOOK}?n=24" in log and f"{HOOK}?n=5<" in log and f"{HOOK}?n=4<" not in log
    assert log.index("?n=24") < log.index("?n=23")
    assert "The receiver answered HTTP 503 Service Unavailable." in log and "HTTP 503" in log
    assert ">failed<" in log and ">delivered<" in log


def test_a_filter_without_a_webhook_has_no_delivery_log(people):
    rule = make_filter(
        "Tag",
        [{"field": "subject", "operator": "contains", "value": "x"}],
        [{"type": "add_tags", "value": "x"}],
    )
    page = client_for(people.admin).get(f"/admin-area/filters/{rule.pk}").content.decode()
    assert "Recent webhook deliveries" not in page


# --- in a real browser ------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_admin_ticks_an_event_and_sets_a_secret_in_the_browser(people, live_server, page, screenshots):
    from playwright.sync_api import expect

    from tests.browser.conftest import sign_in
    from tests.browser.test_admin_area_browser import PHONE, no_sideways_scroll
    from tests.browser.test_csp_browser import PolicyWatch

    base = live_server.url
    watch = PolicyWatch(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.goto(f"{base}/admin-area/filters/new")
    secret_box = page.locator("#webhook-secret")
    expect(secret_box).to_be_hidden()  # nothing calls a webhook yet
    page.get_by_label("Name").fill("Phishing to the SOAR")
    page.locator("[name=cond-0-field]").fill("subject")
    page.locator("[name=cond-0-value]").fill("phish")
    page.locator("[name=act-0-type]").select_option(label="Call a webhook")
    expect(secret_box).to_be_visible()
    page.locator("[name=act-0-value]").fill(HOOK)
    # A status change only fits a ticket's opening: with an event ticked, the service refuses it.
    page.locator("[name=act-1-type]").select_option(label="Set status")
    page.locator("[name=act-1-target]").select_option(label="resolved")
    page.locator("input[name=on_events][value=reply_received]").check()
    page.get_by_label("Secret", exact=True).fill(SECRET)
    watch.check(screenshots / "filter-events-secret-editor.png")
    page.get_by_role("button", name="Create filter").click()
    expect(page.locator("#events .field-error")).to_contain_text("only applies when a ticket is opened")
    expect(page.locator("#webhook-secret")).to_contain_text("The secret you typed was not saved")
    assert page.get_by_label("Secret", exact=True).input_value() == ""
    watch.check(screenshots / "filter-events-secret-refused.png")
    assert not FilterRule.objects.exists()

    page.locator("[name=act-1-type]").select_option(label="—")
    page.get_by_label("Secret", exact=True).fill(SECRET)
    page.get_by_role("button", name="Create filter").click()
    expect(page.locator(".messages, [role=alert]").first).to_contain_text(
        "Filter Phishing to the SOAR created."
    )
    rule = FilterRule.objects.get()
    assert (rule.on_events, rule.webhook_secret) == (["reply_received"], SECRET)
    expect(page.locator("#webhook-secret")).to_contain_text("A secret is set — leave blank to keep it.")
    assert page.get_by_label("New secret").input_value() == ""
    expect(page.locator("input[name=on_events][value=reply_received]")).to_be_checked()
    assert SECRET not in page.content()

    deliveries(rule, 3)
    page.reload()
    expect(page.locator("#webhook-deliveries tbody tr")).to_have_count(3)
    watch.check(screenshots / "filter-events-secret-saved.png")
    page.set_viewport_size(PHONE)
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / "filter-events-secret-phone.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})

    page.get_by_role("link", name="Back to the list").click()
    row = page.locator("tr[data-filter='Phishing to the SOAR']")
    expect(row.locator(".runs-on")).to_contain_text("new ticket")
    expect(row.locator(".runs-on")).to_contain_text("reply received")
    expect(row).to_contain_text("webhook signed")
    watch.check(screenshots / "filter-events-secret-list.png")
