"""The demo's playbook: "Phishing triage", applied by ticket filters to phishing reported by e-mail and to
reports sent with the portal's "Report a suspicious e-mail" form.

The demo's own tickets do not get it: their timeline is replayed in the past, and tasks applied at the
moment of seeding would make their last activity "now" (an analyst applies it by hand to try it).
"""

from __future__ import annotations

from socdesk.cases.models import Playbook
from socdesk.cases.services import PlaybookDefinition, TemplateDefinition, playbook_create
from socdesk.demo.people import SETUP, People
from socdesk.routing.models import FilterRule
from socdesk.routing.services.filters import FilterDefinition, filter_create

PHISHING_TRIAGE = "Phishing triage"
# The portal form (socdesk/demo/portal_forms.py) whose reports get the playbook too.
PORTAL_PHISHING_TOPIC = "Report a suspicious e-mail"
# (title, description, minutes after applying, required, team)
PHISHING_TASKS = [
    (
        "Collect the reported message",
        "Get the original as an .eml attachment (not a forward): headers and links intact.",
        30,
        True,
        "Tier 1",
    ),
    (
        "Check sender authentication",
        "SPF, DKIM and DMARC results in the headers; a look-alike domain counts as a fail.",
        60,
        True,
        "Tier 1",
    ),
    (
        "Search for other recipients",
        "Message trace on the sender and subject over the last 7 days; list every mailbox reached.",
        120,
        True,
        "Tier 2",
    ),
    (
        "Block the URL",
        "Add the URL and its domain to the proxy and mail gateway block lists.",
        120,
        True,
        "Tier 2",
    ),
    (
        "Reset the user's password if credentials were entered",
        "Ask the user; check sign-in logs for the account. Skip with the reason when none were entered.",
        240,
        True,
        "Incident Response",
    ),
    (
        "Close with a verdict",
        "Set the resolution (true or false positive) and tell the reporter what was done.",
        None,
        False,
        None,
    ),
]


def seed_phishing_playbook(people: People) -> Playbook:
    """Create the playbook and the ticket filter that applies it (once each)."""
    playbook = Playbook.objects.filter(name__iexact=PHISHING_TRIAGE).first()
    if playbook is None:
        playbook = playbook_create(
            actor=SETUP,
            definition=PlaybookDefinition(
                name=PHISHING_TRIAGE,
                description="For a user's report of a suspicious e-mail.",
                templates=[
                    TemplateDefinition(
                        title=title,
                        description=description,
                        due_minutes=minutes,
                        required=required,
                        team_id=people.teams[team].pk if team else None,
                    )
                    for title, description, minutes, required, team in PHISHING_TASKS
                ],
            ),
        )
    for definition in phishing_filters(playbook):
        if not FilterRule.objects.filter(name__iexact=definition.name).exists():
            filter_create(actor=SETUP, definition=definition)
    return playbook


def phishing_filters(playbook: Playbook) -> list[FilterDefinition]:
    """The ticket filters that apply the playbook: one for e-mail whose subject speaks of phishing, one
    for the portal's phishing-report form (its tickets are titled "Suspicious e-mail: ...", opened on
    the web channel, so the e-mail filter never sees them)."""
    apply = [{"type": "apply_playbook", "value": playbook.pk}]
    return [
        FilterDefinition(
            name="Phishing reports get the triage playbook",
            conditions=[{"field": "subject", "operator": "matches", "value": "(?i)phish"}],
            actions=apply,
            channel="email",
        ),
        FilterDefinition(
            name="Portal phishing reports get the triage playbook",
            conditions=[{"field": "help_topic", "operator": "equals", "value": PORTAL_PHISHING_TOPIC}],
            actions=apply,
        ),
    ]
