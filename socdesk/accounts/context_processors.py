"""Template context every page may use: how agents can sign in here (the sign-in page's buttons)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def sign_in_options(request: HttpRequest) -> dict[str, object]:
    """`sso_name`: the OpenID provider's name when single sign-on is on; `password_login`: the form is on."""
    return {
        "sso_name": settings.SOCDESK_OIDC_PROVIDER_NAME if settings.SOCDESK_OIDC_ENABLED else "",
        "password_login": settings.SOCDESK_PASSWORD_LOGIN,
    }
