"""Search on tickets: a parsed query becomes conditions on a (visibility-scoped) ticket queryset.

Used by the one ticket filter (socdesk.tickets.filters.TicketFilter), so the console's search box,
the queue's Text filter and the API's `q` give the same tickets. Words are matched by the database's
full-text index (socdesk.tickets.search.sql); fields are plain conditions on tickets.
"""

from __future__ import annotations

import json
import re
from html import escape

from django.db import connection
from django.db.models import OrderBy, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr
from django.utils.safestring import SafeString, mark_safe

from socdesk.accounts.models import Agent
from socdesk.tickets.choices import Severity, Source, Status
from socdesk.tickets.models import Ticket, TicketLink, TicketSearch
from socdesk.tickets.search.query import SearchQuery, Term
from socdesk.tickets.search.registry import field_resolvers, normalised_term
from socdesk.tickets.search.sql import MARK_END, MARK_START, TABLE, backend
from socdesk.tickets.selectors import normalise_number, tickets_visible_to

# A word that may be part of an identifier (an address, a number, a hash prefix) is also looked
# for inside the identifiers, where the word index cannot see a part of one.
IDENTIFIER_LIKE = re.compile(r"[\d.:/@_\\-]")
# Ranking scores this many of the most recently active matches. Finding them walks the activity
# index and checks each ticket's document, so a common word costs about as many checks as this
# window holds matches divided by the word's share of tickets; 200 keeps a word in one ticket of
# twelve under 150 ms at a million tickets (docs/benchmarks.md).
RANK_WINDOW = 200
SNIPPET_SCAN = 20_000  # characters of a document searched for a snippet the database did not mark
SNIPPET_CONTEXT = 80
MARKED = re.compile(r"<mark>(.*?)</mark>", re.S)
FEW_MATCHES = 2000  # up to this many matches, tickets are read by id (see search_apply)
MIN_SUBSTRING = 3  # shorter substrings match too much to help, and trigram indexes cannot serve them


def search_errors(query: SearchQuery) -> list[str]:
    """Why parts of the query cannot be used (unknown fields, bad field values), as sentences."""
    errors = list(query.errors)
    for term in query.field_terms:
        try:
            field_condition(term, None)
        except ValueError as exc:
            errors.append(str(exc))
    return errors


def search_apply(
    qs: QuerySet[Ticket],
    query: SearchQuery,
    agent: Agent | None,
    *,
    few_first: bool = True,
    visible: QuerySet[Ticket] | None = None,
) -> QuerySet[Ticket]:
    """Narrow `qs` to the tickets matching every term of the query (bad field terms are skipped:
    search_errors explains them). `few_first=False` skips the look-up of a short list of matches (one
    query of its own) and keeps the words a sub-select, for callers that count many searches at once.
    `visible`: every ticket the caller may see (an API key's department), for terms naming another
    ticket (`linked:`); without it, the agent's."""
    for term in query.field_terms:
        try:
            condition = field_condition(term, agent, visible)
        except ValueError:
            continue
        qs = qs.exclude(condition) if term.negated else qs.filter(condition)
    text = query.text_terms
    if text:
        engine = backend()
        clauses, params = [], []
        for term in text:
            sql, values = _term_sql(engine, term)
            clauses.append(f"NOT ({sql})" if term.negated else f"({sql})")
            params += values
        match = f"SELECT s.ticket_id FROM {TABLE} s WHERE " + " AND ".join(clauses)
        few = _few_matches(engine, match, params) if few_first else None
        # A short list of ids lets the database read those tickets by key; a subquery for more lets
        # it walk the tickets newest first and stop at a page. The planner cannot tell the two apart
        # itself: it has no statistics on how rare a word is, and guesses "0.5% of the table".
        qs = qs.filter(pk__in=few) if few is not None else qs.filter(pk__in=RawSQL(match, params))
    return qs


def _few_matches(engine, match: str, params: list) -> list[int] | None:
    """The matching ids when there are at most FEW_MATCHES of them (one query), else None."""
    with engine.serial(), connection.cursor() as cursor:
        cursor.execute(f"{match} LIMIT {FEW_MATCHES + 1}", params)
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= FEW_MATCHES else None


