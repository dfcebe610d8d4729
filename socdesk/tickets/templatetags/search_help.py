"""`{% search_help %}`: the search box's help popover, listing the syntax the parser reads."""

from __future__ import annotations

from django import template

from socdesk.tickets.search import field_help

register = template.Library()


@register.inclusion_tag("tickets/_search_help.html")
def search_help() -> dict:
    return {"fields": field_help()}
