"""Background work of the portal: mailing a sign-in link, away from the request that asked for it."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from socdesk.portal.signin import link_send, links_expired_delete, normalise_address
from socdesk.portal.throttle import limit_count


@db_task(retries=3, retry_delay=60)
def portal_link_send(email: str, ip: str | None) -> int | None:
    """Write and mail a sign-in link if the address may sign in (the mail server's refusal is retried;
    the link row is only kept with a sent message)."""
    link = link_send(email=email, ip=ip)
    return link.pk if link is not None else None


def link_request(*, email: str, ip: str | None) -> str:
    """Ask for a sign-in link (what the sign-in form calls): the address checked and counted per address
    and per IP (RateLimited past the limits), the link's task queued after commit. The same for every
    address, known or not; returns the normalised address."""
    address = normalise_address(email)
    limit_count(
        "link",
        address=address,
        ip=ip,
        per_address=settings.SOCDESK_PORTAL_LINKS_PER_ADDRESS,
        per_ip=settings.SOCDESK_PORTAL_LINKS_PER_IP,
    )
    transaction.on_commit(lambda: portal_link_send(address, ip), robust=True)
    return address


@db_periodic_task(crontab(minute="17"))
def portal_links_sweep() -> int:
    """Hourly: forget sign-in links that expired over a day ago."""
    return links_expired_delete()
