"""`{% portal_sso_button %}`: the sign-in page's "Sign in with …" link, only when the portal's single
sign-on is configured."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from socdesk.portal.sso import provider_name, sso_configured

register = template.Library()


@register.inclusion_tag("portal/sso_button.html", takes_context=True)
def portal_sso_button(context: template.Context) -> dict[str, Any]:
    """The button's address (carrying the page to return to) and the provider's name, or nothing."""
    if not sso_configured():
        return {"sso_url": ""}
    request = context.get("request")
    target = request.GET.get("next", "") if request is not None else ""
    url = reverse("portal:sso-start")
    return {"sso_url": f"{url}?{urlencode({'next': target})}" if target else url, "name": provider_name()}
