"""Personal tokens: an agent's own API keys, acting with that agent's permissions."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.utils import timezone
from ninja import Router, Status

from socdesk.accounts.models import ApiKey
from socdesk.accounts.services import apikey_create, apikey_revoke, apikey_rotate
from socdesk.api.v1.schemas import ErrorOut, TokenCreatedOut, TokenIn, TokenList, TokenRotateIn
from socdesk.api.v1.security import ANY_SCOPE, Caller, requires
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError

router = Router(tags=["personal tokens"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


def _agent_caller(request) -> Caller:
    caller: Caller = request.auth
    if caller.agent is None:
        raise PermissionDenied(
            "Personal tokens belong to agents, and this key is not an agent's personal token; "
            "sign in to the console or use one of your personal tokens."
        )
    return caller


def token_out(key: ApiKey, raw_key: str | None = None) -> dict:
    out = {
        "prefix": key.prefix,
        "name": key.name,
        "scopes": list(key.scopes),
        "allowed_cidrs": list(key.allowed_cidrs),
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
        "last_used_ip": key.last_used_ip,
        "revoked_at": key.revoked_at,
        "replaced_by": key.replaced_by.prefix if key.replaced_by else None,
    }
    if raw_key is not None:
        out["key"] = raw_key
    return out


@router.post(
    "/me/tokens",
    response={201: TokenCreatedOut} | ERRORS,
    auth=requires(ANY_SCOPE),
    url_name="token_create",
    summary="Create a personal token (shown once)",
)
def token_create(request, payload: TokenIn):
    """A token acting as the calling agent; made with a token, it can never exceed that token.

    Console session or personal token. The key is in this answer only.
    """
    caller = _agent_caller(request)
    scopes = set(payload.scopes)
    expires_at = payload.expires_at
    if expires_at is not None and timezone.is_naive(expires_at):
        expires_at = expires_at.replace(tzinfo=UTC)
    if caller.key is not None:
        wider = sorted(scopes - set(caller.key.scopes))
        if wider and "admin" not in caller.key.scopes:
            raise PermissionDenied(
                f"A token can only create tokens with its own scopes; this one lacks {', '.join(wider)}. "
                "Sign in to the console to create a wider token.",
                fields={"scopes": "wider_than_caller"},
            )
        if caller.key.expires_at is not None:
            if expires_at is not None and expires_at > caller.key.expires_at:
                raise ServiceError(
                    "A token cannot outlive the token that creates it; choose an earlier expiry.",
                    fields={"expires_at": "after_caller"},
                )
            expires_at = expires_at or caller.key.expires_at
    key, raw_key = apikey_create(
        actor=caller.actor,
        name=payload.name,
        scopes=sorted(scopes),
        allowed_cidrs=payload.allowed_cidrs,
        expires_at=expires_at,
        agent=caller.agent,
    )
    return Status(201, token_out(key, raw_key))


@router.get(
    "/me/tokens",
    response={200: TokenList} | ERRORS,
    auth=requires(ANY_SCOPE),
    url_name="token_list",
    summary="List your personal tokens",
)
def token_list(request):
    """Your personal tokens, newest first, without their secrets."""
    caller = _agent_caller(request)
    keys = (
        ApiKey.objects.filter(agent=caller.agent).select_related("replaced_by").order_by("-created_at", "-id")
    )
    return {"items": [token_out(k) for k in keys]}


@router.delete(
    "/me/tokens/{prefix}",
    response={204: None} | ERRORS,
    auth=requires(ANY_SCOPE),
    url_name="token_revoke",
    summary="Revoke one of your personal tokens",
)
def token_revoke(request, prefix: str):
    """Revoke one of your tokens at once (a token may revoke only tokens with no more scopes)."""
    caller = _agent_caller(request)
    key = _own_token(caller, prefix, "revoke")
    apikey_revoke(actor=caller.actor, key=key)
    return Status(204, None)


@router.post(
    "/me/tokens/{prefix}/rotate",
    response={201: TokenCreatedOut} | ERRORS,
    auth=requires(ANY_SCOPE),
    url_name="token_rotate",
    summary="Rotate one of your personal tokens (new one shown once)",
)
def token_rotate(request, prefix: str, payload: TokenRotateIn | None = None):
    """A new token with the same name, scopes, allow-list and expiry; the old one keeps working for
    `grace_seconds` (default SOCDESK_API_KEY_ROTATION_GRACE) so scripts can switch over. The new key
    is in this answer only."""
    caller = _agent_caller(request)
    key = _own_token(caller, prefix, "rotate")
    seconds = payload.grace_seconds if payload is not None else None
    grace = timedelta(seconds=seconds) if seconds is not None else None
    new_key, raw_key = apikey_rotate(actor=caller.actor, key=key, grace=grace)
    return Status(201, token_out(new_key, raw_key))


def _own_token(caller: Caller, prefix: str, verb: str) -> ApiKey:
    """One of the caller's own tokens, which a token may change only if it has no more scopes."""
    key = ApiKey.objects.filter(agent=caller.agent, prefix=prefix.strip()).first()
    if key is None:
        raise NotFound(f"You have no personal token {prefix}.")
    if caller.key is not None and not (
        set(key.scopes) <= set(caller.key.scopes) or "admin" in caller.key.scopes
    ):
        raise PermissionDenied(
            f"A token can only {verb} tokens with no more scopes than itself; sign in to the console "
            f"to {verb} this one."
        )
    return key
