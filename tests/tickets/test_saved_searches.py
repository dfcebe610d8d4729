"""Saved searches: the services, who sees which, who may share, and how their queries are kept."""

from __future__ import annotations

import pytest

from socdesk.accounts.services import agent_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.tickets.models import SavedSearch
from socdesk.tickets.saved_searches import normalise_query, saved_search_filter
from socdesk.tickets.selectors import saved_search_get_for_agent, saved_searches_visible_to
from socdesk.tickets.services import (
    saved_search_create,
    saved_search_delete,
    saved_search_move,
    saved_search_update,
)


def _save(agent, name="Critical open", query="queue=open&severity=critical", department=None):
    return saved_search_create(
        actor=Actor.for_agent(agent, ip="10.0.0.9"), name=name, query=query, department=department
    )


# --- the query kept -------------------------------------------------------------------------------------


def test_query_keeps_only_filter_parameters_in_a_fixed_order():
    query = normalise_query("page=3&severity=high&q=powershell&junk=1&queue=open&severity=critical&tag=")
    assert query == "queue=open&severity=high&severity=critical&q=powershell"


def test_control_characters_are_dropped():
    assert normalise_query("q=power%00shell&tag=%07") == "queue=open&q=powershell"


def test_q_is_kept_as_sent():
    assert normalise_query({"q": 'ip:203.0.113.7 -"false positive"'}) == (
        "queue=open&q=ip%3A203.0.113.7+-%22false+positive%22"
    )


# --- create ---------------------------------------------------------------------------------------------


def test_create_a_personal_search_is_audited(people):
    saved = _save(people.alice, query="severity=critical&page=2")
    assert (saved.owner, saved.department, saved.query) == (
        people.alice,
        None,
        "queue=open&severity=critical",
    )
    event = AuditEvent.objects.get(action="saved_search.created")
    assert event.target_id == str(saved.pk)
    assert event.after["query"] == "queue=open&severity=critical"
    assert event.ip == "10.0.0.9"


def test_positions_follow_the_order_of_saving(people):
    first, second = _save(people.alice, name="One"), _save(people.alice, name="Two")
    assert (first.position, second.position) == (0, 1)


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [
        ("", "queue=open", "Give the saved search a name."),
        ("x" * 81, "queue=open", "keep it to 80"),
        ("Bad", "severity=apocalyptic", "cannot be saved until its filter is corrected: Unknown severity"),
        ("Long", "q=" + "a" * 2100, None),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(people, name, query, message):
    with pytest.raises(ServiceError) as refused:
        _save(people.alice, name=name, query=query)
    if message:
        assert message in refused.value.message
    assert not SavedSearch.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="saved_search").exists()


def test_long_text_is_cut_by_the_filter_so_it_still_saves(people):
    # TicketFilter reads at most 200 characters of `q`; the saved text is what was sent, within bounds.
    saved = _save(people.alice, query="q=" + "a" * 500)
    assert saved.query == "queue=open&q=" + "a" * 500


def test_same_name_twice_is_refused(people):
    _save(people.alice, name="Criticals")
    with pytest.raises(ServiceError, match="already have a saved search named"):
        _save(people.alice, name="criticals")
    assert SavedSearch.objects.count() == 1


def test_an_api_key_without_an_agent_cannot_save(people):
    with pytest.raises(PermissionDenied, match="belong to an agent"):
        saved_search_create(actor=Actor.system("job"), name="x", query="queue=open")


# --- sharing and who sees what -------------------------------------------------------------------------


def test_an_analyst_cannot_share(people):
    with pytest.raises(PermissionDenied, match="may not share searches with SOC"):
        _save(people.alice, department=people.soc)
    assert not SavedSearch.objects.exists()


def test_a_lead_shares_with_their_department_only(people, lead):
    shared = _save(lead, department=people.soc)
    assert shared.department == people.soc
    with pytest.raises(PermissionDenied, match="IT Help Desk"):
        _save(lead, name="IT", department=people.it)
    assert SavedSearch.objects.count() == 1


def test_an_admin_may_share_anywhere(people):
    assert _save(people.admin, department=people.it).department == people.it


def test_visibility_own_and_shared_with_the_agents_departments(people, lead):
    mine = _save(people.alice, name="Mine")
    bobs = _save(people.bob, name="Bob's")
    shared = _save(lead, name="SOC criticals", department=people.soc)
    assert list(saved_searches_visible_to(people.alice)) == [mine, shared]
    assert list(saved_searches_visible_to(people.bob)) == [bobs, shared]
    assert list(saved_searches_visible_to(people.carol)) == []
    for hidden in (mine, shared):
        with pytest.raises(NotFound):
            saved_search_get_for_agent(people.carol, hidden.pk)
    with pytest.raises(NotFound):
        saved_search_get_for_agent(people.bob, mine.pk)


