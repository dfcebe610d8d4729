"""Who is calling the v1 API: API keys and personal tokens (X-API-Key or Bearer) and console sessions.

Each ninja auth class is built for one scope, so an operation declares what it needs with
`auth=requires("tickets:read")`. Authentication yields a `Caller`: the actor for services, the
scopes, and the tickets it may see.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf

from socdesk.accounts.keyauth import ApiAuthError, authenticate_key, check_rate_limit
from socdesk.accounts.models import Agent, ApiKey
from socdesk.accounts.services import agent_for_user
from socdesk.core.actor import Actor
from socdesk.tickets.models import Ticket
from socdesk.tickets.selectors import ticket_get_from, tickets_visible_to, tickets_visible_to_key

TICKET_SCOPES = frozenset({"tickets:read", "tickets:create", "tickets:write"})
ANY_SCOPE = None  # requires(ANY_SCOPE): any valid credential, whatever its scopes


@dataclass(frozen=True)
class Caller:
    """An authenticated v1 API caller: a key (with or without an agent) or a signed-in agent."""

    actor: Actor
    scopes: frozenset[str]
    key: ApiKey | None = None  # None for a console session

    @property
    def agent(self) -> Agent | None:
        return self.actor.agent

    @property
    def via_session(self) -> bool:
        return self.key is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    def visible_tickets(self) -> QuerySet[Ticket]:
        """Agents (session, personal token) see what they may; other keys all or their department's."""
        if self.agent is not None:
            return tickets_visible_to(self.agent)
        return tickets_visible_to_key(self.key)

    def get_ticket(self, number: str) -> Ticket:
        """The ticket if this caller may see it; NotFound (404) otherwise, never 403."""
        return ticket_get_from(self.visible_tickets(), number)

    def sees_internal_notes(self) -> bool:
        """Internal notes and events are for agents and for keys allowed to read tickets."""
        return self.agent is not None or self.has_scope("tickets:read")


def enforce_rate_limit(request: HttpRequest, caller: Caller) -> None:
    """Run after every successful v1 authentication: keys and personal tokens are rate limited per key
    (RateLimited becomes a 429 with Retry-After); console sessions are not."""
    if caller.key is not None:
        check_rate_limit(caller.key)


def _key_caller(request: HttpRequest, raw_key: str, scope: str | None) -> Caller:
    key, actor = authenticate_key(request, raw_key, scope=scope)
    caller = Caller(actor=actor, scopes=frozenset(key.scopes), key=key)
    enforce_rate_limit(request, caller)
    return caller


class ApiKeyAuth(APIKeyHeader):
    """An API key or personal token in the X-API-Key header."""

    param_name = "X-API-Key"

    def __init__(self, scope: str | None):
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        key = (key or "").strip()
        return _key_caller(request, key, self.scope) if key else None


class BearerKeyAuth(HttpBearer):
    """An API key or personal token as `Authorization: Bearer KEY`."""

    def __init__(self, scope: str | None):
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        token = (token or "").strip()
        if not token:
            raise ApiAuthError("Valid API key required")
        return _key_caller(request, token, self.scope)


class ConsoleSessionAuth(APIKeyCookie):
    """An agent signed in to the console; unsafe methods need the CSRF token (X-CSRFToken header)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, scope: str | None):
        self.scope = scope
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session cookie this is not a session request: let the 401 say what to send,
        # instead of a CSRF refusal for a request that never meant to use a session.
        if not request.COOKIES.get(self.param_name):
            return None
        if check_csrf(request) is not None:
            raise ApiAuthError(
                "CSRF check failed: a signed-in console request that changes something must send the "
                "X-CSRFToken header with the csrftoken cookie's value.",
                status=403,
                code="csrf_failed",
            )
        return request.COOKIES[self.param_name]

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        user = getattr(request, "user", None)
        if not key or user is None or not user.is_authenticated or not user.is_active:
            return None
        try:
            agent = agent_for_user(user)
        except Agent.DoesNotExist:
            return None
        scopes = TICKET_SCOPES | ({"admin"} if agent.is_admin else set())
        if self.scope is not None and self.scope not in scopes:
            raise ApiAuthError(f"Your account lacks the {self.scope} scope.", status=403, code="forbidden")
        caller = Caller(actor=Actor.for_request(request), scopes=frozenset(scopes))
        enforce_rate_limit(request, caller)
        return caller


def requires(scope: str | None) -> list:
    """The auth list for an operation needing `scope` (None: any valid credential)."""
    return [ApiKeyAuth(scope), BearerKeyAuth(scope), ConsoleSessionAuth(scope)]
