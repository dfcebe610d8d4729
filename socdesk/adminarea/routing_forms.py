"""The admin area's forms for routing: ticket filters (rows of conditions and actions), the dry run,
SLA plans, schedules and help topics. They only gather and shape input; the routing services check it."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django import forms

from socdesk.accounts.models import Agent, Department, Team
from socdesk.alerts.adapters import ADAPTERS
from socdesk.alerts.models import Integration
from socdesk.mail.models import CannedResponse
from socdesk.routing.choices import (
    EscalationRecipient,
    EscalationTrigger,
    FilterChannel,
    FilterEvent,
    SlaTargetKind,
)
from socdesk.routing.models import HelpTopic, Schedule, SLAPlan
from socdesk.routing.vocabulary import (
    PLAIN_FIELDS,
    REFERENCE_ACTIONS,
    SEVERITY_ORDER,
    STATUSES,
    ActionType,
    Operator,
)
from socdesk.tickets.choices import Severity


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone the system knows, sorted (read once per process)."""
    return [(zone, zone) for zone in sorted(available_timezones())]


# --- ticket filters ----------------------------------------------------------------------------------------

FIELD_SUGGESTIONS = (
    *PLAIN_FIELDS,
    "alert.source",
    "alert.severity",
    "alert.labels.host",
    "alert.raw.rule.level",
    "observable",
    "observable.ip",
    "observable.domain",
    "custom.",
)
OPERATOR_LABELS = {
    Operator.EQUALS: "equals",
    Operator.NOT_EQUALS: "does not equal",
    Operator.CONTAINS: "contains",
    Operator.NOT_CONTAINS: "does not contain",
    Operator.STARTS_WITH: "starts with",
    Operator.ENDS_WITH: "ends with",
    Operator.MATCHES: "matches (regex)",
    Operator.NOT_MATCHES: "does not match (regex)",
    Operator.IN_LIST: "is in the list",
    Operator.IN_CIDR: "is in the network(s)",
    Operator.GREATER_THAN: "is greater than",
    Operator.LESS_THAN: "is less than",
}
ACTION_LABELS = {
    ActionType.SET_TEAM: "Set team",
    ActionType.SET_DEPARTMENT: "Set department",
    ActionType.SET_AGENT: "Assign to agent",
    ActionType.SET_SEVERITY: "Set severity",
    ActionType.SET_SLA_PLAN: "Set SLA plan",
    ActionType.SET_STATUS: "Set status",
    ActionType.SET_HELP_TOPIC: "Set help topic",
    ActionType.ADD_TAGS: "Add tags",
    ActionType.ADD_NOTE: "Add internal note",
    ActionType.SUPPRESS_AUTORESPONSE: "Suppress the auto-response",
    ActionType.NOTIFY: "Notify an address",
    ActionType.WEBHOOK: "Call a webhook",
    ActionType.REPLY_CANNED: "Reply with canned response",
    ActionType.REJECT: "Reject",
    ActionType.BAN_SENDER: "Ban the sender and reject",
    ActionType.STOP: "Stop (no later filter runs)",
}
ACTION_VALUES = frozenset(t.value for t in ActionType)
OPERATOR_VALUES = frozenset(o.value for o in Operator)
# The "choose" list of an action row: each option is `<kind>:<value>`; the kind must fit the action.
TARGET_KINDS = {
    ActionType.SET_DEPARTMENT: "department",
    ActionType.SET_TEAM: "team",
    ActionType.SET_AGENT: "agent",
    ActionType.SET_SLA_PLAN: "sla_plan",
    ActionType.SET_HELP_TOPIC: "topic",
    ActionType.SET_SEVERITY: "severity",
    ActionType.SET_STATUS: "status",
    ActionType.REPLY_CANNED: "canned",
}


