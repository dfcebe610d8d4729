"""Who did something: the one value every interface builds and passes down to services."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

    from socdesk.accounts.models import Agent, ApiKey


@dataclass(frozen=True)
class Actor:
    """An agent, end user, API key or system job, with the IP the action came from."""

    kind: str  # "agent" | "user" | "apikey" | "system"
    label: str
    ident: str = ""
    ip: str | None = None
    agent: Agent | None = field(default=None, compare=False, repr=False)
    obj: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def for_agent(cls, agent: Agent, ip: str | None = None) -> Actor:
        return cls(kind="agent", label=agent.user.get_username(), ident=str(agent.pk), ip=ip, agent=agent)

    @classmethod
    def for_request(cls, request: HttpRequest) -> Actor:
        """The signed-in agent behind a web request, with the client IP."""
        # Only called behind the agent login: the user is signed in, not AnonymousUser.
        return cls.for_agent(cast("User", request.user).agent, ip=client_ip(request))

    @classmethod
    def for_api_key(cls, key: ApiKey, ip: str | None = None) -> Actor:
        """A tool using an API key; a personal token also carries its agent (and their permissions)."""
        return cls(kind="apikey", label=f"key:{key.name}", ident=str(key.pk), ip=ip, agent=key.agent, obj=key)

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(kind="system", label=job, ident=job)

    @classmethod
    def anonymous(cls, label: str, ip: str | None = None) -> Actor:
        """Someone not (yet) identified, e.g. a failed login attempt."""
        return cls(kind="anonymous", label=label, ip=ip)


def client_ip(request: HttpRequest) -> str | None:
    """The peer address; X-Forwarded-For is believed only when the peer is a configured trusted proxy."""
    peer: str | None = request.META.get("REMOTE_ADDR") or None
    forwarded: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not (peer and forwarded and _is_trusted_proxy(peer)):
        return peer
    # Walk from the right: the first hop that is not one of our proxies is the client.
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer
        if not _is_trusted_proxy(hop):
            return hop
    return hops[0] if hops else peer


def forwarded_by_untrusted_proxy(request: HttpRequest) -> bool:
    """True when the request names a client in forwarding headers that its peer is not trusted to set:
    it came through a proxy SOCdesk was not told about, so its real client is unknown."""
    headers = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")
    if not any(request.META.get(header) for header in headers):
        return False
    return not _is_trusted_proxy(request.META.get("REMOTE_ADDR") or "")


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXIES)
