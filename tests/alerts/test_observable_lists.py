"""Observables typed by hand: the list parser (pure, table-driven) and the audited add service."""

from __future__ import annotations

import pytest

from socdesk.alerts.models import Observable, TicketObservable
from socdesk.alerts.observables import classify, invalid_sentence, parse_list
from socdesk.alerts.ticket_observables import ticket_observables_add_list
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, ServiceError

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("text", "valid", "invalid"),
    [
        # the cases of the bug: a comma list was one "Other" value, a space-separated one a 400
        ("203.0.113.7, 198.51.100.2", [("ip", "203.0.113.7"), ("ip", "198.51.100.2")], []),
        ("203.0.113.7 evil.example", [("ip", "203.0.113.7"), ("domain", "evil.example")], []),
        (
            "203.0.113.7\nevil.example\r\n\nbad.example",
            [("ip", "203.0.113.7"), ("domain", "evil.example"), ("domain", "bad.example")],
            [],
        ),
        ("a.example;b.example", [("domain", "a.example"), ("domain", "b.example")], []),
        # defanged or not, the same values
        ("evil[.]example, 203.0.113[.]7", [("domain", "evil.example"), ("ip", "203.0.113.7")], []),
        ("hxxps://Bad[.]Example/p?q=1", [("url", "https://bad.example/p?q=1")], []),
        ("user[@]phish[.]example", [("email", "user@phish.example")], []),
        # every type the classifier knows
        (SHA256.upper(), [("sha256", SHA256)], []),
        ("d41d8cd98f00b204e9800998ecf8427e", [("md5", "d41d8cd98f00b204e9800998ecf8427e")], []),
        ("cve-2024-3094", [("cve", "CVE-2024-3094")], []),
        ("2001:DB8::1", [("ip", "2001:db8::1")], []),
        ("dc01.corp.local web01", [("hostname", "dc01.corp.local"), ("hostname", "web01")], []),
        # quotes and brackets around pasted values are not part of them; duplicates collapse
        (
            '"evil.example" <evil.example> (203.0.113.7)',
            [("domain", "evil.example"), ("ip", "203.0.113.7")],
            [],
        ),
        # what is not an observable is named, the rest still parsed
        ("203.0.113.7, not_valid!, 999.1.1.1", [("ip", "203.0.113.7")], ["not_valid!", "999.1.1.1"]),
        ("", [], []),
        (" ,, \n ", [], []),
    ],
)
def test_parse_list(text, valid, invalid):
    parsed = parse_list(text)
    assert (parsed.valid, parsed.invalid) == (valid, invalid)


@pytest.mark.parametrize(
    ("text", "kind", "valid", "invalid"),
    [
        ("203.0.113.7 evil.example", "ip", [("ip", "203.0.113.7")], ["evil.example"]),
        ("evil.example, web01", "domain", [("domain", "evil.example"), ("hostname", "web01")], []),
        ("alice bob", "user", [("user", "alice"), ("user", "bob")], []),
        ("999.1.1.1", "ip", [], ["999.1.1.1"]),
    ],
)
def test_parse_list_as_one_chosen_type(text, kind, valid, invalid):
    parsed = parse_list(text, kind)
    assert (parsed.valid, parsed.invalid) == (valid, invalid)


@pytest.mark.parametrize(
    ("value", "pair"),
    [
        ("evil.example", ("domain", "evil.example")),
        ("files.corp", ("hostname", "files.corp")),
        ("host-1", ("hostname", "host-1")),
        ("10.0.0.5", ("ip", "10.0.0.5")),
        ("hello world!", None),
    ],
)
def test_classify(value, pair):
    assert classify(value) == pair


def test_invalid_sentence_names_each_entry():
    assert invalid_sentence(["x!"]) == (
        "'x!' is not a valid observable (an IP address, domain, host name, URL, e-mail address, hash or CVE)."
    )
    assert (
        invalid_sentence(["a", "b"], "ip")
        == "These are not valid: 'a', 'b'; each should be a valid IP address."
    )


# --- the service (database) ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_valid_ones_are_added_in_one_audit_event_and_invalid_ones_named(people, soc_ticket):
    actor = Actor.for_agent(people.alice)
    result = ticket_observables_add_list(
        actor=actor, ticket=soc_ticket, values="203.0.113.7, evil[.]example nope!", ioc=True
    )
    assert [link.observable.value for link in result.added] == ["203.0.113.7", "evil.example"]
    assert result.invalid == ["nope!"]
    assert result.message.startswith("Added 203.0.113.7, evil.example. Not added: 'nope!' is not a valid")
    links = TicketObservable.objects.filter(ticket=soc_ticket)
    assert {(link.observable.type, link.origin, link.ioc) for link in links} == {
        ("ip", "agent", True),
        ("domain", "agent", True),
    }
    (event,) = AuditEvent.objects.filter(action="observable.added")
    assert event.actor_label == "alice" and event.after["observables"] == [
        "ip:203.0.113.7",
        "domain:evil.example",
    ]
    assert event.after["not_valid"] == ["nope!"]
    # Again with one new value: the one already there is reported, not an error.
    again = ticket_observables_add_list(actor=actor, ticket=soc_ticket, values="203.0.113.7 198.51.100.1")
    assert [link.observable.value for link in again.added] == ["198.51.100.1"]
    assert again.already == ["203.0.113.7"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("nope! never!", "These are not valid: 'nope!', 'never!'"),
        ("  ", "Type one or more values to add."),
    ],
)
def test_nothing_valid_is_refused_and_nothing_written(people, soc_ticket, values, message):
    def counts():
        return Observable.objects.count(), TicketObservable.objects.count(), AuditEvent.objects.count()

    before = counts()
    with pytest.raises(ServiceError) as refused:
        ticket_observables_add_list(actor=Actor.for_agent(people.alice), ticket=soc_ticket, values=values)
    assert message in refused.value.message
    assert (
        Observable.objects.count(),
        TicketObservable.objects.count(),
        AuditEvent.objects.count(),
    ) == before


@pytest.mark.django_db
def test_all_already_there_is_refused(people, soc_ticket):
    actor = Actor.for_agent(people.alice)
    ticket_observables_add_list(actor=actor, ticket=soc_ticket, values="203.0.113.7")
    with pytest.raises(ServiceError, match=r"203\.0\.113\.7 is already on this ticket\."):
        ticket_observables_add_list(actor=actor, ticket=soc_ticket, values="203[.]0.113.7")
    assert AuditEvent.objects.filter(action="observable.added").count() == 1


@pytest.mark.django_db
def test_another_departments_ticket_is_not_found(people, soc_ticket):
    with pytest.raises(NotFound):
        ticket_observables_add_list(actor=Actor.for_agent(people.carol), ticket=soc_ticket, values="1.2.3.4")
    assert not TicketObservable.objects.exists()
