"""The status state machine, every pair of statuses."""

import itertools

import pytest

from socdesk.tickets.choices import Status
from socdesk.tickets.workflow import allowed_next, can_transition, transition_error

ALLOWED = {
    ("new", "in_progress"),
    ("new", "resolved"),
    ("in_progress", "on_hold"),
    ("in_progress", "resolved"),
    ("on_hold", "in_progress"),
    ("on_hold", "resolved"),
    ("resolved", "closed"),
    ("resolved", "in_progress"),
    ("closed", "in_progress"),
}


@pytest.mark.parametrize(("current", "new"), list(itertools.product(Status.values, Status.values)))
def test_every_transition(current, new):
    assert can_transition(current, new) is ((current, new) in ALLOWED)
    error = transition_error(current, new)
    if (current, new) in ALLOWED:
        assert error is None
    else:
        assert (error and "cannot" in error) or "already" in error


def test_refusal_names_the_options():
    assert transition_error("new", "closed") == (
        "A ticket that is new cannot become closed; it can become: in progress, resolved."
    )
    assert allowed_next("resolved") == ["in_progress", "closed"]
