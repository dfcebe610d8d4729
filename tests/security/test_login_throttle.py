"""Sign-in throttling under attack: parallel guesses against a live server, and who can be locked out.

The cache is the database cache by default (SQLite or PostgreSQL, whichever the suite runs on) and
Redis when REDIS_URL is set; the parallel test runs on both caches.
"""

from __future__ import annotations

import re
import threading

import httpx
import pytest

from socdesk.accounts import throttle
from socdesk.accounts.testing import PERSONA_PASSWORD, make_personas
from socdesk.audit.models import AuditEvent
from socdesk.core.counters import counter_add


def _login_form(base: str) -> tuple[dict[str, str], str]:
    """The CSRF cookie and form token that every parallel POST reuses."""
    with httpx.Client(base_url=base) as client:
        page = client.get("/login")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text
        return {"csrftoken": client.cookies["csrftoken"]}, token.group(1)


def _post_in_parallel(base: str, passwords: list[str], forwarded_for: str) -> list[int]:
    """POST /login for alice once per password, all released at the same instant; the statuses."""
    cookies, token = _login_form(base)
    barrier = threading.Barrier(len(passwords))
    statuses: list[int] = []

    def attempt(password: str) -> None:
        with httpx.Client(base_url=base, cookies=cookies, timeout=120) as client:
            barrier.wait(timeout=30)
            for _try in range(5):
                try:
                    response = client.post(
                        "/login",
                        data={"username": "alice", "password": password, "csrfmiddlewaretoken": token},
                        headers={"Referer": base + "/login", "X-Forwarded-For": forwarded_for},
                    )
                except httpx.TransportError:
                    # The test server's listen backlog is small: a connection reset before the request
                    # was read is sent again (the audit counts below prove none was handled twice).
                    continue
                statuses.append(response.status_code)
                return

    threads = [threading.Thread(target=attempt, args=(p,)) for p in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_forty_parallel_wrong_passwords_check_only_the_limit(live_server, settings, shared_cache):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    make_personas()
    statuses = _post_in_parallel(live_server.url, ["wrong-guess"] * 40, "198.51.100.7")
    # Exactly the limit reached the password check; every other attempt was refused before hashing.
    assert sorted(statuses) == [400] * 5 + [429] * 35
    reasons = [e.after["reason"] for e in AuditEvent.objects.filter(action="auth.login_failed")]
    assert reasons.count("bad_credentials") == 5 and reasons.count("throttled") == 35 and len(reasons) == 40
    # The right password from that address is refused now too...
    statuses = _post_in_parallel(live_server.url, [PERSONA_PASSWORD], "198.51.100.7")
    assert statuses == [429]
    # ...but alice is not locked out from everywhere: her own address still signs her in.
    statuses = _post_in_parallel(live_server.url, [PERSONA_PASSWORD], "203.0.113.20")
    assert statuses == [302]
    assert AuditEvent.objects.filter(action="auth.login").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_correct_password_among_parallel_guesses_is_checked_only_within_the_limit(
    live_server, settings, shared_cache
):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    make_personas()
    statuses = _post_in_parallel(live_server.url, ["wrong-guess"] * 29 + [PERSONA_PASSWORD], "198.51.100.9")
    assert len(statuses) == 30
    failures = AuditEvent.objects.filter(action="auth.login_failed").count()
    assert failures + statuses.count(302) == 30  # every attempt handled once, none lost
    signed_in = AuditEvent.objects.filter(action="auth.login").count()
    assert signed_in == statuses.count(302) <= 1
    checked = statuses.count(400)
    if signed_in:
        # The correct password was among the first 3 reserved; a success clears the (alice, address)
        # count as the owner signing in should, so at most another 3 guesses were checked after it.
        assert checked <= 2 + 3
    else:
        assert checked == 3


@pytest.mark.django_db
def test_the_admin_site_checks_no_password_of_its_own(client, people):
    """Django's admin login would check passwords outside the throttle: it sends people to the console's."""
    page = client.get("/admin/login/?next=/admin/accounts/apikey/")
    assert page.status_code == 302
    assert page["Location"] == "/login?next=%2Fadmin%2Faccounts%2Fapikey%2F"
    posted = client.post("/admin/login/", {"username": "admin", "password": PERSONA_PASSWORD})
    assert posted.status_code == 302 and posted["Location"].startswith("/login?")
    assert "_auth_user_id" not in client.session  # nothing was checked, nobody signed in
    assert client.get("/admin/").status_code == 302
    signed_in = client.post("/login", {"username": "admin", "password": PERSONA_PASSWORD, "next": "/admin/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_attempts_refused_in_the_instant_of_a_sign_in_give_nothing_to_the_fresh_count(settings, shared_cache):
    """A sign-in starts a fresh (username, address) count while refused attempts may still be giving
    their reservations back: those must not lower the fresh count and buy a guess an extra check."""
    settings.LOGIN_FAILURE_LIMIT = 3
    address = "198.51.100.50"
    for _wrong in range(2):
        attempt = throttle.login_attempt("alice", address)
        assert attempt.lockout is None
        attempt.failed()
    right = throttle.login_attempt("alice", address)
    assert right.lockout is None
    # A fourth attempt arrives in the same instant: counted, over the limit, not yet given back.
    late = throttle.Reservation(
        keys=[key for key, _limit in throttle._counters("alice", address)],
        generation_key=throttle._generation_key(throttle._hashed("alice"), address),
    )
    for key in late.keys:
        counter_add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)
    right.succeeded()
    for _guess in range(3):  # the fresh count allows the limit again...
        attempt = throttle.login_attempt("alice", address)
        assert attempt.lockout is None
        attempt.failed()
    late.withdrawn()  # ...and the refused attempt's give-back, arriving only now, changes nothing
    assert throttle.login_attempt("alice", address).lockout is not None
