"""Help topics in the queue: the filter's "Help topic" list (drawn by routing's view after the queue page
loads) and condition, and the search's `topic:` field. The condition and the field are registered with
the tickets app from RoutingConfig.ready (tickets imports nothing from routing).

`help_topic_link` is TicketTopic's reverse name on Ticket; TicketTopic's primary key is the ticket and
its `topic_id` column is indexed (a foreign key), so either side of the join is read by index.
"""

from __future__ import annotations

from django.db.models import Q

from socdesk.routing.models import HelpTopic
from socdesk.routing.selectors import help_topics_for_agents

NO_TOPIC_WORDS = ("none", "no")


def topic_choices() -> list[tuple[int, str]]:
    """Every help topic as (id, label) for the queue's filter; a sub-topic's label names its parent."""
    return [(t.pk, f"{t.parent.name} / {t.name}" if t.parent else t.name) for t in help_topics_for_agents()]


def topic_condition(topic_ids: list[int]) -> Q:
    """Tickets on any of these help topics; 0 stands for tickets on no help topic."""
    wanted = [pk for pk in topic_ids if pk]
    condition = Q(help_topic_link__topic_id__in=wanted) if wanted else Q(pk__in=[])
    if 0 in topic_ids:
        condition |= Q(help_topic_link__isnull=True)
    return condition


def topic_search_condition(field: str, value: str) -> Q:
    """`topic:<name>`: tickets on the help topic of that name, any case (every topic of that name, under
    whichever parent); `topic:none`: tickets on no help topic. ValueError names an unknown topic."""
    name = value.strip()
    ids = list(HelpTopic.objects.filter(name__iexact=name).values_list("pk", flat=True))
    if ids:
        return Q(help_topic_link__topic_id__in=ids)
    if name.lower() in NO_TOPIC_WORDS:
        return Q(help_topic_link__isnull=True)
    raise ValueError(
        f"There is no help topic named {name!r}: use a topic's name as the Help topic list shows it, in "
        'quotes when it has spaces (topic:"Lateral movement"), or topic:none.'
    )


def register() -> None:
    """Give the tickets app the queue's help-topic filter and the search's `topic:` field."""
    from socdesk.tickets.filters import help_topic_condition_register
    from socdesk.tickets.search import search_field_register

    help_topic_condition_register(topic_condition)
    search_field_register("topic", topic_search_condition)