def target_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The options of an action row's "choose" list, grouped: departments, teams, agents, SLA plans, help
    topics, severities, statuses and canned responses (six queries, once per page)."""
    return [
        ("Departments", [(f"department:{d.pk}", d.name) for d in Department.objects.order_by("name")]),
        (
            "Teams",
            [
                (f"team:{t.pk}", f"{t.name} ({t.department.name})" if t.department else t.name)
                for t in Team.objects.select_related("department").order_by("name")
            ],
        ),
        (
            "Agents",
            [
                (f"agent:{a.pk}", str(a))
                for a in Agent.objects.select_related("user").order_by("user__username")
            ],
        ),
        ("SLA plans", [(f"sla_plan:{p.pk}", p.name) for p in SLAPlan.objects.order_by("name")]),
        ("Help topics", [(f"topic:{t.pk}", t.name) for t in HelpTopic.objects.order_by("name")]),
        ("Severities", [(f"severity:{s}", s) for s in SEVERITY_ORDER]),
        ("Statuses", [(f"status:{s}", s.replace("_", " ")) for s in STATUSES]),
        (
            "Canned responses",
            [
                (f"canned:{c.pk}", str(c))
                for c in CannedResponse.objects.select_related("department").order_by("title", "pk")
            ],
        ),
    ]


class TargetSelect(forms.Select):
    """A select that shows whatever value was posted even when it is not an option (a deleted team):
    the service, not the widget, says what is wrong with it."""

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        known = {str(option["value"]) for _group, options, _index in groups for option in options}
        for posted in value:
            if posted and posted not in known:
                option = self.create_option(name, posted, f"{posted} (no longer exists)", True, len(groups))
                groups.append((None, [option], len(groups)))
        return groups


# One line per event under its checkbox: what makes the filter run again on a ticket that exists.
EVENT_EXPLANATIONS = {
    FilterEvent.REPLY_RECEIVED: "The requester writes again (portal, email or API).",
    FilterEvent.ALERT_REPEATED: "The alert behind the ticket fires again and is folded into it.",
    FilterEvent.SEVERITY_RAISED: "The ticket's severity goes up (lowering it does not count).",
    FilterEvent.REOPENED: "A resolved or closed ticket is opened again.",
}


class FilterForm(forms.Form):
    """A ticket filter's settings; its conditions and actions are the two row formsets beside it.

    The webhook secret is write-only: the page never shows it back. Left blank it is kept; "remove" clears it.
    """

    name = forms.CharField(max_length=100)
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled")
    channel = forms.ChoiceField(choices=FilterChannel.choices, initial=FilterChannel.ANY)
    integration = forms.ModelChoiceField(
        queryset=Integration.objects.order_by("name"),
        required=False,
        empty_label="Every integration",
        help_text="Only alerts from this integration (alert channel).",
    )
    match_all = forms.TypedChoiceField(
        label="Match",
        choices=[("1", "all conditions"), ("0", "any condition")],
        coerce=lambda value: value == "1",
        initial="1",
        widget=forms.RadioSelect,
    )
    stop_on_match = forms.BooleanField(required=False, label="Stop on match (no later filter runs)")
    time_zone = forms.ChoiceField(
        initial="UTC", help_text="For time-of-day and weekday conditions.", choices=time_zone_choices
    )
    on_events = forms.MultipleChoiceField(
        label="Also run on",
        required=False,
        choices=FilterEvent.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    # No max_length here: the service's sentence about the length is the one shown.
    webhook_secret = forms.CharField(
        label="Webhook secret",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    remove_webhook_secret = forms.BooleanField(required=False, label="Remove the secret")

    def clean(self):
        data = super().clean() or {}
        if data.get("remove_webhook_secret") and (data.get("webhook_secret") or "").strip():
            self.add_error(
                "webhook_secret",
                "Either type a new secret or tick “Remove the secret”, not both.",
            )
        return data

    def event_options(self) -> list[tuple[Any, str]]:
        """The event checkboxes, each with the line that explains it."""
        return [(box, EVENT_EXPLANATIONS[FilterEvent(box.data["value"])]) for box in self["on_events"]]


class ConditionRow(forms.Form):
    """One condition: field, operator, value. A row left empty is ignored."""

    field = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "filter-fields", "placeholder": "subject"}),
    )
    operator = forms.ChoiceField(choices=[(o.value, OPERATOR_LABELS[o]) for o in Operator])
    value = forms.CharField(required=False, max_length=5000)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("field") and not data.get("value")


class ActionRow(forms.Form):
    """One action: its type, an object or value chosen from the list, or a value typed."""

    type = forms.ChoiceField(
        required=False, choices=[("", "—"), *((t.value, ACTION_LABELS[t]) for t in ActionType)]
    )
    # Not a ChoiceField: a team deleted since the page was shown must reach the service, which names it.
    target = forms.CharField(required=False, label="Choose", widget=TargetSelect)
    value = forms.CharField(required=False, max_length=5000, label="or type")

    def __init__(self, *args, targets: list | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        widget = self.fields["target"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = [("", "—"), *(targets or [])]

    def is_blank(self) -> bool:
        return not getattr(self, "cleaned_data", {}).get("type")


ConditionRows = forms.formset_factory(ConditionRow, extra=0)
ActionRows = forms.formset_factory(ActionRow, extra=0)


def condition_initial(condition: dict[str, Any]) -> dict[str, Any]:
    """A stored condition as a row (a list value is shown comma-separated, as it may be typed)."""
    value = condition.get("value")
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    return {
        "field": condition.get("field", ""),
        "operator": condition.get("operator", ""),
        "value": value or "",
    }


def action_initial(action: dict[str, Any]) -> dict[str, Any]:
    """A stored action as a row: an object or choice goes in the list, anything else in the text box."""
    kind, value = action.get("type", ""), action.get("value")
    target_kind = TARGET_KINDS.get(ActionType(kind)) if kind in ACTION_VALUES else None
    if target_kind is not None and value not in (None, ""):
        return {"type": kind, "target": f"{target_kind}:{value}", "value": ""}
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    return {"type": kind, "target": "", "value": "" if value is None else str(value)}


class RowError(ValueError):
    """An action row whose chosen object does not fit its type (the message names the row)."""


def action_value(number: int, kind: str, target: str, typed: str) -> Any:
    """The stored value of an action row, from the object chosen or the value typed."""
    action = ActionType(kind)
    wanted = TARGET_KINDS.get(action)
    if wanted is not None and target:
        chosen_kind, _, chosen = target.partition(":")
        if chosen_kind != wanted:
            label = REFERENCE_ACTIONS.get(action, wanted)
            raise RowError(f"Action {number} ({kind}): choose a {label} in the list, not a {chosen_kind}.")
        if action in REFERENCE_ACTIONS:
            return int(chosen) if chosen.isdigit() else chosen
        return chosen
    typed = typed.strip()
    if action in REFERENCE_ACTIONS:
        # An id typed by hand is accepted (the service checks it exists).
        return int(typed) if typed.isdigit() else (typed or None)
    if action is ActionType.ADD_TAGS:
        return [tag.strip() for tag in typed.split(",") if tag.strip()]
    return typed or None


ROW_NUMBER = re.compile(r"\b(condition|action) (\d+)\b")


# --- dry run ---------------------------------------------------------------------------------------------


class DryRunForm(forms.Form):
    """What to try the filters on: a ticket by number, or a sample alert payload and its adapter."""

    ticket = forms.CharField(required=False, max_length=32, label="Ticket number")
    payload = forms.CharField(
        required=False,
        max_length=1_000_000,
        label="or a sample alert payload",
        widget=forms.Textarea(attrs={"rows": 6, "class": "mono", "spellcheck": "false"}),
    )
    integration = forms.ModelChoiceField(
        queryset=Integration.objects.order_by("name"),
        required=False,
        empty_label="None (use the adapter)",
        label="As sent to integration",
        help_text="Reads the payload with that integration's adapter and settings; filters for it apply.",
    )
    adapter = forms.ChoiceField(
        required=False,
        choices=[(name, name) for name in ADAPTERS],
        initial="generic",
        help_text="Reads the payload, as the webhook of that tool does.",
    )

    def clean(self):
        data = super().clean() or {}
        if not data.get("ticket", "").strip() and not data.get("payload", "").strip():
            raise forms.ValidationError("Give a ticket number or paste a sample payload to try.")
        payload_only = data.get("payload", "").strip() and not data.get("ticket", "").strip()
        if payload_only and not data.get("adapter") and not data.get("integration"):
            raise forms.ValidationError("Pick the adapter that reads this payload.")
        return data


# --- schedules, SLA plans, help topics ----------------------------------------------------------------

WEEKDAY_FIELDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class ScheduleForm(forms.Form):
    """A schedule: 24/7 or intervals per weekday (`09:00-12:00, 13:00-17:00`), a time zone, holidays."""

    name = forms.CharField(max_length=100)
    time_zone = forms.ChoiceField(initial="UTC", choices=time_zone_choices)
    always = forms.BooleanField(required=False, label="24/7 (every minute counts)")
    holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One a line: 2026-12-25 Christmas.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in zip(WEEKDAY_FIELDS, WEEKDAY_LABELS, strict=True):
            self.fields[key] = forms.CharField(
                required=False, label=label, widget=forms.TextInput(attrs={"placeholder": "closed"})
            )

    def weekday_fields(self):
        return [self[key] for key in WEEKDAY_FIELDS]

    def clean_holidays(self) -> dict[date, str]:
        holidays: dict[date, str] = {}
        for number, line in enumerate(self.cleaned_data["holidays"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            day, _, name = line.partition(" ")
            try:
                holidays[date.fromisoformat(day)] = name.strip()
            except ValueError:
                raise forms.ValidationError(
                    f"Line {number}: {day!r} is not a date; write it YYYY-MM-DD, then the name."
                ) from None
        return holidays

    def hours(self) -> dict[str, list[str]]:
        """The intervals per weekday as the service takes them (`{"mon": ["09:00-17:00"]}`)."""
        return {
            key: [part.strip() for part in self.cleaned_data[key].split(",") if part.strip()]
            for key in WEEKDAY_FIELDS
            if self.cleaned_data.get(key, "").strip()
        }


class PlanForm(forms.Form):
    """An SLA plan: schedule, at-risk share, default flag and targets per severity (response/resolution)."""

    name = forms.CharField(max_length=100)
    schedule = forms.ModelChoiceField(queryset=Schedule.objects.order_by("name"))
    at_risk_share = forms.FloatField(initial=0.75, label="At risk at this share of a target used")
    is_default = forms.BooleanField(required=False, label="Default plan (when nothing else picks one)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for severity in Severity.values:
            for kind in ("response", "resolution"):
                label = f"{severity}: {kind} (min)"
                self.fields[f"{kind}_{severity}"] = forms.IntegerField(
                    required=False,
                    min_value=1,
                    label=label,
                    widget=forms.NumberInput(attrs={"aria-label": f"{severity.capitalize()} {kind} minutes"}),
                )

    def target_rows(self):
        return [(s, self[f"response_{s}"], self[f"resolution_{s}"]) for s in Severity.values]

    def clean(self):
        data = super().clean() or {}
        for severity in Severity.values:
            response, resolution = data.get(f"response_{severity}"), data.get(f"resolution_{severity}")
            if (response is None) != (resolution is None):
                self.add_error(
                    f"response_{severity}", f"{severity}: give both the response and the resolution target."
                )
        return data

    def targets(self) -> dict[str, tuple[int, int]]:
        data = self.cleaned_data
        return {
            s: (data[f"response_{s}"], data[f"resolution_{s}"])
            for s in Severity.values
            if data.get(f"response_{s}") is not None and data.get(f"resolution_{s}") is not None
        }


class EscalationRow(forms.Form):
    """One escalation level; a row without a trigger is ignored."""

    # The rows sit in a table whose headers name the columns; screen readers get the same names.
    trigger = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *EscalationTrigger.choices],
        widget=forms.Select(attrs={"aria-label": "When"}),
    )
    target = forms.ChoiceField(
        choices=SlaTargetKind.choices,
        initial=SlaTargetKind.RESOLUTION,
        widget=forms.Select(attrs={"aria-label": "Target"}),
    )
    notify = forms.ChoiceField(
        required=False,
        choices=EscalationRecipient.choices,
        initial="assignee",
        widget=forms.Select(attrs={"aria-label": "Notify"}),
    )
    reassign_team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label="No reassignment",
        widget=forms.Select(attrs={"aria-label": "Reassign to"}),
    )
    raise_severity = forms.BooleanField(
        required=False, widget=forms.CheckboxInput(attrs={"aria-label": "Raise severity"})
    )


EscalationRows = forms.formset_factory(EscalationRow, extra=0)


class TopicForm(forms.Form):
    """A help topic and the defaults it gives new tickets."""

    name = forms.CharField(max_length=100)
    parent = forms.ModelChoiceField(
        queryset=HelpTopic.objects.order_by("name"), required=False, empty_label="None (top level)"
    )
    department = forms.ModelChoiceField(queryset=Department.objects.order_by("name"), required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.select_related("department"), required=False)
    agent = forms.ModelChoiceField(
        queryset=Agent.objects.select_related("user").order_by("user__username"), required=False
    )
    severity = forms.ChoiceField(required=False, choices=[("", "—"), *Severity.choices])
    sla_plan = forms.ModelChoiceField(queryset=SLAPlan.objects.order_by("name"), required=False)
    portal_visible = forms.BooleanField(required=False, initial=True, label="Shown in the portal")
    auto_response = forms.BooleanField(required=False, initial=True, label="Sends the auto-response")
