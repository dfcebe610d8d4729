"""Sections that apps above tickets add to the tickets' pages (tickets imports nothing above it).

An app registers a renderer when it loads; the tickets view calls it while rendering its page, so the
section arrives with the page rather than in a second request.

new_ticket(request, data, invalid)    the new-ticket form's section of that app (routing: the help topic
                                      and its custom fields), as HTML: `data` is what the form sent (empty
                                      on a first visit) and `invalid` the custom fields a refusal named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.safestring import SafeString, mark_safe

NewTicketSection = Callable[[HttpRequest, QueryDict, frozenset[str]], str]

new_ticket_sections: list[NewTicketSection] = []


def new_ticket_section_register(renderer: NewTicketSection) -> None:
    """Add an app's section to the new-ticket form (once, in the order apps load)."""
    if renderer not in new_ticket_sections:
        new_ticket_sections.append(renderer)


def new_ticket_sections_html(request: HttpRequest, data: QueryDict, invalid: Iterable[Any]) -> SafeString:
    """Every registered section of the new-ticket form, rendered for what the form sent."""
    names = frozenset(str(name) for name in invalid)
    # The renderers return template output, escaped where it holds data.
    return mark_safe("".join(renderer(request, data, names) for renderer in new_ticket_sections))
