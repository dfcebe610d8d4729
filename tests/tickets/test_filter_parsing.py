"""TicketFilter parsing extensions used by the API: default queue, unknown queue/sort, out-of-range ids."""

from django.http import QueryDict

from socdesk.tickets.filters import TicketFilter


def test_default_queue_is_open_for_the_console_and_can_be_all_for_the_api():
    assert TicketFilter.from_querydict(QueryDict("")).queue == "open"
    assert TicketFilter.from_querydict(QueryDict(""), default_queue="all").queue == "all"
    assert TicketFilter.from_querydict(QueryDict("queue=closed"), default_queue="all").queue == "closed"


def test_unknown_queue_and_sort_fall_back_and_are_reported():
    f = TicketFilter.from_querydict(QueryDict("queue=everything&sort=sideways"))
    assert (f.queue, f.sort) == ("open", "activity")
    assert set(f.errors) == {"queue", "sort"} and "sideways" in f.errors["sort"]


def test_ids_beyond_64_bits_are_reported_not_passed_to_the_database():
    f = TicketFilter.from_querydict(QueryDict(f"department={2**64}&team=-1&assignee=0"))
    assert f.department == [] and f.team == [] and f.assignee == [0]
    assert set(f.errors) == {"department", "team"}