def _search_texts(term: Term) -> list[str]:
    """What a word is looked up as: as typed, and as the identifier it stands for (refanged)."""
    texts = [term.text]
    canonical = normalised_term(term.text)
    if canonical and canonical.lower() != term.text.lower():
        texts.append(canonical)
    return texts


def _term_sql(engine, term: Term) -> tuple[str, list]:
    conditions, params = [], []
    for text in _search_texts(term):
        if any(ch.isalnum() for ch in text):
            sql, values = engine.text_match(text)
            conditions.append(sql)
            params += values
        if len(text) >= MIN_SUBSTRING and IDENTIFIER_LIKE.search(text):
            sql, values = engine.identifier_match(text)
            conditions.append(sql)
            params += values
    if not conditions:  # nothing searchable (punctuation only): matches nothing
        return "1 = 0", []
    return " OR ".join(conditions), params


def rank_texts(query: SearchQuery) -> list[str]:
    """The words that rank tickets and are highlighted: the positive ones, refanged where they were."""
    return [_search_texts(t)[-1] for t in query.positive_text if any(ch.isalnum() for ch in t.text)]


def search_rank_order(qs: QuerySet[Ticket], query: SearchQuery) -> QuerySet[Ticket]:
    """`qs` ordered best match first (recent activity breaks ties).

    Ranking reads each matching document, so it ranks the RANK_WINDOW most recently active matches
    (plus one, so a caller counting the result can tell there are more: see ranked_count); a common
    word among a million tickets stays fast, and sorting by activity pages through every match. Runs
    its two queries (the window, the scores) when called.
    """
    texts = rank_texts(query)
    recent_first = qs.order_by("-last_activity_at", "-id")
    if not texts:
        return recent_first
    # Scored in one query over the window, then handed back as an order of ids (a CASE per id would
    # hit SQLite's expression depth limit; a correlated score per row would rerun the word lookup).
    engine = backend()
    with engine.serial():
        window = list(recent_first.values_list("pk", flat=True)[: RANK_WINDOW + 1])
    scores = engine.scores(window, texts) if window else {}
    ordered = sorted(window, key=lambda pk: -scores.get(pk, 0.0))  # stable: recency breaks ties
    listed = "," + ",".join(map(str, ordered)) + ","
    position = RawSQL(engine.position(f'"{Ticket._meta.db_table}"."id"'), [listed])
    return Ticket.objects.filter(pk__in=ordered).order_by(OrderBy(position))


def ranked_count(total: int, capped: bool) -> tuple[int, bool]:
    """A count of a result ordered by search_rank_order, as (count, "or more")."""
    if total > RANK_WINDOW:
        return RANK_WINDOW, True
    return total, capped


def search_snippets(query: SearchQuery, ticket_ids: list[int]) -> dict[int, SafeString]:
    """For each ticket, an extract around what matched, matches in <mark>, everything else escaped."""
    texts = rank_texts(query)
    if not texts or not ticket_ids:
        return {}
    found = {pk: _marked(text) for pk, text in backend().snippets(ticket_ids, texts).items() if text}
    missing = [pk for pk in ticket_ids if pk not in found or not _marks_a_whole_text(found[pk], texts)]
    if missing:
        # Matched inside an identifier or a longer token (`kraken` in `kraken.exe`), which the
        # database's highlighter does not mark, or marked only in part (FTS5's extract can end inside
        # `203.0.113.7` and mark `203.0`): show the first place the words appear, when they appear as
        # typed; a stemmed match (`beacons` for `beaconing`) keeps the highlighter's extract.
        documents = TicketSearch.objects.filter(ticket_id__in=missing).values_list(
            "ticket_id", "identifiers", "title", Substr("body", 1, SNIPPET_SCAN)
        )
        for pk, *parts in documents:
            extract = _extract("\n".join(parts), texts)
            if extract:
                found[pk] = extract
    return found


