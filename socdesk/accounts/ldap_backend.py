"""LDAP sign-in for agents, on django-auth-ldap: the password is checked by binding as the user's entry,
and the agent is found, created and given its department roles by socdesk.accounts.directory.

django-auth-ldap would save the Django user itself; here it only finds the entry, checks the password
and reads the groups, and `get_or_build_user` hands over to the accounts services (so it is audited).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_auth_ldap.backend import LDAPBackend

from socdesk.accounts.directory import DirectoryProfile, DirectoryRefusal, directory_sign_in
from socdesk.core.actor import client_ip


class DirectoryLDAPBackend(LDAPBackend):
    """Username and password checked against LDAP; a refusal is left on the request for the sign-in page."""

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[Any, bool]:
        attrs = ldap_user.attrs or {}

        def first(name: str) -> str:
            values = attrs.get(name) or [""]
            return str(values[0])

        request = ldap_user._request
        profile = DirectoryProfile(
            provider="ldap",
            subject=ldap_user.dn,
            username=username,
            email=first("mail"),
            # The directory is the organisation's own record of its staff: its addresses are vouched for.
            email_verified=True,
            first_name=first("givenName"),
            last_name=first("sn"),
            groups=frozenset(ldap_user.group_names)
            if getattr(settings, "AUTH_LDAP_GROUP_SEARCH", None)
            else frozenset(),
        )
        try:
            agent = directory_sign_in(
                profile=profile,
                group_map=settings.SOCDESK_LDAP_GROUP_MAP,
                create_agents=settings.SOCDESK_LDAP_CREATE_AGENTS,
                ip=client_ip(request) if request is not None else None,
                map_name="SOCDESK_LDAP_GROUP_MAP",
            )
        except DirectoryRefusal as exc:
            if request is not None:
                request.sso_refusal = exc
            # django-auth-ldap turns this into a failed sign-in (None), like a wrong password.
            raise ldap_user.AuthenticationFailed(exc.message) from None
        # Not "built": the services saved it; django-auth-ldap must not populate or save it again.
        return agent.user, False
