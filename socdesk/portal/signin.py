"""Signing requesters in to the portal by a one-time link sent by e-mail.

`portal.tasks.link_request` is what the sign-in form calls: it counts the request against the limits and
queues the link's task after commit, and does exactly the same for an address nobody has, so neither the
page nor its timing tells who has tickets. The task runs `link_send`, which decides whether the address
may sign in (a contact already, or at a domain the portal serves), writes the link's hash and mails the
secret, which is never stored. `link_redeem` spends a link once (a conditional UPDATE, so two clicks
cannot both sign in).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from socdesk.accounts.models import Contact, Organisation
from socdesk.accounts.onboarding import outbound_mail_configured
from socdesk.accounts.services import contact_get_or_create
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.mailer import mail_deliver
from socdesk.core.text import clean_text
from socdesk.portal.models import SignInLink

logger = logging.getLogger(__name__)

INVALID_LINK = (
    "This sign-in link does not work any more: it was used already, it is older than "
    "{minutes} minutes, or it was not copied whole. Ask for a new one below."
)


def link_hash(secret: str) -> str:
    """What is stored of a link's secret (the secret is 256 random bits, so a fast hash is safe)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_address(email: str) -> str:
    """The address as typed, checked and lower-cased; ServiceError for something that is not one."""
    address = clean_text(email or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise ServiceError(
            "Enter your e-mail address, such as name@example.org.", fields={"email": "invalid"}
        ) from None
    return address


def may_sign_in(address: str) -> bool:
    """Whether the address may use the portal: someone SOCdesk knows (a contact: a requester or a person
    copied on a ticket), or an address at a domain the portal serves (SOCDESK_PORTAL_DOMAINS or an
    organisation's domain), for a first report."""
    if Contact.objects.filter(email=address).exists():
        return True
    domain = address.rpartition("@")[2]
    if domain in settings.SOCDESK_PORTAL_DOMAINS:
        return True
    return Organisation.objects.filter(domain__iexact=domain).exists()


def link_send(*, email: str, ip: str | None) -> SignInLink | None:
    """Write and mail a sign-in link to the address if it may sign in (None otherwise: nothing is sent,
    nothing told). Audited as `portal.link_sent`. The link row is written only if the mail server took
    the message (an OSError from it undoes the row, and the task retries)."""
    address = normalise_address(email)
    if not may_sign_in(address):
        logger.info("No portal sign-in link for %s: not a known requester or portal domain.", address)
        return None
    if not outbound_mail_configured():
        logger.warning("No portal sign-in link for %s: outgoing e-mail is not configured.", address)
        return None
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    minutes = settings.SOCDESK_PORTAL_LINK_MINUTES
    with transaction.atomic():
        link = SignInLink.objects.create(
            email=address,
            token_hash=link_hash(secret),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
            requested_ip=ip,
        )
        record(
            actor=Actor.anonymous(address, ip=ip),
            action="portal.link_sent",
            target=link,
            after={"email": address, "expires_at": link.expires_at.isoformat()},
        )
        url = settings.SOCDESK_BASE_URL.rstrip("/") + reverse("portal:link", kwargs={"secret": secret})
        mail_deliver(
            subject="Your sign-in link for the SOCdesk portal",
            body=(
                "Hello,\n\n"
                "Someone (we hope you) asked to sign in to the security team's portal with this address.\n"
                f"Open this link to sign in. It works once, within {minutes} minutes:\n\n{url}\n\n"
                "If you did not ask for it, ignore this message: nothing happens without the link.\n"
            ),
            to=[address],
            headers={"Auto-Submitted": "auto-generated"},
        )
    return link


@transaction.atomic
def link_redeem(*, secret: str, ip: str | None) -> Contact:
    """Spend a sign-in link and return the requester it signs in (their contact, created on the first
    sign-in); ServiceError, the same for a used, expired or unknown link. Audited as `portal.signed_in`."""
    now = timezone.now()
    found = SignInLink.objects.filter(
        token_hash=link_hash(clean_text(secret or "").strip()), used_at__isnull=True, expires_at__gt=now
    )
    link = found.first()
    # The conditional UPDATE is the spend: of two simultaneous clicks only one changes the row.
    if link is None or not found.filter(pk=link.pk).update(used_at=now):
        raise ServiceError(
            INVALID_LINK.format(minutes=settings.SOCDESK_PORTAL_LINK_MINUTES), fields={"link": "invalid"}
        )
    actor = Actor.anonymous(link.email, ip=ip)
    contact = contact_get_or_create(actor=actor, email=link.email)
    record(
        actor=requester_actor(contact, ip),
        action="portal.signed_in",
        target=contact,
        after={"link": link.pk, "method": "email_link"},
    )
    return contact


def requester_actor(contact: Contact, ip: str | None) -> Actor:
    """The requester as the services and the audit trail see them (the same shape as mail's sender)."""
    return Actor(kind="user", label=str(contact), ident=str(contact.pk), obj=contact, ip=ip)


def links_expired_delete(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete sign-in links that expired more than `older_than` ago (used or not): they can never sign
    anybody in, and the audit trail keeps that they were sent. Returns how many."""
    deleted, _ = SignInLink.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted
