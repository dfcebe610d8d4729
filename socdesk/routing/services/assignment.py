"""Writes for auto-assignment policies: one per department or team, set by admins, audited."""

from __future__ import annotations

from django.db import transaction

from socdesk.accounts.models import Department, Team
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.routing.choices import AssignmentMode
from socdesk.routing.models import AssignmentPolicy


@transaction.atomic
def assignment_policy_set(
    *, actor: Actor, mode: str, department: Department | None = None, team: Team | None = None
) -> AssignmentPolicy:
    """Choose how a department's or a team's new unassigned tickets get an agent (admins only).

    `mode` is `none`, `round_robin` or `fewest_open`; a team's policy (other than `none`) comes before
    its department's. Changing the mode restarts round-robin from the first agent.
    """
    if actor.agent is not None and not actor.agent.is_admin:
        raise PermissionDenied("Only an admin may change how tickets are assigned automatically.")
    if (department is None) == (team is None):
        raise ServiceError("An assignment policy belongs to one department or one team.")
    if mode not in AssignmentMode.values:
        raise ServiceError(
            f"Unknown assignment mode {mode!r}: choose one of {', '.join(AssignmentMode.values)}.",
            fields={"assignment_mode": "invalid"},
        )
    policies = AssignmentPolicy.objects.select_for_update()
    policy, _created = (
        policies.get_or_create(department=department)
        if department is not None
        else policies.get_or_create(team=team)
    )
    before = policy.mode
    if before == mode:
        return policy
    policy.mode = mode
    policy.last_agent = None
    policy.save(update_fields=["mode", "last_agent", "updated_at"])
    target = department if department is not None else team
    assert target is not None
    record(
        actor=actor,
        action="assignment_policy.changed",
        target=target,
        before={"assignment_mode": before},
        after={"assignment_mode": mode},
    )
    return policy
