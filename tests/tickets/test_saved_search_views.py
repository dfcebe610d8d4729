"""Saved searches in the console: saved from the queue page, shown as tabs and home cards, opened, changed."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.services import access_grant, access_revoke, agent_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.tickets import services
from socdesk.tickets.models import SavedSearch
from tests.console_helpers import client_for


@pytest.fixture
def alice(people):
    return client_for(people.alice)


def _ticket(people, subject, severity="medium", department=None):
    return services.ticket_create(
        actor=people.actor(people.admin),
        subject=subject,
        department=department or people.soc,
        severity=severity,
    )


def _save(agent, name="Criticals", query="queue=open&severity=critical", department=None):
    return services.saved_search_create(
        actor=Actor.for_agent(agent), name=name, query=query, department=department
    )


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


# --- saving from the queue page ------------------------------------------------------------------------


def test_queue_page_offers_to_save_the_current_filter(alice, people):
    html = alice.get("/tickets/?queue=open&severity=critical&page=2").content.decode()
    assert 'action="/tickets/saved/new"' in html
    assert 'name="query" value="queue=open&amp;severity=critical"' in html
    # An analyst may not share: the only choice is "Only me".
    assert "Everyone in" not in html


def test_save_then_open_it_as_a_tab(alice, people):
    _ticket(people, "Ransomware note on FS-01", severity="critical")
    _ticket(people, "Printer jam", severity="low")
    response = alice.post(
        "/tickets/saved/new", {"name": "Criticals", "query": "queue=open&severity=critical"}
    )
    saved = SavedSearch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/saved/{saved.pk}/"
    page = alice.get(response["Location"])
    html = page.content.decode()
    assert "Ransomware note on FS-01" in html
    assert "Printer jam" not in html
    assert re.search(rf'data-saved-tab="{saved.pk}" aria-current="page"', html)
    assert "only you see it" in html
    assert "Saved “Criticals” (for you only)" in html


def test_saved_tabs_show_on_every_queue_page(alice, people, lead):
    _save(people.alice, name="Mine")
    _save(lead, name="SOC criticals", department=people.soc)
    html = alice.get("/tickets/?queue=all").content.decode()
    assert ">Mine</a>" in html
    assert 'title="Shared with SOC by Dave"' in html
    assert "SOC criticals" in html


def test_an_analyst_cannot_share_from_the_page(alice, people):
    response = alice.post(
        "/tickets/saved/new",
        {"name": "Everyone's", "query": "queue=open", "department": people.soc.pk},
        follow=True,
    )
    assert "The search was not saved: You may not share searches with that department." in _messages(response)
    assert not SavedSearch.objects.exists()


def test_a_lead_shares_with_their_department_but_not_another(people, lead):
    client = client_for(lead)
    assert "Everyone in SOC" in client.get("/tickets/").content.decode()
    client.post("/tickets/saved/new", {"name": "SOC", "query": "queue=open", "department": people.soc.pk})
    response = client.post(
        "/tickets/saved/new", {"name": "IT", "query": "queue=open", "department": people.it.pk}, follow=True
    )
    assert "not saved" in _messages(response)
    assert list(SavedSearch.objects.values_list("name", "department")) == [("SOC", people.soc.pk)]


def test_a_bad_filter_is_refused_with_the_reason_and_nothing_saved(alice):
    response = alice.post("/tickets/saved/new", {"name": "Odd", "query": "sort=sideways"}, follow=True)
    assert "The search was not saved: This search cannot be saved until its filter is corrected" in _messages(
        response
    )
    assert not SavedSearch.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="saved_search").exists()


def test_saving_without_a_name_says_so(alice):
    response = alice.post("/tickets/saved/new", {"name": "", "query": "queue=open"}, follow=True)
    assert "Give the saved search a name." in _messages(response)
    assert not SavedSearch.objects.exists()


# --- who may open which --------------------------------------------------------------------------------


def test_another_departments_shared_search_is_a_404(people, lead):
    shared = _save(lead, department=people.soc)
    carol = client_for(people.carol)
    assert carol.get(f"/tickets/saved/{shared.pk}/").status_code == 404
    assert carol.post(f"/tickets/saved/{shared.pk}/delete").status_code == 404
    assert "Criticals" not in carol.get("/tickets/").content.decode()
    assert SavedSearch.objects.filter(pk=shared.pk).exists()


def test_someone_elses_personal_search_is_a_404(people, alice):
    bobs = _save(people.bob)
    assert alice.get(f"/tickets/saved/{bobs.pk}/").status_code == 404
    assert alice.get("/tickets/saved/999999/").status_code == 404


def test_an_analyst_opens_a_shared_search_but_gets_no_edit_controls(alice, people, lead):
    shared = _save(lead, department=people.soc)
    html = alice.get(f"/tickets/saved/{shared.pk}/").content.decode()
    assert "shared with SOC by Dave" in html
    assert f"/tickets/saved/{shared.pk}/edit" not in html
    response = alice.post(f"/tickets/saved/{shared.pk}/edit", {"name": "Mine now"}, follow=True)
    assert "Only Dave or a lead of SOC may change" in _messages(response)
    assert SavedSearch.objects.get().name == "Criticals"


# --- opening, paging and sorting -----------------------------------------------------------------------


def test_paging_and_sorting_apply_on_top_of_the_saved_filter(alice, people, settings):
    settings.SOCDESK_QUEUE_PAGE_SIZE = 1
    for n in range(3):
        _ticket(people, f"Critical {n}", severity="critical")
    _ticket(people, "Low one", severity="low")
    saved = _save(people.alice)
    html = alice.get(f"/tickets/saved/{saved.pk}/?page=2&sort=-number&severity=low").content.decode()
    assert "Critical 1" in html
    assert "Low one" not in html  # only paging and sorting come from the address, never the filter
    assert "2\u20132 of 3" in html


def test_a_search_naming_a_removed_agent_opens_with_the_reason(alice, people):
    setup = Actor.system("test-setup")
    gone = agent_create(actor=setup, username="erin", email="erin@example.test", password="x" * 12)
    saved = _save(people.alice, query=f"queue=all&assignee={gone.pk}")
    gone.user.delete()
    response = alice.get(f"/tickets/saved/{saved.pk}/")
    assert response.status_code == 200
    assert "This saved search filters on an agent that no longer exists" in response.content.decode()


def test_a_search_the_filter_no_longer_accepts_opens_with_the_filters_error(alice, people):
    saved = _save(people.alice)
    # As if a later version dropped a severity: the stored text is what the filter reads next time.
    SavedSearch.objects.filter(pk=saved.pk).update(query="severity=catastrophic")
    response = alice.get(f"/tickets/saved/{saved.pk}/")
    assert response.status_code == 200
    assert "Unknown severity catastrophic" in response.content.decode()


# --- rename, share, delete -----------------------------------------------------------------------------


def test_rename_and_delete_from_the_saved_page(alice, people):
    saved = _save(people.alice)
    response = alice.post(f"/tickets/saved/{saved.pk}/edit", {"name": "Criticals now", "department": ""})
    assert response["Location"] == f"/tickets/saved/{saved.pk}/"
    assert SavedSearch.objects.get().name == "Criticals now"
    response = alice.post(f"/tickets/saved/{saved.pk}/delete", follow=True)
    assert "Saved search “Criticals now” deleted." in _messages(response)
    assert not SavedSearch.objects.exists()
    assert [
        e.action for e in AuditEvent.objects.filter(action__startswith="saved_search").order_by("id")
    ] == [
        "saved_search.created",
        "saved_search.updated",
        "saved_search.deleted",
    ]


def test_renaming_keeps_the_sharing_a_former_lead_set(people, lead):
    shared = _save(lead, department=people.soc)
    setup = Actor.system("test-setup")
    access_revoke(actor=setup, agent=lead, department=people.soc)
    access_grant(actor=setup, agent=lead, department=people.soc, role=people.analyst)  # no longer a lead
    client = client_for(lead)
    html = client.get(f"/tickets/saved/{shared.pk}/").content.decode()
    assert f'<option value="{people.soc.pk}" selected>Everyone in SOC</option>' in html
    client.post(f"/tickets/saved/{shared.pk}/edit", {"name": "Renamed", "department": people.soc.pk})
    shared.refresh_from_db()
    assert (shared.name, shared.department) == ("Renamed", people.soc)


def test_renaming_without_the_sharing_field_keeps_the_sharing(people, lead):
    shared = _save(lead, department=people.soc)
    client_for(lead).post(f"/tickets/saved/{shared.pk}/edit", {"name": "Renamed"})
    shared.refresh_from_db()
    assert (shared.name, shared.department) == ("Renamed", people.soc)
    client_for(lead).post(f"/tickets/saved/{shared.pk}/edit", {"name": "Renamed", "department": ""})
    shared.refresh_from_db()
    assert shared.department is None


def test_a_get_on_an_action_url_is_refused(alice, people):
    saved = _save(people.alice)
    assert alice.get(f"/tickets/saved/{saved.pk}/delete").status_code == 405
    assert SavedSearch.objects.exists()


# --- the landing page ----------------------------------------------------------------------------------


def test_home_shows_saved_searches_with_their_counts(alice, people, lead):
    _ticket(people, "Critical A", severity="critical")
    _ticket(people, "Critical B", severity="critical")
    _ticket(people, "IT critical", severity="critical", department=people.it)
    mine = _save(people.alice)
    shared = _save(lead, name="Everything", query="queue=all", department=people.soc)
    html = alice.get("/").content.decode()
    assert f'data-saved-count="{mine.pk}">2<' in html  # alice does not see IT's ticket
    assert f'data-saved-count="{shared.pk}">2<' in html
    assert "Shared with SOC" in html
    assert f'href="/tickets/saved/{mine.pk}/"' in html


def test_home_counts_are_capped(alice, people, settings):
    for n in range(3):
        _ticket(people, f"Critical {n}", severity="critical")
    saved = _save(people.alice)
    settings.SOCDESK_COUNT_CAP = 2
    assert f'data-saved-count="{saved.pk}">2+<' in alice.get("/").content.decode()


def test_home_queries_do_not_grow_with_the_number_of_saved_searches(alice, people, lead):
    _ticket(people, "Critical A", severity="critical")
    _save(people.alice, name="Only one")
    with CaptureQueriesContext(connection) as one:
        alice.get("/")
    for n in range(5):
        _save(people.alice, name=f"Mine {n}", query=f"queue=all&severity=critical&tag=t{n}")
    for n in range(4):
        _save(lead, name=f"Shared {n}", query=f"queue=open&source=web&q=x{n}", department=people.soc)
    assert len(alice.get("/").context["saved"]) == 10
    with CaptureQueriesContext(connection) as ten:
        alice.get("/")
    assert len(ten.captured_queries) == len(one.captured_queries)
    counting = [q["sql"] for q in ten.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counting) == len([q for q in one.captured_queries if "COUNT(" in q["sql"].upper()])


def test_queue_page_queries_do_not_grow_with_saved_tabs(alice, people, lead, django_assert_max_num_queries):
    _save(people.alice, name="Only one")
    with CaptureQueriesContext(connection) as one:
        alice.get("/tickets/")
    for n in range(9):
        _save(lead, name=f"Shared {n}", query=f"queue=open&q=x{n}", department=people.soc)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = alice.get("/tickets/").content.decode()
    assert html.count("data-saved-tab=") == 10


def test_the_audit_page_lists_saved_search_events(people):
    saved = _save(people.alice)
    services.saved_search_delete(actor=Actor.for_agent(people.alice), saved_search=saved)
    html = client_for(people.admin).get("/audit/").content.decode()
    assert "saved_search.created" in html
    assert "saved_search.deleted" in html


def test_move_a_saved_search_from_its_page(alice, people):
    first, second = _save(people.alice, name="One"), _save(people.alice, name="Two")
    html = alice.get(f"/tickets/saved/{second.pk}/").content.decode()
    assert 'value="earlier"' in html
    alice.post(f"/tickets/saved/{second.pk}/move", {"direction": "earlier"})
    html = alice.get("/tickets/").content.decode()
    assert html.index(f'data-saved-tab="{second.pk}"') < html.index(f'data-saved-tab="{first.pk}"')
    response = alice.post(f"/tickets/saved/{second.pk}/move", {"direction": "sideways"}, follow=True)
    assert "Choose whether to move the saved search earlier or later." in _messages(response)


def test_a_shared_search_offers_no_move_to_a_lead_who_does_not_own_it(people, lead):
    shared = _save(people.admin, department=people.soc)
    html = client_for(lead).get(f"/tickets/saved/{shared.pk}/").content.decode()
    assert f"/tickets/saved/{shared.pk}/edit" in html  # a SOC lead may rename it
    assert 'value="earlier"' not in html