# --- update and delete ----------------------------------------------------------------------------------


def test_rename_share_and_move_are_audited_with_what_changed(people, lead):
    saved = _save(lead)
    actor = Actor.for_agent(lead)
    saved_search_update(
        actor=actor, saved_search=saved, name="SOC criticals", department=people.soc, position=4
    )
    saved.refresh_from_db()
    assert (saved.name, saved.department, saved.position) == ("SOC criticals", people.soc, 4)
    event = AuditEvent.objects.get(action="saved_search.updated")
    assert event.before == {"name": "Critical open", "department": None, "position": 0}
    assert event.after == {"name": "SOC criticals", "department": people.soc.pk, "position": 4}


def test_an_update_that_changes_nothing_records_nothing(people):
    saved = _save(people.alice)
    saved_search_update(actor=Actor.for_agent(people.alice), saved_search=saved, name="Critical open")
    assert not AuditEvent.objects.filter(action="saved_search.updated").exists()


def test_others_cannot_change_or_see_a_personal_search(people):
    saved = _save(people.alice)
    with pytest.raises(NotFound):
        saved_search_update(actor=Actor.for_agent(people.bob), saved_search=saved, name="Mine now")
    with pytest.raises(NotFound):
        saved_search_delete(actor=Actor.for_agent(people.carol), saved_search=saved)
    saved.refresh_from_db()
    assert saved.name == "Critical open"


def test_an_analyst_sees_a_shared_search_but_may_not_change_it(people, lead):
    shared = _save(lead, department=people.soc)
    with pytest.raises(PermissionDenied, match="Only Dave or a lead of SOC"):
        saved_search_update(actor=Actor.for_agent(people.alice), saved_search=shared, name="Mine")
    with pytest.raises(PermissionDenied):
        saved_search_delete(actor=Actor.for_agent(people.alice), saved_search=shared)
    assert SavedSearch.objects.get().name == "Critical open"


def test_an_analyst_cannot_share_their_own_search_later(people):
    saved = _save(people.alice)
    with pytest.raises(PermissionDenied):
        saved_search_update(actor=Actor.for_agent(people.alice), saved_search=saved, department=people.soc)
    saved.refresh_from_db()
    assert saved.department is None


def test_delete_is_audited(people):
    saved = _save(people.alice)
    saved_search_delete(actor=Actor.for_agent(people.alice), saved_search=saved)
    assert not SavedSearch.objects.exists()
    event = AuditEvent.objects.get(action="saved_search.deleted")
    assert (event.target_type, event.target_id, event.before["name"]) == (
        "savedsearch",
        str(saved.pk),
        "Critical open",
    )


# --- a search whose parameters went stale ----------------------------------------------------------------


def test_a_removed_agent_in_a_saved_search_is_reported(people):
    setup = Actor.system("test-setup")
    gone = agent_create(actor=setup, username="erin", email="erin@example.test", password="x" * 12)
    saved = _save(people.alice, query=f"queue=all&assignee={gone.pk}")
    gone.user.delete()
    ticket_filter = saved_search_filter(saved)
    assert "an agent that no longer exists" in ticket_filter.errors["assignee"]


# --- reordering -----------------------------------------------------------------------------------------


def test_move_swaps_with_the_neighbour_and_is_audited(people):
    *_, three = (_save(people.alice, name=n) for n in ("One", "Two", "Three"))
    saved_search_move(actor=Actor.for_agent(people.alice), saved_search=three, offset=-1)
    assert [s.name for s in saved_searches_visible_to(people.alice)] == ["One", "Three", "Two"]
    event = AuditEvent.objects.get(action="saved_search.moved")
    assert (event.target_id, event.before, event.after) == (str(three.pk), {"position": 2}, {"position": 1})


def test_moving_past_either_end_says_so_and_changes_nothing(people):
    first = _save(people.alice, name="One")
    _save(people.alice, name="Two")
    with pytest.raises(ServiceError, match="“One” is already the first of your saved searches"):
        saved_search_move(actor=Actor.for_agent(people.alice), saved_search=first, offset=-1)
    assert [s.position for s in SavedSearch.objects.order_by("id")] == [0, 1]
    assert not AuditEvent.objects.filter(action="saved_search.moved").exists()


def test_only_the_owner_moves_a_search(people, lead):
    shared = _save(lead, department=people.soc)
    with pytest.raises(PermissionDenied, match="only reorder your own"):
        saved_search_move(actor=Actor.for_agent(people.alice), saved_search=shared, offset=1)
    with pytest.raises(NotFound):
        saved_search_move(actor=Actor.for_agent(people.carol), saved_search=shared, offset=1)
