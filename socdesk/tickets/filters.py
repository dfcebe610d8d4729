"""The one ticket filter shared by the console's queues and the API's list endpoint."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from socdesk.accounts.models import Agent
from socdesk.core.text import clean_text
from socdesk.tickets.choices import OPEN_STATUSES, Resolution, Severity, Source, Status
from socdesk.tickets.models import Ticket
from socdesk.tickets.search import (
    SearchQuery,
    parse_query,
    search_apply,
    search_errors,
    search_rank_order,
)
from socdesk.tickets.selectors import tickets_visible_to
from socdesk.tickets.sorting import DEFAULT_SORT, SORT_KEYS, sort_tickets

# Best match first (socdesk.tickets.search.engine.search_rank_order): not a column, so not in the
# sorting table; without words to rank by it is the newest activity first.
RELEVANCE = "relevance"


def _mine(agent: Agent | None) -> Q:
    if agent is None:  # callers refuse this queue to a caller with no agent (an API key)
        raise ValueError("The mine queue needs an agent.")
    return Q(assignee_id=agent.pk, status__in=OPEN_STATUSES)


# name -> (label, condition given the agent; None for an API key without one)
QUEUES: dict[str, tuple[str, Callable[[Agent | None], Q]]] = {
    "mine": ("My tickets", _mine),
    "unassigned": ("Unassigned", lambda agent: Q(assignee__isnull=True, status__in=OPEN_STATUSES)),
    "open": ("Open", lambda agent: Q(status__in=OPEN_STATUSES)),
    "resolved": ("Resolved", lambda agent: Q(status=Status.RESOLVED)),
    "closed": ("Closed", lambda agent: Q(status=Status.CLOSED)),
    "all": ("All", lambda agent: Q()),
}

MAX_ID = 2**63 - 1


def queue_register(name: str, label: str, condition: Callable[[Agent | None], Q]) -> None:
    """Add a queue (its name in `?queue=`, its label, its condition) from an app above tickets, which
    knows conditions tickets cannot name (the SLA's At risk and Overdue queues); once, at start-up."""
    QUEUES.setdefault(name, (label, condition))


# The observable criterion belongs to the alerts app (it owns observables), which sits above tickets:
# it registers how to read one when it loads (AlertsConfig.ready), so this module imports nothing above.
# The lookup turns the text sent into (filter on Ticket, label) or raises ValueError with a message.
ObservableLookup = Callable[[str], tuple[dict, str]]
_observable_lookup: ObservableLookup | None = None


def observable_lookup_register(lookup: ObservableLookup) -> None:
    """Set how `?observable=` is read (called once by the app that owns observables)."""
    global _observable_lookup
    _observable_lookup = lookup


# Help topics belong to the routing app, above tickets: it registers the condition `?help_topic=` puts
# on tickets when it loads (RoutingConfig.ready), as the alerts app does for observables. The ids are
# topic ids, 0 standing for "no help topic".
HelpTopicCondition = Callable[[list[int]], Q]
_help_topic_condition: HelpTopicCondition | None = None


def help_topic_condition_register(condition: HelpTopicCondition) -> None:
    """Set how `?help_topic=` selects tickets (called once by the app that owns help topics)."""
    global _help_topic_condition
    _help_topic_condition = condition


# Playbooks belong to the cases app, above tickets: it registers the condition `?playbook=` puts on
# tickets (those a playbook of these ids was applied to), for the SOC dashboard's playbook drill-downs.
PlaybookCondition = Callable[[list[int]], Q]
_playbook_condition: PlaybookCondition | None = None


def playbook_condition_register(condition: PlaybookCondition) -> None:
    """Set how `?playbook=` selects tickets (called once by the app that owns playbooks)."""
    global _playbook_condition
    _playbook_condition = condition


# SLA targets belong to the routing app, above tickets: it registers how `?sla_response=` and
# `?sla_resolution=` (met, breached) select tickets, for the dashboard's SLA compliance drill-downs.
SLA_OUTCOMES = ("met", "breached")
SlaCondition = Callable[[str, list[str]], Q]  # ("response" | "resolution", outcomes) -> Q on Ticket
_sla_condition: SlaCondition | None = None


def sla_condition_register(condition: SlaCondition) -> None:
    """Set how the SLA outcome criteria select tickets (called once by the app that owns SLA clocks)."""
    global _sla_condition
    _sla_condition = condition


# Origin and rule (the SOC dashboard's drill-downs) are known by the alerts app too: an alert ticket's
# origin is the security tool of its first alert (`elastic`, `wazuh`...), another ticket's its channel
# (`web`, `email`...), and its rule is its first alert's rule name (socdesk/reports/figures.py). The
# alerts app registers the tools' names and the conditions when it loads (AlertsConfig.ready).
AlertCondition = Callable[[list[str]], Q]
CHANNEL_ORIGINS: tuple[str, ...] = tuple(v for v in Source.values if v != Source.ALERT)


@dataclass
class AlertCriteria:
    """What the alerts app tells the ticket filter: its tools, and how `?origin=`/`?rule=` select tickets."""

    tools: tuple[str, ...] = ()  # with `alert` for an alert ticket that holds no alert
    origin: AlertCondition | None = None  # tool names -> tickets whose first alert came from one of them
    rule: AlertCondition | None = None  # rule names -> tickets whose first alert carries one of them


_alert_criteria = AlertCriteria()


def alert_criteria_register(
    *, tools: Collection[str], origin: AlertCondition, rule: AlertCondition | None = None
) -> None:
    """Set how `?origin=` and `?rule=` select tickets (called once by the app that owns alerts)."""
    global _alert_criteria
    _alert_criteria = AlertCriteria(tools=tuple(tools), origin=origin, rule=rule)


@dataclass
class TicketFilter:
    """Queue plus optional criteria; built from a query string by the web and the API alike."""

    queue: str = "open"
    status: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    department: list[int] = field(default_factory=list)
    assignee: list[int] = field(default_factory=list)  # 0 means "unassigned"
    team: list[int] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    help_topic: list[int] = field(default_factory=list)  # 0 means "no help topic"
    playbook: list[int] = field(default_factory=list)  # tickets one of these playbooks was applied to
    resolution: list[str] = field(default_factory=list)
    origin: list[str] = field(
        default_factory=list
    )  # a channel (web, email...) or a security tool (elastic...)
    rule: list[str] = field(default_factory=list)  # the first alert's rule name
    sla_response: list[str] = field(default_factory=list)  # met / breached: the response target's outcome
    sla_resolution: list[str] = field(default_factory=list)  # ... and the resolution target's
    created_from: date | None = None
    created_to: date | None = None
    # Calendar days, both ends included, as the dashboard counts them.
    acknowledged_from: date | None = None
    acknowledged_to: date | None = None
    resolved_from: date | None = None
    resolved_to: date | None = None
    # The time zone those days are in: the viewer's unless named (the dashboard counts days in the
    # installation's zone, so its drill-downs name it when the agent's differs).
    zone: str = ""
    q: str = ""  # search text (socdesk.tickets.search.query); `search` is what it says
    search: SearchQuery = field(default_factory=SearchQuery)
    # "<observable id>" or "<type>:<value>" as sent; `observable_match` is what apply() filters on.
    observable: str = ""
    observable_match: dict = field(default_factory=dict)
    observable_label: str = ""  # "<type>:<value>" for the console's filter chip
    sort: str = DEFAULT_SORT
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_querydict(
        cls, params, *, default_queue: str = "open", rank_by_default: bool = True
    ) -> TicketFilter:
        """Parse request parameters; bad values are dropped and reported in `errors`, never a 500.

        The console's default queue is "open"; the API lists all tickets unless asked for a queue.
        A search with words is sorted best match first unless a sort is asked for (the API, whose
        pages follow a cursor over stored columns, sorts by activity).
        """
        f = cls()
        f.queue = _one_of(params, "queue", QUEUES, default_queue, f.errors)
        f.status = _choices(params, "status", Status.values, f.errors)
        f.severity = _choices(params, "severity", Severity.values, f.errors)
        f.source = _choices(params, "source", Source.values, f.errors)
        f.department = _ints(params, "department", f.errors)
        f.assignee = _ints(params, "assignee", f.errors)
        f.team = _ints(params, "team", f.errors)
        f.tag = [t.strip().lower() for t in map(clean_text, params.getlist("tag")) if t.strip()]
        f.help_topic = _ints(params, "help_topic", f.errors)
        if f.help_topic and _help_topic_condition is None:
            f.errors["help_topic"] = "Filtering by help topic needs the routing app, which is not installed."
            f.help_topic = []
        f.playbook = _ints(params, "playbook", f.errors)
        if f.playbook and _playbook_condition is None:
            f.errors["playbook"] = "Filtering by playbook needs the cases app, which is not installed."
            f.playbook = []
        f.resolution = _choices(params, "resolution", Resolution.values, f.errors)
        f.origin = _choices(params, "origin", (*CHANNEL_ORIGINS, *_alert_criteria.tools), f.errors)
        f.rule = [r.strip() for r in map(clean_text, params.getlist("rule")) if r.strip()][:20]
        f.rule = [r[:255] for r in f.rule]
        if f.rule and _alert_criteria.rule is None:
            f.errors["rule"] = "Filtering by rule needs the alerts app, which is not installed."
            f.rule = []
        for target in ("sla_response", "sla_resolution"):
            setattr(f, target, _choices(params, target, SLA_OUTCOMES, f.errors))
            if getattr(f, target) and _sla_condition is None:
                f.errors[target] = "Filtering by SLA outcome needs the routing app, which is not installed."
                setattr(f, target, [])
        f.zone = _zone(params, f.errors)
        for name in ("created", "acknowledged", "resolved"):
            setattr(f, f"{name}_from", _date(params, f"{name}_from", f.errors))
            setattr(f, f"{name}_to", _date(params, f"{name}_to", f.errors))
        f.q = clean_text(params.get("q") or "").strip()[:200]
        f.search = parse_query(f.q)
        problems = search_errors(f.search)
        if problems:
            f.errors["q"] = " ".join(problems)
        f.observable, f.observable_match, f.observable_label = _observable(params, f.errors)
        ranked = rank_by_default and bool(f.search.positive_text)
        f.sort = _one_of(
            params, "sort", (RELEVANCE, *SORT_KEYS), RELEVANCE if ranked else DEFAULT_SORT, f.errors
        )
        return f

    def limit_to(self, name: str, allowed: Collection[int]) -> None:
        """Keep only the ids of `name` ("department", "assignee", "team") that the asker may pick: an id
        they may not see is dropped and reported exactly like one that does not exist, so a filter never
        tells whether something outside their sight exists. 0 ("unassigned") is always allowed."""
        wanted: list[int] = getattr(self, name)
        refused = [i for i in wanted if i and i not in allowed]
        if refused:
            setattr(self, name, [i for i in wanted if not i or i in allowed])
            self.errors[name] = (
                f"There is no {name} {', '.join(map(str, refused))} among those you can filter by; "
                "choose from the list."
            )

    def is_default(self) -> bool:
        return all(
            getattr(self, f.name) == getattr(TicketFilter(queue=self.queue), f.name)
            for f in fields(self)
            if f.name not in ("errors", "observable_match", "observable_label", "search")
        )

    def apply(self, qs: QuerySet[Ticket], agent: Agent | None, *, counting: bool = False) -> QuerySet[Ticket]:
        """Narrow a queryset by queue and criteria, and sort it.

        `counting=True`: only which tickets match matters (counts of many filters in one query), so
        nothing runs ahead of the caller's query: no look-up of a short list of search matches, no
        relevance ranking (see socdesk.tickets.search.engine).
        """
        visible = qs
        qs = qs.filter(QUEUES[self.queue][1](agent))
        if self.status:
            qs = qs.filter(status__in=self.status)
        if self.severity:
            qs = qs.filter(severity__in=self.severity)
        if self.source:
            qs = qs.filter(source__in=self.source)
        if self.department:
            qs = qs.filter(department_id__in=self.department)
        if self.assignee:
            wanted = [a for a in self.assignee if a]
            cond = Q(assignee_id__in=wanted) if wanted else Q(pk__in=[])
            if 0 in self.assignee:
                cond |= Q(assignee__isnull=True)
            qs = qs.filter(cond)
        if self.team:
            qs = qs.filter(team_id__in=self.team)
        for tag in self.tag:
            qs = qs.filter(tags__name=tag)
        if self.help_topic and _help_topic_condition is not None:
            qs = qs.filter(_help_topic_condition(self.help_topic))
        if self.playbook and _playbook_condition is not None:
            qs = qs.filter(_playbook_condition(self.playbook))
        if self.resolution:
            qs = qs.filter(resolution__in=self.resolution)
        if self.origin:
            qs = qs.filter(_origin_condition(self.origin))
        if self.rule and _alert_criteria.rule is not None:
            qs = qs.filter(Q(source=Source.ALERT) & _alert_criteria.rule(self.rule))
        if _sla_condition is not None:
            for target in ("response", "resolution"):
                outcomes = getattr(self, f"sla_{target}")
                if outcomes:
                    qs = qs.filter(_sla_condition(target, outcomes))
        tz = ZoneInfo(self.zone) if self.zone else timezone.get_current_timezone()
        for name in ("created", "acknowledged", "resolved"):
            first, last = getattr(self, f"{name}_from"), getattr(self, f"{name}_to")
            if first:
                qs = qs.filter(**{f"{name}_at__gte": datetime.combine(first, time.min, tz)})
            if last:
                qs = qs.filter(**{f"{name}_at__lt": datetime.combine(last + timedelta(days=1), time.min, tz)})
        if self.search:
            qs = search_apply(qs, self.search, agent, few_first=not counting, visible=visible)
        if self.observable_match:
            qs = qs.filter(**self.observable_match)
        if self.sort == RELEVANCE and not counting:
            return search_rank_order(qs, self.search)
        return sort_tickets(qs, self.sort)


def _origin_condition(origins: list[str]) -> Q:
    """Tickets from these channels (their source) or these security tools (their first alert's)."""
    channels = [o for o in origins if o in CHANNEL_ORIGINS]
    tools = [o for o in origins if o not in CHANNEL_ORIGINS]  # `alert` among them: see AlertCriteria
    cond = Q(source__in=channels) if channels else Q(pk__in=[])
    if tools and _alert_criteria.origin is not None:
        cond |= Q(source=Source.ALERT) & _alert_criteria.origin(tools)
    return cond


def _one_of(params, name, allowed, default, errors) -> str:
    value = params.get(name)
    if not value:
        return default
    if value not in allowed:
        errors[name] = f"Unknown {name} {value!r}; use one of: {', '.join(allowed)}."
        return default
    return value


def _choices(params, name, allowed, errors) -> list[str]:
    values = [v for v in params.getlist(name) if v]
    bad = [v for v in values if v not in allowed]
    if bad:
        errors[name] = f"Unknown {name} {', '.join(bad)}; use one of: {', '.join(allowed)}."
    return [v for v in values if v in allowed]


def _ints(params, name, errors) -> list[int]:
    out = []
    for v in params.getlist(name):
        if v == "":
            continue
        try:
            number = int(v)
        except ValueError:
            errors[name] = f"{name} must be a number, not {v!r}."
            continue
        if not 0 <= number <= MAX_ID:  # beyond 64 bits the database driver itself would fail
            errors[name] = f"{name} {v} is not a valid id."
            continue
        out.append(number)
    return out


def _observable(params, errors) -> tuple[str, dict, str]:
    """`?observable=<id>` or `?observable=<type>:<value>` (e.g. ip:203.0.113.7); returns (the text as
    sent, the lookup on tickets, a label), the latter two from the lookup the alerts app registered."""
    raw = clean_text(params.get("observable") or "").strip()[:2100]
    if not raw:
        return "", {}, ""
    if _observable_lookup is None:
        errors["observable"] = "Filtering by observable needs the alerts app, which is not installed."
        return "", {}, ""
    try:
        match, label = _observable_lookup(raw)
    except ValueError as exc:
        errors["observable"] = str(exc)
        return "", {}, ""
    return raw, match, label


def _zone(params, errors) -> str:
    raw = clean_text(params.get("zone") or "").strip()[:64]
    if not raw:
        return ""
    try:
        ZoneInfo(raw)
    except (ValueError, ZoneInfoNotFoundError):
        errors["zone"] = f"Unknown time zone {raw!r}; use a name such as Europe/Paris or UTC."
        return ""
    return raw


def _date(params, name, errors) -> date | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = f"{name} must be a date like 2026-11-27, not {raw!r}."
        return None


def queue_tickets(agent: Agent, ticket_filter: TicketFilter) -> QuerySet[Ticket]:
    """The tickets of one queue page for this agent, with what a row shows loaded in one query."""
    qs = ticket_filter.apply(tickets_visible_to(agent), agent)
    return qs.select_related("department", "assignee__user", "team", "requester")


def capped_count(qs: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """Count up to `cap` rows; (cap, True) means "at least cap". Never scans a whole large table."""
    cap = cap or settings.SOCDESK_COUNT_CAP
    n = qs.order_by()[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


def queue_counts(agent: Agent) -> dict[str, tuple[int, bool]]:
    """{queue name: (count, capped)} for the agent's queue sidebar (cached briefly, see cached_count)."""

    def count_all() -> dict[str, tuple[int, bool]]:
        visible = tickets_visible_to(agent)
        return {name: capped_count(visible.filter(cond(agent))) for name, (_, cond) in QUEUES.items()}

    return cached_count(agent, "queues", count_all)


def cached_count(agent: Agent, signature: str, compute):
    """The result of `compute()` for this agent and signature, reused for SOCDESK_COUNT_CACHE_SECONDS.

    Counting is the one part of a queue page whose cost grows with the table (a capped count over a
    filtered million-row queue takes tens of milliseconds). Counts a few seconds old are what every
    busy help desk shows; the rows themselves are always read live. 0 seconds turns the cache off.
    """
    seconds = settings.SOCDESK_COUNT_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    digest = hashlib.sha1(f"{agent.pk}|{signature}".encode(), usedforsecurity=False).hexdigest()
    key = f"socdesk:count:{digest}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, seconds)
    return found
