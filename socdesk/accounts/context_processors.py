"""Template context every page may use: how agents can sign in here (the sign-in page's buttons), and
whether the top bar links to the admin area."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from socdesk.accounts.selectors import manages_people


def sign_in_options(request: HttpRequest) -> dict[str, object]:
    """`sso_name`: the OpenID provider's name when single sign-on is on; `password_login`: the form is on."""
    return {
        "sso_name": settings.SOCDESK_OIDC_PROVIDER_NAME if settings.SOCDESK_OIDC_ENABLED else "",
        "password_login": settings.SOCDESK_PASSWORD_LOGIN,
    }


def admin_area(request: HttpRequest) -> dict[str, object]:
    """`may_use_admin_area`: whether the top bar shows the Admin link (admins and department leads).

    A callable, so pages that never ask (the sign-in page) run no query for it.
    """
    agent = getattr(request, "agent", None)

    def may_use_admin_area() -> bool:
        return agent is not None and manages_people(agent)

    return {"may_use_admin_area": may_use_admin_area}
