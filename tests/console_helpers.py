"""Helpers shared by the console's HTTP tests."""

from __future__ import annotations

from django.test import Client

from socdesk.accounts.models import Agent


def client_for(agent: Agent) -> Client:
    """A test client signed in as the agent (the sign-in form itself is tested in test_login)."""
    client = Client()
    client.force_login(agent.user)
    return client


def admin_user_form(user, **changes) -> dict:
    """The admin's change form for a login as a browser posts it (unticked boxes are left out)."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    } | changes
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False}


def admin_integration_form(**changes) -> dict:
    """The admin's integration form as a browser posts it, with the model's defaults."""
    return {
        "adapter": "generic",
        "name": "SIEM",
        "enabled": "on",
        "default_severity": "medium",
        "default_tags": "[]",
        "severity_map": "{}",
        "grouping_key": "",
        "group_by": "group",
        "field_map": "{}",
        "hmac_secret": "",
        "hmac_header": "X-Grafana-Alert-Signature",
        "hmac_timestamp_header": "",
    } | changes
