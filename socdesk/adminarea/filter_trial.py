"""The dry run's inputs and run: an existing ticket or a sample payload turned into what the ticket filters
look at, evaluated against the filters, and nothing written (no hit counts, no tickets, no audit).

A ticket is read through the agent's own selector (an admin sees all, so the page names only what exists).
A payload goes through the alert adapters exactly as a webhook delivery does (check, then normalise, then
the observables the pipeline would extract), then `subject_for_alert`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from socdesk.accounts.models import Agent
from socdesk.alerts import adapters
from socdesk.alerts import observables as obs
from socdesk.alerts.adapters import AdapterError, AdapterSettings
from socdesk.alerts.ingest import integration_settings
from socdesk.alerts.models import AlertRaw, Integration, TicketObservable
from socdesk.alerts.selectors import ticket_alerts
from socdesk.core.errors import NotFound
from socdesk.routing.apply import alert_as_dict
from socdesk.routing.dry_run import DryRun, dry_run
from socdesk.routing.matching import compile_filter, ruleset_of
from socdesk.routing.models import FilterRule
from socdesk.routing.selectors import filter_spec_of
from socdesk.routing.subjects import subject_for_ticket
from socdesk.routing.vocabulary import MatchSubject, RuleError, subject_for_alert
from socdesk.tickets.selectors import ticket_get_for_agent

# A sample may hold many alerts (an Alertmanager group); the page explains the first few.
SAMPLE_ALERTS_SHOWN = 10


class TrialError(ValueError):
    """Input the dry run cannot use, with a sentence saying what to change."""


@dataclass(frozen=True)
class Trial:
    """One subject tried: what it is (a ticket or an alert of the sample) and the filters' outcome."""

    label: str
    subject: MatchSubject
    outcome: DryRun


def subjects_for_ticket_number(agent: Agent, number: str) -> list[tuple[str, MatchSubject]]:
    """The subject of one ticket the agent may see; TrialError when there is none by that number."""
    try:
        ticket = ticket_get_for_agent(agent, number)
    except NotFound:
        raise TrialError(f"There is no ticket {number.strip()!r} you can see; check the number.") from None
    observables = TicketObservable.objects.filter(ticket=ticket).values_list(
        "observable__type", "observable__value"
    )
    first_alert = ticket_alerts(ticket).order_by("first_seen", "id").first()
    alert: dict[str, Any] | None = None
    channel_id: int | None = None
    if first_alert is not None:
        raw = AlertRaw.objects.filter(alert=first_alert).values_list("payload", flat=True).first()
        alert = {
            "title": first_alert.title,
            "description": first_alert.description,
            "severity": first_alert.severity,
            "fingerprint": first_alert.fingerprint,
            "external_id": first_alert.external_id,
            "status": first_alert.status,
            "source": first_alert.source,
            "raw": raw,
            "labels": {},
        }
        channel_id = first_alert.integration_id
    subject = subject_for_ticket(ticket, observables=list(observables), alert=alert, channel_id=channel_id)
    return [(f"Ticket {ticket.number}: {ticket.subject}", subject)]


def subjects_for_payload(
    adapter: str, body: str, integration: Integration | None = None
) -> list[tuple[str, MatchSubject]]:
    """The subjects of the alerts a sample payload makes: with an integration, as sent to it (its adapter,
    settings and id, so filters for that integration apply); else with the adapter's default settings."""
    settings = integration_settings(integration) if integration is not None else AdapterSettings()
    if integration is not None:
        adapter = integration.adapter
    try:
        payload = adapters.check(adapter, body.encode(), settings)
        alerts = adapters.normalise(adapter, payload, settings)
    except AdapterError as exc:
        raise TrialError(exc.message) from None
    if not alerts:
        raise TrialError(f"The {adapter} adapter found no alert in this payload.")
    now = timezone.now()
    subjects = []
    for alert in alerts[:SAMPLE_ALERTS_SHOWN]:
        # The observables the pipeline would extract (typed fields, then the title and description).
        found = obs.extract(alert.observables, f"{alert.title}\n{alert.description}")
        data = alert_as_dict(alert, source=adapter, observables=found)
        subject = subject_for_alert(
            data,
            adapter=adapter,
            received_at=now,
            channel_id=integration.pk if integration is not None else None,
            labels=data["labels"],
        )
        subjects.append((f"Alert: {alert.title}", subject))
    return subjects


def run_trial(subjects: list[tuple[str, MatchSubject]], rule: FilterRule | None = None) -> list[Trial]:
    """Evaluate the enabled filters in order (or one filter alone, enabled or not) on each subject.

    Reads the filters once and compiles them here, not from the process's cached ruleset, so that the
    result is the filters as they are now and a disabled filter can be tried on its own page.
    """
    rules = (
        [rule] if rule is not None else list(FilterRule.objects.filter(enabled=True).order_by("order", "id"))
    )
    compiled = []
    specs = {}
    for each in rules:
        spec = filter_spec_of(each)
        try:
            compiled.append((spec, compile_filter(spec)))
        except RuleError as error:
            if rule is not None:
                raise TrialError(f"{error} Fix it to try it.") from None
            continue  # left out of the run, as ingestion leaves it out; the list shows the warning
        specs[spec.id] = spec
    ruleset = ruleset_of(compiled)
    return [
        Trial(label=label, subject=subject, outcome=dry_run(ruleset, subject, specs))
        for label, subject in subjects
    ]
