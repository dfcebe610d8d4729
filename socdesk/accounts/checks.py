"""`socdesk check --deploy` warnings for sign-in security that Django's own checks do not cover."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.security, deploy=True)
def admins_use_two_factor(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Production installs should require a second factor from admins (they can change everything)."""
    if settings.SOCDESK_REQUIRE_2FA_FOR_ADMINS:
        return []
    return [
        CheckWarning(
            "Admins can sign in with a password alone.",
            hint="Set SOCDESK_REQUIRE_2FA_FOR_ADMINS=true: admins then enroll an authenticator app at their "
            "next sign-in (docs/security.md, Two-factor authentication).",
            id="accounts.W001",
        )
    ]


@register(Tags.security, deploy=True)
def cookies_follow_https(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Redirecting to https while cookies may still travel over http is a contradiction worth a warning."""
    if settings.SECURE_SSL_REDIRECT and not settings.SECURE_COOKIES:
        return [
            CheckWarning(
                "Requests are redirected to https, but session and CSRF cookies are not marked Secure.",
                hint="Set SOCDESK_HTTPS=true (or drop SOCDESK_SECURE_COOKIES=false).",
                id="accounts.W002",
            )
        ]
    return []