def _marks_a_whole_text(html: str, texts: list[str]) -> bool:
    """Whether one of the extract's marks holds one of the searched texts whole."""
    marked = [" ".join(m.lower().split()) for m in MARKED.findall(html)]
    wanted = [" ".join(escape(t).lower().split()) for t in texts]
    return any(text in mark for mark in marked for text in wanted)


def _marked(text: str) -> SafeString:
    # Escaped first: the marks are control characters, which escaping leaves alone and no stored
    # text can contain (clean_text removes them), so only the engine's own marks become <mark>.
    html = escape(text).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    return mark_safe(html)


def _extract(document: str, texts: list[str]) -> SafeString | None:
    lowered = document.lower()
    for text in texts:
        at = lowered.find(text.lower())
        if at >= 0:
            end = at + len(text)
            start, stop = max(0, at - SNIPPET_CONTEXT), min(len(document), end + SNIPPET_CONTEXT)
            before = ("… " if start else "") + document[start:at]
            after = document[end:stop] + (" …" if stop < len(document) else "")
            line = " ".join((before + MARK_START + document[at:end] + MARK_END + after).split())
            return _marked(line)
    return None


CHOICE_FIELDS = {"status": Status, "severity": Severity, "source": Source}


def field_condition(term: Term, agent: Agent | None, visible: QuerySet[Ticket] | None = None) -> Q:
    """The condition `field:value` puts on tickets; ValueError with a message a person can act on."""
    value = term.text.strip()
    if term.field in CHOICE_FIELDS:
        choices = CHOICE_FIELDS[term.field]
        wanted = value.lower().replace(" ", "_")
        for choice_value, label in choices.choices:
            if wanted in (choice_value, label.lower().replace(" ", "_")):
                return Q(**{term.field: choice_value})
        raise ValueError(
            f"Unknown {term.field} {value!r} in the search: use one of {', '.join(choices.values)}."
        )
    if term.field == "tag":
        tagged = Ticket.tags.through.objects.filter(tag__name=value.lower()).values("ticket_id")
        return Q(pk__in=tagged)
    if term.field == "assignee":
        lowered = value.lower()
        if lowered == "me":
            return Q(assignee_id=agent.pk) if agent is not None else Q(pk__in=[])
        if lowered in ("none", "nobody", "unassigned"):
            return Q(assignee__isnull=True)
        return Q(assignee__user__username__iexact=value) | Q(assignee__display_name__iexact=value)
    if term.field == "linked":
        return linked_condition(value, agent, visible)
    if term.field.startswith("custom."):
        return custom_field_condition(term.field.removeprefix("custom."), value)
    resolver = field_resolvers.get(term.field)
    if resolver is None:
        raise ValueError(f"Searching by {term.field}: needs the alerts app, which is not installed.")
    return resolver(term.field, value)


def linked_condition(number: str, agent: Agent | None, visible: QuerySet[Ticket] | None = None) -> Q:
    """`linked:SOC-1042`: the tickets linked to that ticket either way. A ticket the caller may not see
    (not in `visible`, else not the agent's; with neither, none) matches nothing, as a number that does
    not exist (the search tells nothing about it)."""
    if visible is not None:
        tickets = visible
    else:
        tickets = Ticket.objects.none() if agent is None else tickets_visible_to(agent)
    other = tickets.filter(number=normalise_number(number)).values_list("pk", flat=True).first()
    if other is None:
        return Q(pk__in=[])
    return Q(pk__in=TicketLink.objects.filter(to_ticket_id=other).values("from_ticket_id")) | Q(
        pk__in=TicketLink.objects.filter(from_ticket_id=other).values("to_ticket_id")
    )


def custom_field_condition(name: str, value: str) -> Q:
    """`custom.<name>:value`: the field holds the value (case-blind), or a list that has it as an element.

    Read from the ticket's JSON column on both databases: a text comparison of the key's value, and for
    a multiple choice the quoted element inside the list's JSON text.
    """
    lookup = f"custom_fields__{name}"
    quoted = json.dumps(value)
    return Q(**{f"{lookup}__iexact": value}) | Q(**{f"{lookup}__icontains": quoted})
