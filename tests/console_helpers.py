"""Helpers shared by the console's HTTP tests."""

from __future__ import annotations

from django.test import Client

from socdesk.accounts.models import Agent


def client_for(agent: Agent) -> Client:
    """A test client signed in as the agent (the sign-in form itself is tested in test_login)."""
    client = Client()
    client.force_login(agent.user)
    return client
