"""Reads of the knowledge base.

Agents read every article (the knowledge base is the SOC's shared memory, not a department's files);
requesters read only public ones, through `articles_public`, which the requester portal uses (it is not
built yet: this selector is its way in, so an internal article can never reach it by another path).
"""

from __future__ import annotations

from django.db.models import Count, QuerySet

from socdesk.alerts.models import TicketObservable
from socdesk.core.errors import NotFound
from socdesk.kb.choices import Visibility
from socdesk.kb.models import Article, Category
from socdesk.kb.search import ranked_ids, suggestion_terms
from socdesk.tickets.models import Ticket
from socdesk.tickets.search import parse_query

SUGGESTIONS = 5


def articles_for_agents() -> QuerySet[Article]:
    """Every article, with what the lists show."""
    return Article.objects.select_related("category", "author__user")


def articles_public() -> QuerySet[Article]:
    """The public articles only: what requesters may read (the portal's one way in)."""
    return articles_for_agents().filter(visibility=Visibility.PUBLIC)


def article_get_from(qs: QuerySet[Article], pk: int) -> Article:
    """One article of `qs`; NotFound (404) when there is none (an internal one asked for publicly)."""
    article = qs.filter(pk=pk).first()
    if article is None:
        raise NotFound("There is no such article.")
    return article


def categories_with_counts() -> QuerySet[Category]:
    """The categories in page order, each with its number of articles."""
    return Category.objects.annotate(article_count=Count("articles"))


def article_search(qs: QuerySet[Article], text: str) -> tuple[list[Article], list[str]]:
    """The articles of `qs` matching the query (the console's search language: words, "phrases",
    -negation), best first, and sentences about what of the query could not be used."""
    query = parse_query(text)
    errors = list(query.errors)
    if query.field_terms:
        names = ", ".join(sorted({f"{t.field}:" for t in query.field_terms}))
        errors.append(f"The knowledge base searches words and phrases only; {names} was left out.")
    wanted = [t.text for t in query.text_terms if not t.negated]
    unwanted = [t.text for t in query.text_terms if t.negated]
    if not wanted:
        if unwanted:
            errors.append("Say what to look for, not only what to leave out.")
        return [], errors
    ids = ranked_ids(wanted)
    for text_out in unwanted:
        qs = qs.exclude(pk__in=ranked_ids([text_out]))
    found = {a.pk: a for a in qs.filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found], errors


def articles_suggested_for(ticket: Ticket, *, limit: int = SUGGESTIONS) -> list[Article]:
    """Articles about this ticket: any of its subject's telling words or its observables' values, best
    first. Three queries whatever the ticket: its observables' values, one ranked search, the articles."""
    values = list(
        TicketObservable.objects.filter(ticket=ticket)
        .order_by("-ioc", "observable__type")
        .values_list("observable__value", flat=True)[:20]
    )
    terms = suggestion_terms(ticket.subject, values)
    ids = ranked_ids(terms, any_of=True, limit=limit)
    found = {a.pk: a for a in articles_for_agents().filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]
