"""The ticket status state machine (pure: no database)."""

from __future__ import annotations

from socdesk.tickets.choices import Status

# new → in_progress ⇄ on_hold → resolved → closed; resolved/closed reopen to in_progress.
# new → resolved too: most alert triage is closing a false positive, which needs no "in progress" step.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.IN_PROGRESS, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.ON_HOLD, Status.RESOLVED}),
    Status.ON_HOLD: frozenset({Status.IN_PROGRESS, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),
}


def can_transition(current: str, new: str) -> bool:
    """True when the state machine allows going from `current` to `new`."""
    return new in TRANSITIONS.get(current, frozenset())


def allowed_next(current: str) -> list[str]:
    """Statuses reachable from `current`, in display order."""
    return [status for status in Status.values if status in TRANSITIONS.get(current, ())]


def transition_error(current: str, new: str) -> str | None:
    """A sentence explaining why `current` → `new` is refused, or None if it is allowed."""
    if current == new:
        return f"The ticket is already {Status(current).label.lower()}."
    if can_transition(current, new):
        return None
    options = ", ".join(Status(s).label.lower() for s in allowed_next(current))
    return (
        f"A ticket that is {Status(current).label.lower()} cannot become {Status(new).label.lower()}; "
        f"it can become: {options}."
    )
