"""The per-process snapshot of the routing configuration: read once, replaced whenever anything changes it."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.services import department_create
from socdesk.routing import snapshot
from socdesk.routing.models import AssignmentPolicy, DepartmentSLA, RulesetVersion, SLATarget, TicketSLA
from socdesk.routing.services.sla_clocks import department_sla_set
from socdesk.tickets.services import TicketDraft, ticket_create_many
from tests.routing.sla_fixtures import SETUP, clock_of, make_plans, open_ticket

pytestmark = pytest.mark.django_db

CONFIGURATION_TABLES = (
    "routing_filterrule",
    "routing_customfield",
    "routing_customform",
    "routing_helptopic",
    "routing_slaplan",
    "routing_slatarget",
    "routing_escalationlevel",
    "routing_schedule",
    "routing_workinghours",
    "routing_holiday",
    "routing_departmentsla",
    "routing_assignmentpolicy",
)


def _configuration_reads(people) -> list[str]:
    drafts = [
        TicketDraft(actor=SETUP, subject=f"Alert {i}", department=people.soc, severity="high")
        for i in range(3)
    ]
    with CaptureQueriesContext(connection) as queries:
        ticket_create_many(drafts)
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and any(table in q["sql"] for table in CONFIGURATION_TABLES)
    ]


def test_a_second_batch_reads_no_configuration_only_the_stamp(people):
    make_plans(people)
    assert _configuration_reads(people)  # the first batch builds the snapshot
    assert _configuration_reads(people) == []


def test_a_change_saved_outside_the_services_is_seen_by_the_next_ticket(people):
    """Django's admin or a script saving a model directly: the save moves the stamp (a signal)."""
    plans = make_plans(people)
    assert clock_of(open_ticket(people, severity="high")).response_due_at is not None
    target = SLATarget.objects.get(plan=plans.standard, severity="high")
    target.response_minutes = 5
    target.save()
    ticket = open_ticket(people, severity="high")
    assert (clock_of(ticket).response_due_at - ticket.created_at).total_seconds() == 5 * 60


def test_a_cascade_delete_moves_the_stamp(people):
    """Deleting a department deletes its plan choice by cascade: the snapshot does not keep it."""
    plans = make_plans(people)
    lab = department_create(actor=SETUP, name="Lab")
    department_sla_set(actor=SETUP, department=lab, plan=plans.fast)
    stamp = RulesetVersion.objects.get().stamp
    lab.delete()
    assert not DepartmentSLA.objects.filter(plan=plans.fast).exists()
    assert RulesetVersion.objects.get().stamp != stamp


def test_a_rolled_back_change_never_stays_in_the_snapshot(people):
    plans = make_plans(people)
    open_ticket(people)  # snapshot at the committed stamp
    with pytest.raises(RuntimeError), transaction.atomic():
        department_sla_set(actor=SETUP, department=people.soc, plan=plans.fast)
        assert clock_of(open_ticket(people)).plan_id == plans.fast.pk  # seen inside its transaction
        raise RuntimeError("roll back")
    assert clock_of(open_ticket(people)).plan_id == plans.standard.pk


def test_a_change_by_another_process_is_seen_through_the_stamp(people):
    """Another process's write (simulated by a write without signals and a moved stamp row)."""
    make_plans(people)
    open_ticket(people)
    AssignmentPolicy.objects.bulk_create([AssignmentPolicy(department=people.soc, mode="round_robin")])
    assert open_ticket(people).assignee is None  # stamp unchanged: the snapshot knows no policy
    RulesetVersion.objects.filter(pk=1).update(stamp="moved-by-another-process")
    assert open_ticket(people).assignee is not None
    assert TicketSLA.objects.count() == 3


# --- pinned: one read of the stamp for a unit of work -------------------------------------------------


def _stamp_reads(queries) -> int:
    return sum("routing_rulesetversion" in q["sql"] and q["sql"].startswith("SELECT") for q in queries)


def test_a_pinned_block_reads_the_stamp_once_and_later_blocks_read_it_again(people):
    make_plans(people)
    with CaptureQueriesContext(connection) as queries, snapshot.pinned() as pinned:
        assert snapshot.current() is pinned and snapshot.current() is pinned
        with snapshot.pinned() as inner:  # nested: the outer pin
            assert inner is pinned
    assert _stamp_reads(queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:
        snapshot.current()
        snapshot.current()
    assert _stamp_reads(queries.captured_queries) == 2


def test_a_change_inside_a_pinned_block_is_seen_by_its_later_steps(people):
    plans = make_plans(people)
    with transaction.atomic(), snapshot.pinned() as before:
        assert clock_of(open_ticket(people)).plan_id == plans.standard.pk
        department_sla_set(actor=SETUP, department=people.soc, plan=plans.fast)
        assert snapshot.current() is not before
        assert clock_of(open_ticket(people)).plan_id == plans.fast.pk


def test_a_batch_of_tickets_reads_the_stamp_once(people):
    make_plans(people)
    drafts = [
        TicketDraft(actor=SETUP, subject=f"Alert {i}", department=people.soc, severity="high")
        for i in range(3)
    ]
    with CaptureQueriesContext(connection) as queries, snapshot.pinned():
        ticket_create_many(drafts)
    assert _stamp_reads(queries.captured_queries) == 1
