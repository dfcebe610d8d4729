"""Alert ingest opens its tickets through the same path, so a department's auto-assignment applies to a
batch of alerts too, in a constant number of queries."""

from __future__ import annotations

from collections import Counter

import pytest

from socdesk.alerts.ingest import deliveries_process, delivery_receive
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.routing.services.assignment import assignment_policy_set
from socdesk.tickets.models import Ticket

from .test_batch import body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("mode", ["round_robin", "fewest_open"])
def test_a_flood_of_alerts_is_shared_among_the_on_duty_agents(
    people, make_integration, django_assert_max_num_queries, mode
):
    assignment_policy_set(actor=Actor.system("test-setup"), department=people.soc, mode=mode)
    integration = make_integration("alertmanager")
    ids = [
        delivery_receive(adapter="alertmanager", body=body(f"fp{i}"), integration=integration).pk
        for i in range(120)
    ]
    # The unassigned flood costs 51 (tests/alerts/test_batch.py); assigning it adds a fixed handful:
    # the policy, the on-duty agents and their roles, the open counts, the pointer, one audit insert; and
    # here, the first batch of the process, which of the departments and teams assign (kept afterwards).
    # Two more for the SOC metrics (socdesk.reports): the new tickets journalled in one insert, and the
    # batch's alerts counted in its minute.
    with django_assert_max_num_queries(51 + 7 + 2):
        assert len(deliveries_process(delivery_ids=ids)) == 120
    shares = Counter(Ticket.objects.values_list("assignee__user__username", flat=True))
    assert shares == {"alice": 60, "bob": 60}
    assert AuditEvent.objects.filter(action="ticket.auto_assigned").count() == 120
