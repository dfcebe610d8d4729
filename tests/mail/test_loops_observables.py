"""Table tests: loop detection (loops.py) and the observables a message carries (observables.py)."""

from __future__ import annotations

import hashlib

import pytest

from socdesk.mail.loops import automated_reason, is_own_address
from socdesk.mail.observables import message_observables
from socdesk.mail.parse import parse_message

from . import corpus


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"From": "ann@example.com"}, ""),
        ({"Auto-Submitted": "no"}, ""),
        ({"auto-submitted": "No"}, ""),
        (
            {"Auto-Submitted": "auto-replied"},
            "It says it was sent automatically (Auto-Submitted: auto-replied).",
        ),
        (
            {"Auto-Submitted": "auto-generated; owner-email=x@example.com"},
            "It says it was sent automatically (Auto-Submitted: auto-generated).",
        ),
        ({"Precedence": "bulk"}, "It is bulk or list mail (Precedence: bulk)."),
        ({"Precedence": "List"}, "It is bulk or list mail (Precedence: list)."),
        ({"PRECEDENCE": "junk"}, "It is bulk or list mail (Precedence: junk)."),
        ({"Precedence": "first-class"}, ""),
        ({"X-Autoreply": "yes"}, "It is an automatic reply (X-Autoreply is set)."),
        ({"X-Autorespond": "Out of office"}, "It is an automatic reply (X-Autorespond is set)."),
        ({"X-Autoreply": "no"}, ""),
        (
            {"From": "Mail Delivery System <MAILER-DAEMON@mx.example.com>"},
            "It comes from a mail server's mailer-daemon address (mailer-daemon@mx.example.com).",
        ),
        (
            {"From": "postmaster@example.com"},
            "It comes from a mail server's postmaster address (postmaster@example.com).",
        ),
        ({"From": "postmaster-fan@example.com"}, ""),
        (
            {"Content-Type": 'multipart/report; report-type="delivery-status"; boundary="x"'},
            "It is a delivery status notification (a bounce).",
        ),
        ({"Content-Type": "multipart/report; report-type=disposition-notification"}, ""),
        (
            [("From", "ann@example.com"), ("Precedence", "bulk")],
            "It is bulk or list mail (Precedence: bulk).",
        ),
        ({}, ""),
    ],
)
def test_automated_reason(headers, reason):
    assert automated_reason(headers) == reason


@pytest.mark.parametrize(
    ("address", "own", "expected"),
    [
        ("help@soc.example.com", ["help@soc.example.com"], True),
        ("Help@SOC.Example.com", ["help@soc.example.com"], True),
        ("help+SOC-123@soc.example.com", ["help@soc.example.com"], True),
        ("<help@soc.example.com>", ["HELP@soc.example.com"], True),
        ("help@soc.example.com", ["help+tag@soc.example.com"], True),
        ("helpdesk@soc.example.com", ["help@soc.example.com"], False),
        ("help@other.example.com", ["help@soc.example.com"], False),
        ("", ["help@soc.example.com"], False),
        ("help", ["help"], False),
        ("help@soc.example.com", [], False),
        ("help@soc.example.com", ["", "alerts@soc.example.com", "help@soc.example.com"], True),
    ],
)
def test_is_own_address(address, own, expected):
    assert is_own_address(address, own) is expected


def test_defanged_url_in_the_body_gives_the_refanged_url_and_its_domain():
    parsed = parse_message(corpus.plain("Please check hxxps://login-micros0ft[.]com/reset?id=7 today.\n"))
    found = message_observables(parsed)
    assert ("url", "https://login-micros0ft.com/reset?id=7") in found
    assert ("domain", "login-micros0ft.com") in found
    assert len(found) == len(set(found))


def test_ips_and_addresses_in_the_body():
    parsed = parse_message(corpus.plain("Seen from 203.0.113.7 and 2001:db8::1 by mallory@evil-corp.net\n"))
    found = message_observables(parsed)
    assert {("ip", "203.0.113.7"), ("ip", "2001:db8::1"), ("email", "mallory@evil-corp.net")} <= set(found)


def test_attachment_hashes_and_file_name():
    parsed = parse_message(corpus.rfc2231_attachment())
    found = message_observables(parsed)
    data = b"%PDF-1.4 invoice"
    assert ("sha256", hashlib.sha256(data).hexdigest()) in found
    assert ("sha1", hashlib.sha1(data).hexdigest()) in found
    assert ("md5", hashlib.md5(data).hexdigest()) in found
    assert ("filename", "Fäktura 2026 €.pdf") in found


def test_over_limit_attachment_still_gives_its_hashes():
    parsed = parse_message(corpus.big_attachment(3000), max_attachment_bytes=10)
    assert ("sha256", hashlib.sha256(b"A" * 3000).hexdigest()) in message_observables(parsed)


def test_inner_message_from_reply_to_return_path_received_ips_and_text():
    found = message_observables(parse_message(corpus.forwarded()))
    for pair in [
        ("email", "security@bank-secure.example.com"),
        ("email", "collect@drop.example.net"),
        ("email", "bounce@attacker.example"),
        ("ip", "198.51.100.23"),
        ("ip", "10.1.2.3"),
        ("ip", "2001:db8::25"),
        ("url", "https://bank-secure-login.com/verify"),
        ("domain", "bank-secure-login.com"),
    ]:
        assert pair in found, pair


def test_links_of_the_html_part_are_observables():
    found = message_observables(parse_message(corpus.alternative()))
    assert ("url", "https://portal.example.com/login") in found


def test_a_person_s_plain_note_has_only_its_own_observables():
    assert message_observables(parse_message(corpus.plain("Printer on floor 2 is jammed.\n"))) == []
