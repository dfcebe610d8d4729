"""Writes for logins, agents, departments, teams, roles and contacts; each records an audit event."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from socdesk.accounts.choices import ALL_PERMS, ClosedReply, Perm
from socdesk.accounts.models import (
    Agent,
    ApiKey,
    Contact,
    Department,
    DepartmentAccess,
    Organisation,
    Role,
    Team,
)
from socdesk.accounts.selectors import departments_with_perm
from socdesk.audit.services import audit_event, record, record_many
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError

if TYPE_CHECKING:
    from django.contrib.auth.models import User
from socdesk.core.text import clean_text


@transaction.atomic
def department_create(*, actor: Actor, name: str, email: str = "", description: str = "") -> Department:
    """Create a department."""
    name = clean_text(name).strip()
    if not name:
        raise ServiceError("Give the department a name.", fields={"name": "required"})
    if Department.objects.filter(name__iexact=name).exists():
        raise ServiceError(f"A department named {name!r} already exists.", fields={"name": "taken"})
    dept = Department.objects.create(name=name, slug=slugify(name)[:50], email=email, description=description)
    record(actor=actor, action="department.created", target=dept, after={"name": name, "email": email})
    return dept


@transaction.atomic
def department_set_retention(
    *, actor: Actor, department: Department, raw_payload_days: int | None, closed_ticket_days: int | None
) -> Department:
    """Set how long a department keeps raw alert payloads and closed tickets (None: the global default)."""
    for field, days in (("raw_payload_days", raw_payload_days), ("closed_ticket_days", closed_ticket_days)):
        if days is not None and days < 1:
            raise ServiceError(
                f"{field.replace('_', ' ').capitalize()} must be at least 1 day, or empty for the default.",
                fields={field: "too_small"},
            )
    department = Department.objects.select_for_update().get(pk=department.pk)
    before = {
        "raw_payload_retention_days": department.raw_payload_retention_days,
        "closed_ticket_retention_days": department.closed_ticket_retention_days,
    }
    department.raw_payload_retention_days = raw_payload_days
    department.closed_ticket_retention_days = closed_ticket_days
    department.save(update_fields=["raw_payload_retention_days", "closed_ticket_retention_days"])
    after = {
        "raw_payload_retention_days": raw_payload_days,
        "closed_ticket_retention_days": closed_ticket_days,
    }
    record(actor=actor, action="department.retention_changed", target=department, before=before, after=after)
    return department


@transaction.atomic
def department_set_autoclose(*, actor: Actor, department: Department, days: int | None) -> Department:
    """Set after how many days a resolved ticket of the department closes by itself (None: never)."""
    if days is not None and days < 1:
        raise ServiceError(
            "Auto-close must be at least 1 day after resolving, or empty to never close automatically.",
            fields={"autoclose_resolved_days": "too_small"},
        )
    department = Department.objects.select_for_update().get(pk=department.pk)
    before = {"autoclose_resolved_days": department.autoclose_resolved_days}
    if before["autoclose_resolved_days"] == days:
        return department  # nothing changed: no event
    department.autoclose_resolved_days = days
    department.save(update_fields=["autoclose_resolved_days"])
    record(
        actor=actor,
        action="department.autoclose_changed",
        target=department,
        before=before,
        after={"autoclose_resolved_days": days},
    )
    return department


@transaction.atomic
def department_set_auto_response(*, actor: Actor, department: Department, enabled: bool) -> Department:
    """Turn the acknowledgement e-mail to the requesters of the department's new tickets on or off."""
    department = Department.objects.select_for_update().get(pk=department.pk)
    if department.auto_response == enabled:
        return department  # nothing changed: no event
    before = {"auto_response": department.auto_response}
    department.auto_response = enabled
    department.save(update_fields=["auto_response"])
    record(
        actor=actor,
        action="department.auto_response_changed",
        target=department,
        before=before,
        after={"auto_response": enabled},
    )
    return department


@transaction.atomic
def department_set_mail_replies(
    *, actor: Actor, department: Department, closed_reply: str, reopen_ack: bool
) -> Department:
    """Set what the requester's e-mail to a closed ticket of the department does (`reopen`, `new`, or ""
    for the SOCDESK_MAIL_CLOSED_REPLY default) and whether a reopening reply is acknowledged by e-mail."""
    if closed_reply not in ClosedReply.values:
        raise ServiceError(
            f"Unknown closed-ticket reply handling {str(closed_reply)[:40]!r}: use reopen, new, or empty "
            "for the installation default.",
            fields={"closed_reply": "invalid"},
        )
    department = Department.objects.select_for_update().get(pk=department.pk)
    before = {"closed_reply": department.closed_reply, "reopen_ack": department.reopen_ack}
    after = {"closed_reply": closed_reply, "reopen_ack": reopen_ack}
    if before == after:
        return department  # nothing changed: no event
    department.closed_reply, department.reopen_ack = closed_reply, reopen_ack
    department.save(update_fields=["closed_reply", "reopen_ack"])
    record(
        actor=actor, action="department.mail_replies_changed", target=department, before=before, after=after
    )
    return department


@transaction.atomic
def agent_set_availability(*, actor: Actor, agent: Agent, available: bool) -> Agent:
    """Mark an agent available (auto-assignment may give them new tickets) or away (it gives them none).

    Agents set their own; an admin may set anyone's (someone who left without switching to away).
    """
    if actor.agent is not None and actor.agent.pk != agent.pk and not actor.agent.is_admin:
        raise PermissionDenied("You may set only your own availability.")
    agent = Agent.objects.select_for_update().select_related("user").get(pk=agent.pk)
    if agent.available == available:
        return agent  # a second click, or two tabs: already so, nothing to record
    before = {"available": agent.available}
    agent.available = available
    agent.available_changed_at = timezone.now()
    agent.save(update_fields=["available", "available_changed_at"])
    record(
        actor=actor,
        action="agent.availability_changed",
        target=agent,
        target_label=agent.name,
        before=before,
        after={"available": available},
    )
    return agent


@transaction.atomic
def role_create(*, actor: Actor, name: str, permissions: Iterable[str]) -> Role:
    """Create a role (a named permission set)."""
    name = clean_text(name).strip()
    if not name:
        raise ServiceError("Give the role a name.", fields={"name": "required"})
    if Role.objects.filter(name__iexact=name).exists():
        raise ServiceError(f"A role named {name!r} already exists.", fields={"name": "taken"})
    perms = sorted(set(permissions))
    unknown = set(perms) - ALL_PERMS
    if unknown:
        raise ServiceError(
            f"Unknown permission(s): {', '.join(sorted(unknown))}.", fields={"permissions": "unknown"}
        )
    role = Role.objects.create(name=name, permissions=perms)
    record(actor=actor, action="role.created", target=role, after={"name": name, "permissions": perms})
    return role


@transaction.atomic
def agent_create(
    *,
    actor: Actor,
    username: str,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    is_admin: bool = False,
    time_zone: str = "UTC",
    limit_to_assigned: bool = False,
) -> Agent:
    """Create a login and its agent profile. A None password leaves the login unusable until set."""
    agent = agent_insert(
        username=username,
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        is_admin=is_admin,
        time_zone=time_zone,
        limit_to_assigned=limit_to_assigned,
    )
    record(
        actor=actor,
        action="agent.created",
        target=agent,
        target_label=username,
        after={"username": username, "email": email, "is_admin": is_admin},
    )
    return agent


def agent_insert(
    *,
    username: str,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    is_admin: bool = False,
    time_zone: str = "UTC",
    limit_to_assigned: bool = False,
) -> Agent:
    """The writes of agent_create without its audit event, for services that record the creation
    together with more (socdesk.accounts.onboarding); call only inside such a service's transaction."""
    User = get_user_model()
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError(f"The username {username!r} is taken.", fields={"username": "taken"})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    user.is_staff = is_admin
    user.is_superuser = is_admin
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return Agent.objects.create(
        user=user, is_admin=is_admin, time_zone=time_zone, limit_to_assigned=limit_to_assigned
    )


def agent_for_user(user: User) -> Agent:
    """The agent profile of a Django user, creating it for superusers made with `createsuperuser`."""
    try:
        return user.agent
    except Agent.DoesNotExist:
        if not user.is_superuser:
            raise
        agent = Agent.objects.create(user=user, is_admin=True)
        record(
            actor=Actor.system("createsuperuser"),
            action="agent.created",
            target=agent,
            target_label=user.get_username(),
            after={"username": user.get_username(), "is_admin": True},
        )
        return agent


@transaction.atomic
def superuser_adopt(*, actor: Actor, user: User) -> Agent:
    """Record a superuser made outside the services (Django's `createsuperuser`) and give it its admin
    agent profile, so the new login is in the audit trail before it is ever used."""
    agent, _created = Agent.objects.get_or_create(user=user, defaults={"is_admin": user.is_superuser})
    record(
        actor=actor,
        action="agent.created",
        target=agent,
        target_label=user.get_username(),
        after={
            "username": user.get_username(),
            "email": user.email,
            "is_admin": agent.is_admin,
            "is_superuser": user.is_superuser,
            "is_staff": user.is_staff,
        },
    )
    return agent


USER_PROFILE_FIELDS = ("username", "first_name", "last_name", "email")
USER_FLAGS = ("is_active", "is_staff", "is_superuser")


@transaction.atomic
def user_edit(
    *,
    actor: Actor,
    user: User,
    username: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
) -> User:
    """Change a login's name fields and email (None leaves a field as it is)."""
    User = get_user_model()
    user = User.objects.select_for_update().get(pk=user.pk)
    given = {"username": username, "first_name": first_name, "last_name": last_name, "email": email}
    changes = {
        name: clean_text(value).strip()
        for name, value in given.items()
        if value is not None and clean_text(value).strip() != getattr(user, name)
    }
    if "username" in changes:
        if not changes["username"]:
            raise ServiceError("A login needs a username.", fields={"username": "required"})
        if User.objects.filter(username__iexact=changes["username"]).exclude(pk=user.pk).exists():
            raise ServiceError(
                f"The username {changes['username']!r} is taken.", fields={"username": "taken"}
            )
    return _user_change(actor, user, "user.edited", changes)


@transaction.atomic
def user_set_flags(
    *,
    actor: Actor,
    user: User,
    is_active: bool | None = None,
    is_staff: bool | None = None,
    is_superuser: bool | None = None,
) -> User:
    """Grant or withdraw sign-in (active), the admin site (staff) and every right (superuser)."""
    User = get_user_model()
    user = User.objects.select_for_update().get(pk=user.pk)
    given = {"is_active": is_active, "is_staff": is_staff, "is_superuser": is_superuser}
    changes = {
        name: value for name, value in given.items() if value is not None and value != getattr(user, name)
    }
    if changes.get("is_superuser") and is_staff is None and not user.is_staff:
        changes["is_staff"] = True  # the admin site's sign-in form refuses logins without staff
    withdrawn = changes.get("is_superuser") is False or changes.get("is_active") is False
    loses_admin = user.is_superuser and user.is_active and withdrawn
    others = User.objects.filter(is_superuser=True, is_active=True).exclude(pk=user.pk)
    if loses_admin and not others.exists():
        # Nobody could sign in to the admin site or the audit browser to undo it.
        raise ServiceError(
            f"{user.get_username()} is the last active superuser; make another one first.",
            fields={"is_superuser": "last_admin"},
        )
    also: dict[str, tuple[Any, Any]] = {}
    if "is_superuser" in changes:
        # One notion of "admin": Agent.is_admin (the console) mirrors is_superuser (the admin site)
        # and changes only here, in the same transaction and audit event.
        agent = Agent.objects.filter(user=user).first()
        if agent is not None and agent.is_admin != changes["is_superuser"]:
            Agent.objects.filter(pk=agent.pk).update(is_admin=changes["is_superuser"])
            also["agent_is_admin"] = (agent.is_admin, changes["is_superuser"])
    return _user_change(actor, user, "user.flags_changed", changes, also=also)


def _user_change(
    actor: Actor,
    user: User,
    action: str,
    changes: dict[str, Any],
    also: dict[str, tuple[Any, Any]] | None = None,
) -> User:
    """Write the changed fields of a locked login and record them, before and after (with `also`:
    other values the same change moved, as {name: (before, after)})."""
    if not changes:
        return user
    before = {name: getattr(user, name) for name in changes}
    after = dict(changes)
    for name, value in changes.items():
        setattr(user, name, value)
    user.save(update_fields=list(changes))
    for name, (old, new) in (also or {}).items():
        before[name], after[name] = old, new
    record(
        actor=actor,
        action=action,
        target=user,
        target_label=user.get_username(),
        before=before,
        after=after,
    )
    return user


@transaction.atomic
def user_set_password(*, actor: Actor, user: User, password: str | None) -> User:
    """Set a login's password, or disable password sign-in with None; the audit says that it changed,
    never what it is."""
    if password is not None:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise ServiceError(" ".join(exc.messages), fields={"password": "weak"}) from None
    # Written on the caller's instance, so a session kept valid with update_session_auth_hash sees it.
    had_password = user.has_usable_password()
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    record(
        actor=actor,
        action="user.password_changed",
        target=user,
        target_label=user.get_username(),
        before={"usable": had_password},
        after={"usable": password is not None},
    )
    return user


@transaction.atomic
def access_grant(*, actor: Actor, agent: Agent, department: Department, role: Role) -> DepartmentAccess:
    """Give an agent a role in a department (replacing any role they held there)."""
    access, _created = DepartmentAccess.objects.update_or_create(
        agent=agent, department=department, defaults={"role": role}
    )
    record(
        actor=actor,
        action="access.granted",
        target=agent,
        after={"department": department.name, "role": role.name},
    )
    return access


@transaction.atomic
def access_revoke(*, actor: Actor, agent: Agent, department: Department) -> bool:
    """Take away an agent's role in a department; False when they had none there."""
    access = (
        DepartmentAccess.objects.filter(agent=agent, department=department).select_related("role").first()
    )
    if access is None:
        return False
    role_name = access.role.name
    access.delete()
    record(
        actor=actor,
        action="access.revoked",
        target=agent,
        before={"department": department.name, "role": role_name},
    )
    return True


@transaction.atomic
def team_create(
    *,
    actor: Actor,
    name: str,
    department: Department | None = None,
    lead: Agent | None = None,
    members: Iterable[Agent] = (),
) -> Team:
    """Create a team with its members; a department lead (not an admin) only in a department they manage."""
    name = clean_text(name).strip()
    if not name:
        raise ServiceError("Give the team a name.", fields={"name": "required"})
    managed = departments_with_perm(actor.agent, Perm.MANAGE) if actor.agent is not None else None
    if managed is not None and (department is None or department.pk not in managed):
        raise PermissionDenied(
            "You may only create teams in a department you manage.", fields={"department": "not_managed"}
        )
    if Team.objects.filter(name__iexact=name).exists():
        raise ServiceError(f"A team named {name!r} already exists.", fields={"name": "taken"})
    team = Team.objects.create(name=name, department=department, lead=lead)
    members = list(members)
    team.members.set(members)
    record(
        actor=actor,
        action="team.created",
        target=team,
        after={"name": name, "lead": lead.pk if lead else None, "members": [m.pk for m in members]},
    )
    return team


@transaction.atomic
def organisation_create(*, actor: Actor, name: str, domain: str = "") -> Organisation:
    """Create a requester organisation; contacts whose email is in `domain` join it when first seen."""
    name, domain = name.strip(), domain.strip().lower()
    if not name:
        raise ServiceError("An organisation needs a name.", fields={"name": "required"})
    if Organisation.objects.filter(name__iexact=name).exists():
        raise ServiceError(f"An organisation named {name!r} already exists.", fields={"name": "taken"})
    org = Organisation.objects.create(name=name, domain=domain)
    record(actor=actor, action="organisation.created", target=org, after={"name": name, "domain": domain})
    return org


def contact_get_or_create(*, actor: Actor, email: str, name: str = "", phone: str = "") -> Contact:
    """The contact with this email (stored lower-case), created on first sight; safe under races."""
    email = clean_text(email).strip().lower()
    return contacts_get_or_create([ContactWanted(actor, email, name, phone)])[email]


@dataclass(frozen=True)
class ContactWanted:
    """One requester to find or create: who asks, the email, and the name and phone for a new contact."""

    actor: Actor
    email: str
    name: str = ""
    phone: str = ""


def contacts_get_or_create(wanted: Iterable[ContactWanted]) -> dict[str, Contact]:
    """{email (lower-case): contact} for every wanted email, the missing ones created, and each creation
    audited; safe under races. The known ones are read in one query and the new ones inserted in one,
    whatever their number (the first wanted entry of an email gives its name and phone)."""
    first: dict[str, ContactWanted] = {}
    for want in wanted:
        email = clean_text(want.email).strip().lower()
        if email not in first:
            first[email] = want
    found = {c.email: c for c in Contact.objects.filter(email__in=sorted(first))} if first else {}
    missing = [email for email in first if email not in found]
    while missing:
        organisations = _organisations_by_domain({email.rpartition("@")[2] for email in missing})
        new = [
            Contact(
                email=email,
                name=clean_text(first[email].name).strip(),
                phone=clean_text(first[email].phone).strip(),
                organisation=organisations.get(email.rpartition("@")[2]),
            )
            for email in missing
        ]
        try:
            with transaction.atomic():
                Contact.objects.bulk_create(new)
        except IntegrityError:  # some were created by a concurrent request between our read and our insert
            found.update((c.email, c) for c in Contact.objects.filter(email__in=missing))
            missing = [email for email in missing if email not in found]
            continue
        record_many(
            [
                audit_event(
                    actor=first[contact.email].actor,
                    action="contact.created",
                    target=contact,
                    after={"email": contact.email, "name": clean_text(first[contact.email].name)},
                )
                for contact in new
            ]
        )
        found.update((contact.email, contact) for contact in new)
        missing = []
    return found


def _organisations_by_domain(domains: set[str]) -> dict[str, Organisation]:
    """{domain: the organisation a new contact of that email domain joins} (the first by name), one query."""
    domains.discard("")
    if not domains:
        return {}
    matches = (
        Organisation.objects.annotate(domain_lower=Lower("domain"))
        .filter(domain_lower__in=sorted(domains))
        .order_by("name", "id")
    )
    found: dict[str, Organisation] = {}
    for org in matches:
        found.setdefault(org.domain.lower(), org)
    return found


CONTACT_NAME_MAX = 150


@transaction.atomic
def contact_name_set(*, actor: Actor, contact: Contact, name: str, only_if_empty: bool = False) -> Contact:
    """Set the name a requester goes by (from the portal: their own); an empty name clears it. Refused,
    nothing written, for a name too long or one with an address's characters. Audited as `contact.renamed`
    when it changes. With `only_if_empty` a name the contact already has is kept (a name from a sign-in
    provider never overwrites the one the person chose)."""
    name = " ".join(clean_text(name or "").split())
    if len(name) > CONTACT_NAME_MAX:
        raise ServiceError(
            f"Your name can have at most {CONTACT_NAME_MAX} characters; this one has {len(name)}.",
            fields={"name": "too_long"},
        )
    # Agents read the name beside the address ("Dana <dana@example.test>"), in the console and in mail
    # headers: a name that carries an address could pass for someone else.
    if any(c in name for c in "@<>"):
        raise ServiceError(
            "Write your name without an e-mail address or the characters @, < and >.",
            fields={"name": "invalid"},
        )
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.name == name or (only_if_empty and contact.name):
        return contact
    before = contact.name
    contact.name = name
    contact.save(update_fields=["name"])
    record(
        actor=actor,
        action="contact.renamed",
        target=contact,
        before={"name": before},
        after={"name": name, "email": contact.email},
    )
    return contact


def contact_name_fill(*, actor: Actor, contact: Contact, name: str) -> Contact:
    """Give a contact who has no name yet the one a sign-in provider gave; a name they already have is never
    overwritten, and one the naming rules of `contact_name_set` refuse is left out (the sign-in goes on)."""
    if contact.name or not name.strip():
        return contact
    try:
        return contact_name_set(
            actor=actor, contact=contact, name=name[:CONTACT_NAME_MAX], only_if_empty=True
        )
    except ServiceError:
        return contact


API_KEY_PREFIX = "sdk_"


def hash_api_key(raw_key: str) -> str:
    """SHA-256 of a key: keys are long random strings, so a fast hash is safe and keeps auth cheap."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def split_api_key(raw_key: str) -> str | None:
    """The lookup prefix of a key shaped sdk_<prefix>_<secret>, or None if it is not shaped so."""
    if not raw_key.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = raw_key[len(API_KEY_PREFIX) :].partition("_")
    return prefix if sep and prefix and secret else None


def apikey_check(
    *,
    name: str,
    scopes: Iterable[str],
    allowed_cidrs: Iterable[str] = (),
    expires_at: datetime | None = None,
    agent: Agent | None = None,
) -> tuple[dict[str, str], list[str]]:
    """The problems with a new key's settings ({field: sentence}) and its normalised CIDR ranges.

    Used by apikey_create and by forms that want to show the problems next to their fields.
    """
    scopes = sorted(set(scopes))
    errors = {}
    if not name.strip():
        errors["name"] = "A key needs a name saying which tool uses it."
    unknown = [s for s in scopes if s not in ApiKey.SCOPES]
    if unknown:
        errors["scopes"] = f"Unknown scope(s) {', '.join(unknown)}; use: {', '.join(ApiKey.SCOPES)}."
    elif not scopes:
        errors["scopes"] = f"Give at least one scope: {', '.join(ApiKey.SCOPES)}."
    if agent is not None and "admin" in scopes and not agent.is_admin:
        errors["scopes"] = "Only an admin's personal token can have the admin scope."
    cidrs = []
    for cidr in allowed_cidrs:
        try:
            cidrs.append(str(ipaddress.ip_network(cidr.strip(), strict=False)))
        except ValueError:
            errors["allowed_cidrs"] = f"{cidr!r} is not an IP address or CIDR range such as 10.0.0.0/8."
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry date is in the past."
    return errors, cidrs


@transaction.atomic
def apikey_create(
    *,
    actor: Actor,
    name: str,
    scopes: Iterable[str],
    allowed_cidrs: Iterable[str] = (),
    expires_at: datetime | None = None,
    agent: Agent | None = None,
    department: Department | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns it with the plaintext, which is never stored and cannot be shown again."""
    name = name.strip()
    scopes = sorted(set(scopes))
    errors, cidrs = apikey_check(
        name=name, scopes=scopes, allowed_cidrs=allowed_cidrs, expires_at=expires_at, agent=agent
    )
    if errors:
        raise ServiceError(" ".join(errors.values()), fields=errors)
    prefix = secrets.token_hex(6)
    raw_key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        key_hash=hash_api_key(raw_key),
        scopes=scopes,
        allowed_cidrs=cidrs,
        expires_at=expires_at,
        agent=agent,
        department=department,
        created_by=actor.label,
    )
    record(
        actor=actor,
        action="apikey.created",
        target=key,
        after={
            "name": name,
            "prefix": prefix,
            "scopes": scopes,
            "allowed_cidrs": cidrs,
            "agent": agent and agent.pk,
            "department": department and department.slug,
            "expires_at": expires_at,
        },
    )
    return key, raw_key


@transaction.atomic
def apikey_revoke(*, actor: Actor, key: ApiKey) -> ApiKey:
    """Revoke a key at once; requests with it are refused from now on."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at:
        raise ServiceError(f"The key {key.prefix} was already revoked.")
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    record(actor=actor, action="apikey.revoked", target=key, after={"prefix": key.prefix})
    return key


@transaction.atomic
def apikey_rotate(*, actor: Actor, key: ApiKey, grace: timedelta | None = None) -> tuple[ApiKey, str]:
    """Replace a key by a new one with the same name, scopes, allow-list, owner and department; the old
    one keeps working for `grace` (SOCDESK_API_KEY_ROTATION_GRACE by default, never past its own
    expiry), so the tool can be switched over without a gap. Returns the new key and its plaintext."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if grace is None:
        grace = timedelta(seconds=settings.SOCDESK_API_KEY_ROTATION_GRACE)
    if grace < timedelta(0):
        raise ServiceError(
            "The grace period cannot be negative; give 0 to stop the old key at once.",
            fields={"grace": "negative"},
        )
    now = timezone.now()
    if key.revoked_at is not None:
        raise ServiceError(f"The key {key.prefix} is revoked; create a new key instead of rotating it.")
    if key.replaced_by_id is not None:
        raise ServiceError(
            f"The key {key.prefix} was already rotated; rotate its replacement instead.",
            fields={"prefix": "rotated"},
        )
    if key.expires_at is not None and key.expires_at <= now:
        raise ServiceError(f"The key {key.prefix} has expired; create a new key instead of rotating it.")
    new_key, raw_key = apikey_create(
        actor=actor,
        name=key.name,
        scopes=key.scopes,
        allowed_cidrs=key.allowed_cidrs,
        expires_at=key.expires_at,
        agent=key.agent,
        department=key.department,
    )
    old_expiry = key.expires_at
    grace_end = now + grace
    key.expires_at = grace_end if old_expiry is None else min(old_expiry, grace_end)
    key.replaced_by = new_key
    key.save(update_fields=["expires_at", "replaced_by"])
    record(
        actor=actor,
        action="apikey.rotated",
        target=key,
        before={"prefix": key.prefix, "expires_at": old_expiry},
        after={"prefix": key.prefix, "expires_at": key.expires_at, "replaced_by": new_key.prefix},
    )
    return new_key, raw_key
