"""What happened to a ticket, in words: used for stale-edit refusals and the ticket's history panel."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from socdesk.audit.models import AuditEvent
from socdesk.audit.selectors import events_for_target
from socdesk.core.errors import StaleVersion
from socdesk.tickets.choices import LINK_LABELS, Resolution, Severity, Status

if TYPE_CHECKING:
    from socdesk.accounts.models import Agent, Department, Team

ACTION_WORDS = {
    "ticket.created": "opened the ticket",
    "ticket.replied": "replied",
    "ticket.noted": "added an internal note",
    "ticket.message_added": "added a message",
    "ticket.assigned": "changed the assignment",
    "ticket.auto_assigned": "assigned the ticket automatically",
    "ticket.claimed": "claimed the ticket",
    "ticket.released": "released the ticket",
    "ticket.transferred": "transferred the ticket",
    "ticket.tagged": "changed the tags",
    "ticket.edited": "edited the ticket",
    "ticket.help_topic_changed": "changed the help topic",
}

# How the history words a new link, by the side this ticket is on.
LINKED_WORDS = {
    "related": "linked the ticket to {number} (related)",
    "duplicate_of": "marked the ticket a duplicate of {number}",
    "has_duplicate": "linked {number} as a duplicate of the ticket",
    "parent_of": "linked {number} as a child incident of the ticket",
    "child_of": "linked the ticket as a child incident of {number}",
}

# Sentences for the events apps above tickets record on tickets (the SLA's escalations), by action.
EVENT_DESCRIBERS: dict[str, Callable[[AuditEvent], str]] = {}


def event_describer_register(action: str, describe: Callable[[AuditEvent], str]) -> None:
    """Say how the ticket history words an action another app records on tickets (at start-up)."""
    EVENT_DESCRIBERS.setdefault(action, describe)


def describe_event(event: AuditEvent) -> str:
    """One short sentence for one audit event on a ticket."""
    before, after = event.before or {}, event.after or {}
    if event.action in EVENT_DESCRIBERS:
        return EVENT_DESCRIBERS[event.action](event)
    if event.action == "ticket.status_changed":
        old, new = _label(Status, before.get("status")), _label(Status, after.get("status"))
        text = f"changed the status from {old} to {new}"
        if after.get("resolution"):
            text += f" ({_label(Resolution, after['resolution']).lower()})"
        return text
    if event.action == "ticket.severity_changed":
        return (
            f"changed the severity from {_label(Severity, before.get('severity'))} "
            f"to {_label(Severity, after.get('severity'))}"
        )
    if event.action == "ticket.tagged":
        return f"set the tags to {', '.join(after.get('tags') or []) or 'none'}"
    if event.action == "observable.added":
        # One value (added one at a time) or a list (a pasted list, or found in a reply or note).
        values = after.get("observables") or [after.get("observable") or ""]
        shown = ", ".join(str(v).split(":", 1)[-1] for v in values[:5] if v)
        more = f" and {len(values) - 5} more" if len(values) > 5 else ""
        found = " (found in their text)" if after.get("origin") == "message" else ""
        return f"added the observable{'s' if len(values) != 1 else ''} {shown}{more}{found}"
    if event.action == "ticket.collaborator_added":
        how = " (copied on their e-mail)" if after.get("source") == "email_cc" else ""
        return f"added the collaborator {after.get('email', '')}{how}"
    if event.action == "ticket.collaborator_removed":
        return f"removed the collaborator {before.get('email', '')}"
    if event.action == "ticket.linked":
        phrase = LINKED_WORDS.get(str(after.get("kind")), "linked the ticket to {number}")
        return phrase.format(number=after.get("ticket", ""))
    if event.action == "ticket.unlinked":
        label = LINK_LABELS.get(str(before.get("kind")), str(before.get("kind"))).lower()
        why = f": {after['reason']}" if after.get("reason") else ""
        return f"removed the link to {before.get('ticket', '')} ({label}){why}"
    if event.action == "ticket.link_moved":
        label = LINK_LABELS.get(str(after.get("kind")), str(after.get("kind"))).lower()
        return (
            f"moved the link with {before.get('ticket', '')} to {after.get('ticket', '')} ({label}), "
            f"by the merge of {after.get('merge', '')}"
        )
    if event.action == "ticket.merged":
        return f"merged the ticket into {after.get('into', '')} as a duplicate"
    if event.action == "ticket.merge_received":
        return f"merged {after.get('from', '')} into the ticket ({after.get('summary', '')})"
    if event.action == "ticket.merge_undone":
        other = after.get("from") or before.get("from") or ""
        return f"undid the merge {'into' if after.get('from') else 'of'} {other}"
    if event.action == "ticket.custom_fields_changed":
        names = [name for name in after.get("custom_fields") or {}]
        return f"changed the custom field{'s' if len(names) != 1 else ''} {', '.join(names)}"
    if event.action == "ticket.edited":
        return "changed the " + " and ".join(k.replace("_at", " date") for k in after if k != "version")
    return ACTION_WORDS.get(event.action, event.action)


def _label(choices, value) -> str:
    try:
        return choices(value).label
    except ValueError:
        return str(value)


def changes_since(ticket_pk: int, version: int) -> list[str]:
    """Sentences for every change made after the given version, oldest first."""
    lines = []
    for event in events_for_target("ticket", ticket_pk):
        if (event.after or {}).get("version", 0) > version:
            lines.append(f"{event.actor_label} {describe_event(event)}")
    return lines


def stale_version_error(ticket, expected_version: int) -> StaleVersion:
    """The refusal for an edit based on an old version, naming what changed in the meantime."""
    changes = changes_since(ticket.pk, expected_version)
    detail = "; ".join(changes) if changes else "it was changed"
    return StaleVersion(
        f"Ticket {ticket.number} changed since you loaded it: {detail}. "
        "Your change was not saved; review the ticket and try again.",
        fields={"version": str(ticket.version)},
    )


def assignment_words(
    before: tuple[Agent | None, Team | None], after: tuple[Agent | None, Team | None]
) -> str:
    """What an assignment changed, naming only the sides that changed: "assigned the ticket to Bob
    (was Alice) and set the team to Tier 1" (empty when nothing changed)."""
    (old_agent, old_team), (agent, team) = before, after
    parts = []
    if old_agent != agent:
        if agent is None:
            parts.append(f"unassigned {old_agent.name if old_agent else 'nobody'}")
        else:
            parts.append(
                f"assigned the ticket to {agent.name}" + (f" (was {old_agent.name})" if old_agent else "")
            )
    if old_team != team:
        if team is None:
            parts.append(f"removed the team {old_team.name if old_team else ''}".rstrip())
        else:
            parts.append(f"set the team to {team.name}" + (f" (was {old_team.name})" if old_team else ""))
    return " and ".join(parts)


def transfer_consequences(
    department: Department,
    before: tuple[Agent | None, Team | None],
    after: tuple[Agent | None, Team | None],
) -> str:
    """What a transfer did to the assignee and team: cleared (and why) or kept, one sentence each."""
    (old_agent, old_team), (agent, team) = before, after
    sentences = []
    if old_agent is not None:
        sentences.append(
            f"{old_agent.name} stays assigned."
            if agent == old_agent
            else f"{old_agent.name} was unassigned: they hold no role in {department.name}."
        )
    if old_team is not None:
        sentences.append(
            f"The team {old_team.name} stays."
            if team == old_team
            else f"The team {old_team.name} was removed: it belongs to another department."
        )
    return " ".join(sentences)
