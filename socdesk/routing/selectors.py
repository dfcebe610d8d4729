"""Reads for routing: the compiled ruleset and the custom forms, kept per process until the configuration
changes (socdesk/routing/snapshot.py); schedules as pure values; a department's or team's auto-assignment
mode; a filter's webhook delivery log."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from socdesk.accounts.models import Department, Team
from socdesk.routing import sla, snapshot
from socdesk.routing.choices import AssignmentMode
from socdesk.routing.custom_values import FieldSpec
from socdesk.routing.matching import CompiledFilter, Ruleset, compile_filter, ruleset_of
from socdesk.routing.models import (
    AssignmentPolicy,
    CustomField,
    CustomForm,
    FilterRule,
    FilterWebhookDelivery,
    HelpTopic,
    Schedule,
    TicketTopic,
)
from socdesk.routing.vocabulary import ActionSpec, ConditionSpec, FilterSpec, RuleError

log = logging.getLogger(__name__)


def filter_spec_of(rule: FilterRule) -> FilterSpec:
    """The pure spec of a stored filter."""
    return FilterSpec(
        id=rule.pk,
        name=rule.name,
        conditions=tuple(
            ConditionSpec(c.get("field", ""), c.get("operator", ""), c.get("value"))
            for c in rule.conditions
            if isinstance(c, dict)
        ),
        actions=tuple(
            ActionSpec(a.get("type", ""), a.get("value")) for a in rule.actions if isinstance(a, dict)
        ),
        order=rule.order,
        enabled=rule.enabled,
        channel=rule.channel,
        channel_id=rule.channel_id,
        match_all=rule.match_all,
        stop_on_match=rule.stop_on_match,
        time_zone=rule.time_zone,
    )


def ruleset_build(version: int = 0) -> tuple[Ruleset, tuple[tuple[int, str], ...]]:
    """Compile the enabled filters from the database; ones that no longer compile are left out and named."""
    compiled: list[tuple[FilterSpec, CompiledFilter]] = []
    skipped: list[tuple[int, str]] = []
    for rule in FilterRule.objects.filter(enabled=True).order_by("order", "id"):
        spec = filter_spec_of(rule)
        try:
            compiled.append((spec, compile_filter(spec)))
        except RuleError as error:
            # Saved filters were valid when saved (services check); one edited outside them, or whose time
            # zone left the system's data, must not stop ingestion: it is skipped and logged.
            log.warning("Ticket filter %s skipped: %s", rule.pk, error)
            skipped.append((rule.pk, str(error)))
    return ruleset_of(compiled, version), tuple(skipped)


def ruleset_current() -> Ruleset:
    """The compiled ruleset: one small read of the configuration stamp, and a rebuild only after a change."""
    return ruleset_current_with_skipped()[0]


def ruleset_current_with_skipped() -> tuple[Ruleset, tuple[tuple[int, str], ...]]:
    """The compiled ruleset and the filters left out of it, with the reason (for the editor's warnings
    and for disabling them), from one read of the configuration stamp."""
    current = snapshot.current()
    return current.piece("ruleset", lambda: ruleset_build(current.version))


def ruleset_skipped() -> tuple[tuple[int, str], ...]:
    """Filters left out of the current ruleset, with the reason (for the editor's warnings)."""
    return ruleset_current_with_skipped()[1]


def schedule_pure(schedule: Schedule) -> sla.Schedule:
    """The pure schedule the SLA arithmetic uses, from a stored one (two queries: hours, holidays)."""
    if schedule.always:
        return sla.Schedule(time_zone=schedule.time_zone, always=True)
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for hours in schedule.working_hours.order_by("weekday", "start_minute"):
        week[hours.weekday].append((hours.start_minute, hours.end_minute))
    return sla.Schedule(
        time_zone=schedule.time_zone,
        week=tuple(tuple(day) for day in week),
        holidays=frozenset(schedule.holidays.values_list("date", flat=True)),
    )


def assignment_mode_of(*, department: Department | None = None, team: Team | None = None) -> str:
    """The auto-assignment mode of a department or a team (`none` when it has no policy)."""
    policies = AssignmentPolicy.objects.all()
    policies = (
        policies.filter(department=department) if department is not None else policies.filter(team=team)
    )
    mode = policies.values_list("mode", flat=True).first()
    return mode or AssignmentMode.NONE


def field_spec_of(custom_field: CustomField) -> FieldSpec:
    """The pure spec of a stored custom field (what `custom_values.check_values` reads)."""
    return FieldSpec(
        name=custom_field.name,
        label=custom_field.label,
        type=custom_field.type,
        choices=tuple(str(c) for c in custom_field.choices or ()),
        agent_visible=custom_field.agent_visible,
        agent_required=custom_field.agent_required,
        user_visible=custom_field.user_visible,
        user_required=custom_field.user_required,
    )


def topic_form_id(topic: HelpTopic) -> int | None:
    """The form a topic's tickets carry: its own, else the nearest parent's."""
    seen: set[int] = set()
    current: HelpTopic | None = topic
    while current is not None and current.pk not in seen:
        if current.form_id is not None:
            return current.form_id
        seen.add(current.pk)
        current = current.parent
    return None


@dataclass(frozen=True)
class FormSpecs:
    """A form's name and its fields in order (an empty name: no form, the fields of every form by name)."""

    name: str
    fields: tuple[FieldSpec, ...]
    labels: dict[str, str]


def form_specs(form_id: int | None) -> FormSpecs:
    """The fields a ticket with this form is checked against (kept per process until the configuration
    changes).

    No form (a ticket without a help topic, or a topic without a form): every field of every form, by
    name, so a value sent by name is still checked by that field's type; where two forms use one name,
    the field of the older form counts. Nothing is required then, as no form was chosen.
    """
    return snapshot.current().piece(f"form_specs:{form_id}", lambda: _form_specs_read(form_id))


def _form_specs_read(form_id: int | None) -> FormSpecs:
    if form_id is not None:
        form = CustomForm.objects.filter(pk=form_id).first()
        rows = list(CustomField.objects.filter(form_id=form_id))
        specs = tuple(field_spec_of(row) for row in rows)
        return FormSpecs(form.name if form else "", specs, {s.name: s.label for s in specs})
    by_name: dict[str, FieldSpec] = {}
    for row in CustomField.objects.order_by("form_id", "order", "id"):
        spec = field_spec_of(row)
        by_name.setdefault(spec.name, replace(spec, agent_required=False, user_required=False))
    specs = tuple(by_name.values())
    return FormSpecs("", specs, {s.name: s.label for s in specs})


def ticket_topic(ticket_id: int) -> HelpTopic | None:
    """The help topic a ticket was opened on (or later given), if any."""
    link = TicketTopic.objects.select_related("topic").filter(ticket_id=ticket_id).first()
    return link.topic if link else None


def help_topics_for_agents() -> list[HelpTopic]:
    """Every help topic, parents before children's names, for the console's topic select."""
    return list(HelpTopic.objects.select_related("parent").order_by("name"))


def custom_field_names_for_topic(topic_id: int | None) -> frozenset[str]:
    """The field names a request on this topic may carry (every form's when no topic or no form): what
    a channel that mixes custom fields with its own keys (the osTicket API) picks out by name."""
    return snapshot.current().piece(f"field_names:{topic_id}", lambda: _field_names_read(topic_id))


def _field_names_read(topic_id: int | None) -> frozenset[str]:
    topic = HelpTopic.objects.select_related("parent").filter(pk=topic_id).first() if topic_id else None
    form_id = topic_form_id(topic) if topic is not None else None
    fields = CustomField.objects.filter(form_id=form_id) if form_id is not None else CustomField.objects.all()
    return frozenset(fields.values_list("name", flat=True))


def webhook_deliveries_of(rule: FilterRule, *, limit: int = 20) -> list[FilterWebhookDelivery]:
    """A filter's most recent webhook calls, newest first (its delivery log, one query)."""
    return list(
        FilterWebhookDelivery.objects.filter(rule=rule)
        .only("created_at", "url", "event", "status", "attempts", "response_code", "last_error")
        .order_by("-id")[:limit]
    )
