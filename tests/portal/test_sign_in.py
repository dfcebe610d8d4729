"""Signing in to the portal by an e-mailed one-time link: delivered through a real SMTP server, stored
hashed, single use, expiring, rate-limited, and the same answer for addresses nobody has."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default

import pytest
from django.contrib.sessions.models import Session

from socdesk.audit.models import AuditEvent
from socdesk.portal.models import SignInLink
from socdesk.portal.session import COOKIE
from tests.portal.conftest import make_link, sign_in

LINK = re.compile(r"http://[^\s]+/portal/sign-in/([A-Za-z0-9_-]+)")


def ask(client, email, **extra):
    return client.post("/portal/sign-in", {"email": email, "website": ""}, **extra)


@pytest.fixture
def mailer(smtp, huey_immediate, django_capture_on_commit_callbacks):
    """Ask for links with the link task run in-process after commit, mail going to the SMTP server."""

    def post(client, email, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return ask(client, email, **extra)

    return post


def mailed_secret(smtp, address):
    [(_recipients, raw)] = [m for m in smtp.messages if address in m[0]]
    body = message_from_bytes(raw, policy=default).get_body(("plain",)).get_content()
    return LINK.search(body)[1]


def test_a_requester_gets_a_link_by_smtp_that_signs_them_in_once(client, dana_ticket, smtp, mailer):
    response = mailer(client, "Dana@Example.test")
    assert response.status_code == 200
    assert b"Check your e-mail" in response.content and b"dana@example.test" in response.content
    secret = mailed_secret(smtp, "dana@example.test")
    # Only the hash is stored; the secret exists in the mail alone.
    link = SignInLink.objects.get()
    assert link.email == "dana@example.test" and secret not in link.token_hash and len(link.token_hash) == 64
    assert (link.expires_at - link.created_at).total_seconds() == 15 * 60
    assert AuditEvent.objects.filter(action="portal.link_sent", target_id=str(link.pk)).count() == 1

    # Opening the link only shows a button (a mail scanner's GET spends nothing).
    page = client.get(f"/portal/sign-in/{secret}")
    assert page.status_code == 200 and SignInLink.objects.get().used_at is None
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "same-origin"
    signed = client.post(f"/portal/sign-in/{secret}")
    assert signed.status_code == 302 and signed["Location"] == "/portal/"
    cookie = signed.cookies[COOKIE]
    assert cookie["httponly"] and cookie["path"] == "/portal/"
    home = client.get("/portal/")
    assert home.status_code == 200 and dana_ticket.number.encode() in home.content
    assert AuditEvent.objects.filter(
        action="portal.signed_in", target_id=str(dana_ticket.requester_id)
    ).exists()

    # Single use: a second press, even in another browser, is refused.
    again = client.__class__().post(f"/portal/sign-in/{secret}")
    assert again.status_code == 400 and b"does not work any more" in again.content
    assert COOKIE not in again.cookies


def test_an_unknown_address_gets_the_same_page_and_no_mail(client, dana_ticket, smtp, mailer):
    known = mailer(client, "dana@example.test")
    unknown = mailer(client, "nobody@elsewhere.test")
    assert unknown.status_code == known.status_code == 200
    strip = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"|dana@example\.test|nobody@elsewhere\.test')
    assert strip.sub(b"", unknown.content) == strip.sub(b"", known.content)
    assert [m[0] for m in smtp.messages] == [["dana@example.test"]]
    assert SignInLink.objects.filter(email="nobody@elsewhere.test").count() == 0


def test_an_address_at_a_portal_domain_may_sign_in_for_a_first_report(client, people, smtp, mailer, settings):
    settings.SOCDESK_PORTAL_DOMAINS = ["northwind.example"]
    mailer(client, "new.hire@northwind.example")
    secret = mailed_secret(smtp, "new.hire@northwind.example")
    assert client.post(f"/portal/sign-in/{secret}").status_code == 302
    assert client.get("/portal/").status_code == 200
    assert AuditEvent.objects.filter(
        action="contact.created", target_label="new.hire@northwind.example"
    ).exists()


def test_expired_and_wrong_links_are_refused_alike(client, dana_ticket):
    expired = make_link("dana@example.test", minutes=-1)
    used = make_link("dana@example.test", used=True)
    pages = [client.post(f"/portal/sign-in/{s}") for s in (expired, used, "not-a-real-secret")]
    assert [p.status_code for p in pages] == [400, 400, 400]
    assert len({p.content for p in pages}) == 1  # the same sentence, whatever was wrong
    assert all(COOKIE not in p.cookies for p in pages)
    assert client.get("/portal/").status_code == 302
    assert not AuditEvent.objects.filter(action="portal.signed_in").exists()


def test_links_are_rate_limited_per_address_and_per_ip(client, dana_ticket, smtp, mailer, settings):
    settings.SOCDESK_PORTAL_LINKS_PER_ADDRESS = 2
    settings.SOCDESK_PORTAL_LINKS_PER_IP = 4
    assert [mailer(client, "dana@example.test").status_code for _ in range(3)] == [200, 200, 429]
    refused = mailer(client, "dana@example.test")
    assert b"Too many requests" in refused.content
    assert len(smtp.messages) == 2 and SignInLink.objects.count() == 2
    # The address limit holds from another address too; the IP limit stops one address trying many.
    other_ip = mailer(client, "dana@example.test", REMOTE_ADDR="192.0.2.50")
    assert other_ip.status_code == 429
    assert mailer(client, "someone@else.test").status_code == 429  # 5th request from 127.0.0.1
    assert mailer(client, "someone@else.test", REMOTE_ADDR="192.0.2.50").status_code == 200


def test_a_bad_address_is_a_clear_error_and_nothing_is_sent(client, smtp, mailer, db):
    response = mailer(client, "not an address")
    assert response.status_code == 400 and b"Enter a valid email address" in response.content
    assert smtp.messages == [] and SignInLink.objects.count() == 0


def test_the_honeypot_on_sign_in_sends_nothing_and_is_counted(
    client, dana_ticket, smtp, django_capture_on_commit_callbacks, huey_immediate
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/sign-in", {"email": "dana@example.test", "website": "http://spam"})
    assert response.status_code == 200 and b"Check your e-mail" in response.content
    assert smtp.messages == [] and SignInLink.objects.count() == 0
    assert AuditEvent.objects.filter(action="portal.honeypot_tripped").count() == 1


def test_agent_sessions_and_api_keys_never_reach_the_portal(client, dana_ticket, people):
    url = f"/portal/tickets/{dana_ticket.number}"
    for agent in (people.alice, people.carol, people.admin):
        client.force_login(agent.user)
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/portal/sign-in")
        client.logout()
    from socdesk.accounts.services import apikey_create
    from socdesk.core.actor import Actor

    _key, raw = apikey_create(actor=Actor.system("test"), name="tool", scopes=["tickets:read"])
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_X_API_KEY=raw)
    assert response.status_code == 302


def test_a_portal_session_never_reaches_the_console(client, dana_ticket):
    sign_in(client, "dana@example.test")
    console = client.get("/")
    assert console.status_code == 302 and console["Location"].startswith("/login")
    page = client.get(f"/tickets/{dana_ticket.number}/")
    assert page.status_code == 302 and page["Location"].startswith("/login")
    assert client.get(f"/api/v1/tickets/{dana_ticket.number}").status_code == 401


def test_signing_out_ends_the_portal_session(client, dana_ticket):
    sign_in(client, "dana@example.test")
    sessions = Session.objects.count()
    response = client.post("/portal/sign-out")
    assert response.status_code == 302 and client.cookies[COOKIE].value == ""
    assert Session.objects.count() == sessions - 1
    assert client.get("/portal/").status_code == 302


def test_the_link_only_sends_on_to_portal_pages(client, dana_ticket):
    secret = make_link("dana@example.test")
    response = client.post(f"/portal/sign-in/{secret}?next=https://evil.example/")
    assert response["Location"] == "/portal/"
    secret = make_link("dana@example.test")
    response = client.post(f"/portal/sign-in/{secret}?next=/portal/tickets/{dana_ticket.number}")
    assert response["Location"] == f"/portal/tickets/{dana_ticket.number}"


def test_links_expired_over_a_day_ago_are_swept(db):
    from socdesk.portal.signin import link_hash
    from socdesk.portal.tasks import portal_links_sweep

    old = make_link("a@example.test", minutes=-(24 * 60 + 1))
    recent = make_link("b@example.test", minutes=-5)
    fresh = make_link("c@example.test")
    assert portal_links_sweep.call_local() == 1
    left = set(SignInLink.objects.values_list("token_hash", flat=True))
    # Only a day past expiry: a link that just expired is kept a while (its row explains a late click).
    assert left == {link_hash(recent), link_hash(fresh)} and link_hash(old) not in left
