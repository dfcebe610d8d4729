"""The requester's portal session: its own cookie and session row, apart from the agents' session.

The console's session (Django's `sessionid`, `request.user`) never signs anybody in to the portal, and
the portal's cookie (`socdesk_portal`, sent only under /portal/) is never read by the console: an agent
who opens the portal is a stranger there, and a requester is a stranger in the console.
"""

from __future__ import annotations

from functools import wraps
from importlib import import_module
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from socdesk.accounts.models import Contact
from socdesk.core.actor import Actor, client_ip
from socdesk.portal.signin import requester_actor

COOKIE = "socdesk_portal"
COOKIE_PATH = "/portal/"
CONTACT_KEY = "portal_contact"


def _store(session_key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key)
    return store


def portal_contact(request: HttpRequest) -> Contact | None:
    """The requester signed in to the portal on this request (from the portal's cookie only), or None."""
    key = request.COOKIES.get(COOKIE)
    if not key:
        return None
    contact_id = _store(key).get(CONTACT_KEY)
    if contact_id is None:
        return None
    return Contact.objects.filter(pk=contact_id).first()


def portal_sign_in(response: HttpResponse, contact: Contact) -> None:
    """Start a new portal session for the contact (a fresh key: never one a visitor brought along)."""
    store = _store()
    store[CONTACT_KEY] = contact.pk
    store.set_expiry(settings.SOCDESK_PORTAL_SESSION_AGE)
    store.create()
    assert store.session_key is not None  # create() saved it under a new key
    response.set_cookie(
        COOKIE,
        store.session_key,
        max_age=settings.SOCDESK_PORTAL_SESSION_AGE,
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def portal_sign_out(request: HttpRequest, response: HttpResponse) -> None:
    """End the portal session: its row deleted, its cookie cleared."""
    key = request.COOKIES.get(COOKIE)
    if key:
        _store(key).delete(key)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, samesite="Lax")


def requester_view(view: Any) -> Any:
    """A portal page for signed-in requesters: sets `request.contact` and `request.actor`, else sends
    the visitor to the sign-in page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        contact = portal_contact(request)
        if contact is None:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('portal:sign-in')}?{query}")
        request.contact = contact  # type: ignore[attr-defined]
        request.actor = requester_actor(contact, client_ip(request))  # type: ignore[attr-defined]
        response: HttpResponse = view(request, *args, **kwargs)
        # Pages with a requester's tickets are never kept by a shared browser's or a proxy's cache.
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def portal_actor(request: HttpRequest) -> Actor:
    """The signed-in requester of a `requester_view` request."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor
