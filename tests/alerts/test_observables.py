"""Observable extraction, refanging, normalisation and IP scope marking (pure)."""

from __future__ import annotations

import pytest

from socdesk.alerts.choices import ObservableType
from socdesk.alerts.observables import extract, ip_scope, normalise, refang


@pytest.mark.parametrize(
    "defanged, plain",
    [
        ("hxxp://evil[.]com/x", "http://evil.com/x"),
        ("hxxps://a(.)b[.]org", "https://a.b.org"),
        ("bob[@]example[dot]com", "bob@example.com"),
        ("10[.]0[.]0[.]1", "10.0.0.1"),
        ("fxp://files{.}example(dot)org[/]x", "ftp://files.example.org/x"),
        ("  web01.example.com ", "web01.example.com"),  # nothing to undo
        ("a[:]b(at)c", "a:b@c"),
    ],
)
def test_refang(defanged, plain):
    assert refang(defanged) == plain


@pytest.mark.parametrize(
    "kind, value, expected",
    [
        ("ip", "2001:DB8:0:0::1", ("ip", "2001:db8::1")),
        ("ip", "::ffff:192.0.2.1", ("ip", "192.0.2.1")),
        ("ip", "fe80::1%eth0", ("ip", "fe80::1")),
        ("ip", "999.1.1.1", None),
        ("host", "10.0.0.5", ("ip", "10.0.0.5")),
        ("host", "WEB01", ("hostname", "web01")),
        ("host", "dc01.Corp.Local.", ("hostname", "dc01.corp.local")),
        ("domain", "Evil[.]Example.COM", ("domain", "evil.example.com")),
        ("url", "HXXP://Evil[.]com/Path?Q=1", ("url", "http://evil.com/Path?Q=1")),
        ("url", "javascript:alert(1)", None),
        ("email", "Bob@Example.COM", ("email", "bob@example.com")),
        ("hash", "D41D8CD98F00B204E9800998ECF8427E", ("md5", "d41d8cd98f00b204e9800998ecf8427e")),
        (
            "hash",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ),
        ("hash", "abc", None),
        ("sha256", "zz" * 32, None),
        ("cve", "cve-2021-44228", ("cve", "CVE-2021-44228")),
        ("cve", "CVE-21-1", None),
        ("user", "root", ("user", "root")),
        ("user", "ro\x00ot", ("user", "root")),
        ("nonsense", "x", None),
    ],
)
def test_normalise(kind, value, expected):
    assert normalise(kind, value) == expected
    assert normalise(kind, value) == expected  # the remembered answer is the same


@pytest.mark.parametrize(
    "kind, value, expected",
    [
        (None, "10.0.0.5", None),  # no type: nothing
        (ObservableType.IP, "10.0.0.5", ("ip", "10.0.0.5")),  # a choice is its text
        ("ip", 167772165, None),  # values are read as text: "167772165" is no dotted address
        ("other", 42, ("other", "42")),
        (" IP ", "10.0.0.5", ("ip", "10.0.0.5")),
    ],
)
def test_normalise_reads_any_type_and_value_as_text(kind, value, expected):
    assert normalise(kind, value) == expected


def test_normalise_of_a_kind_that_is_no_text_fails_as_before():
    with pytest.raises(AttributeError):
        normalise(["ip"], "10.0.0.5")  # type: ignore[arg-type]


def test_extract_from_text_refangs_and_types_everything():
    text = (
        "52 failed logins from 203.0.113.7 and 2001:DB8::0:1; payload from hxxp://evil[.]com/x.php, "
        "mail from Bob@Example.com, lateral movement to dc01.corp.local, exploit CVE-2021-44228, "
        "dropper d41d8cd98f00b204e9800998ecf8427e / da39a3ee5e6b4b0d3255bfef95601890afd80709 / "
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    found = set(extract([], text))
    assert {
        ("ip", "203.0.113.7"),
        ("ip", "2001:db8::1"),
        ("url", "http://evil.com/x.php"),
        ("domain", "evil.com"),
        ("email", "bob@example.com"),
        ("hostname", "dc01.corp.local"),
        ("cve", "CVE-2021-44228"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    } <= found


def test_extract_keeps_adapter_fields_first_and_deduplicates():
    pairs = extract([("host", "web01"), ("ip", "203.0.113.7"), ("host", "203.0.113.7")], "from 203.0.113.7")
    assert pairs == [("hostname", "web01"), ("ip", "203.0.113.7")]


@pytest.mark.parametrize(
    "ip, scope",
    [
        ("10.0.0.5", "private"),
        ("192.168.2.14", "private"),
        ("fd00::1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.1.1", "link-local"),
        ("203.0.113.7", "documentation"),
        ("2001:db8::1", "documentation"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("240.0.0.1", "reserved"),
        ("8.8.8.8", ""),
        ("2606:4700::1111", ""),
        ("not-an-ip", ""),
    ],
)
def test_ip_scope(ip, scope):
    assert ip_scope(ip) == scope


@pytest.mark.django_db
def test_observables_are_upserted_in_one_statement_and_last_seen_refreshed(django_assert_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    from socdesk.alerts.models import Observable
    from socdesk.alerts.ticket_observables import _observables_for

    earlier = timezone.now() - timedelta(hours=1)
    first = _observables_for([("ip", "203.0.113.7"), ("domain", "evil.example")], earlier)
    now = timezone.now()
    with django_assert_num_queries(1):
        again = _observables_for([("ip", "203.0.113.7"), ("md5", "d41d8cd98f00b204e9800998ecf8427e")], now)
    assert again[("ip", "203.0.113.7")].pk == first[("ip", "203.0.113.7")].pk
    stored = Observable.objects.get(value="203.0.113.7")
    assert stored.last_seen == now and stored.first_seen == earlier
    assert Observable.objects.count() == 3
