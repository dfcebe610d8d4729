"""Search over tickets: what it finds, field syntax, isolation, snippets, index upkeep, rebuild.

Runs on SQLite (FTS5) and PostgreSQL (tsvector + GIN, pg_trgm) alike.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Integration
from socdesk.alerts.ticket_observables import ticket_observable_add
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from socdesk.tickets import services
from socdesk.tickets.filters import TicketFilter, queue_tickets
from socdesk.tickets.models import Ticket, TicketSearch
from socdesk.tickets.rows import ticket_rows
from socdesk.tickets.search import parse_query, search_snippets
from tests.console_helpers import client_for
from tests.routing.fixtures_forms import SETUP, incident_topic, topic_ticket

pytestmark = pytest.mark.django_db


def found(agent, q: str) -> list[str]:
    """Numbers of the tickets the console's search finds for `q` (all queues)."""
    params = QueryDict(mutable=True)
    params.update({"queue": "all", "q": q})
    ticket_filter = TicketFilter.from_querydict(params)
    assert not ticket_filter.errors, ticket_filter.errors
    return sorted(t.number for t in queue_tickets(agent, ticket_filter))


def new_ticket(people, subject="Routine check", **kw):
    kw.setdefault("department", people.soc)
    return services.ticket_create(actor=people.actor(people.alice), subject=subject, **kw)


def ingest(people, alerts: list[dict]):
    integration, _ = Integration.objects.get_or_create(
        adapter="generic", name="generic-search", defaults={"department": people.soc}
    )
    delivery = delivery_receive(
        adapter="generic", body=json.dumps(alerts).encode(), integration=integration, client_ip="192.0.2.1"
    )
    delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "processed", delivery.error
    return list(Ticket.objects.filter(alerts__delivery=delivery).distinct())


# --- what it finds ---------------------------------------------------------------------------------------


def test_an_observable_value_finds_every_ticket_carrying_it_not_only_the_subject(people):
    in_subject = new_ticket(people, subject="Scan from 203.0.113.7")
    carrying = ingest(
        people,
        [
            {"title": f"Brute force {n}", "fingerprint": f"bf-{n}", "observables": [["ip", "203.0.113.7"]]}
            for n in range(3)
        ],
    )
    other = new_ticket(people, subject="Scan from 203.0.113.8")
    numbers = found(people.alice, "203.0.113.7")
    assert numbers == sorted([in_subject.number, *(t.number for t in carrying)])
    assert other.number not in numbers


def test_a_private_address_in_an_observable_is_found(people):
    [ticket] = ingest(people, [{"title": "Beacon", "observables": {"ip": "10.0.0.5"}}])
    assert found(people.alice, "10.0.0.5") == [ticket.number]


def test_number_with_and_without_prefix(people, soc_ticket):
    digits = soc_ticket.number.rsplit("-", 1)[1]
    new_ticket(people, subject="Another")
    assert found(people.alice, soc_ticket.number) == [soc_ticket.number]
    assert found(people.alice, soc_ticket.number.lower()) == [soc_ticket.number]
    assert found(people.alice, digits) == [soc_ticket.number]


def test_thread_text_requester_and_tags(people, soc_ticket):
    services.ticket_note(actor=people.actor(people.alice), ticket=soc_ticket, body="Quarantined by zebracorn")
    assert found(people.alice, "zebracorn") == [soc_ticket.number]
    assert found(people.alice, "winword") == [soc_ticket.number]  # the first message
    assert found(people.alice, "dana@example.test") == [soc_ticket.number]
    assert found(people.alice, "Reyes") == [soc_ticket.number]
    assert found(people.alice, "edr") == [soc_ticket.number]


def test_a_defanged_url_finds_the_refanged_observable(people):
    [ticket] = ingest(people, [{"title": "Phish", "observables": [["url", "http://evil.example/login"]]}])
    new_ticket(people, subject="Benign")
    assert found(people.alice, "hxxp://evil[.]example/login") == [ticket.number]
    assert found(people.alice, "evil[.]example") == [ticket.number]


def test_alert_title_and_description_with_labels(people):
    [ticket] = ingest(
        people, [{"title": "KubePodCrashLooping", "description": "Labels: namespace=payments-prod"}]
    )
    assert found(people.alice, "KubePodCrashLooping") == [ticket.number]
    assert found(people.alice, "payments") == [ticket.number]


def test_negation_and_phrase(people):
    a = new_ticket(people, subject="Lateral movement from host A")
    b = new_ticket(people, subject="Movement lateral, host B")
    assert found(people.alice, '"lateral movement"') == [a.number]
    assert found(people.alice, "lateral movement") == sorted([a.number, b.number])
    assert found(people.alice, "lateral -B") == [a.number]
    assert found(people.alice, 'movement -"host a"') == [b.number]


def test_words_must_all_match(people):
    a = new_ticket(people, subject="Phishing mail to finance")
    new_ticket(people, subject="Phishing mail to sales")
    assert found(people.alice, "phishing finance") == [a.number]


def test_topic_field_finds_tickets_on_a_help_topic_by_name(people):
    setup = incident_topic(people)
    lateral = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Lateral movement"))
    phish = topic_ticket(people, setup.topic, subject="Phish", host_ip="10.0.0.1")
    moved = topic_ticket(people, lateral, subject="Moved")
    plain = new_ticket(people, subject="Plain")
    assert found(people.alice, "topic:phishing") == [phish.number]
    assert found(people.alice, 'topic:"Lateral movement"') == [moved.number]
    assert found(people.alice, "-topic:Phishing") == sorted([moved.number, plain.number])
    assert found(people.alice, "topic:none") == [plain.number]
    assert found(people.alice, "-topic:none") == sorted([phish.number, moved.number])
    assert found(people.alice, "topic:phishing phish") == [phish.number]  # with words, too
    # An unknown topic is named in the filter's errors (and its term left out), never a 500.
    params = QueryDict("queue=all&q=topic:Nope")
    ticket_filter = TicketFilter.from_querydict(params)
    assert ticket_filter.errors["q"] == (
        "There is no help topic named 'Nope': use a topic's name as the Help topic list shows it, in "
        'quotes when it has spaces (topic:"Lateral movement"), or topic:none.'
    )
    r = client_for(people.alice).get("/tickets/", {"queue": "all", "q": "topic:Nope"})
    assert "There is no help topic named" in r.content.decode()
    help_popover = client_for(people.alice).get("/tickets/").content.decode()
    assert "<code>topic:</code>" in help_popover


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status:in_progress", ["worked"]),
        ("status:new", ["plain"]),
        ("-status:new", ["worked"]),
        ("severity:critical", ["worked"]),
        ("source:web", ["plain", "worked"]),
        ("assignee:bob", ["worked"]),
        ("assignee:none", ["plain"]),
        ("tag:vpn", ["worked"]),
        ("-tag:vpn", ["plain"]),
        ("ip:198.51.100.23", ["worked"]),
        ("hash:D41D8CD98F00B204E9800998ECF8427E", ["worked"]),
        ("domain:evil[.]example", ["worked"]),
        ("host:ws-042.corp.local", ["worked"]),
        ("user:jdoe", ["worked"]),
    ],
)
def test_each_field(people, query, expected):
    actor = people.actor(people.alice)
    plain = new_ticket(people, subject="Plain ticket")
    worked = new_ticket(people, subject="Worked ticket", severity="critical", tags=["vpn"])
    services.ticket_assign(actor=actor, ticket=worked, agent=people.bob)
    services.ticket_note(actor=actor, ticket=worked, body="looking")
    for kind, value in [
        ("ip", "198.51.100.23"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("domain", "evil.example"),
        ("hostname", "ws-042.corp.local"),
        ("user", "jdoe"),
    ]:
        ticket_observable_add(actor=actor, ticket=worked, type=kind, value=value)
    names = {plain.number: "plain", worked.number: "worked"}
    assert sorted(names[n] for n in found(people.alice, query)) == expected


def test_assignee_me(people):
    mine = new_ticket(people, subject="Mine", assignee=people.alice)
    new_ticket(people, subject="Not mine")
    assert found(people.alice, "assignee:me") == [mine.number]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("colour:red", "Unknown search field 'colour:'"),
        ("status:sleeping", "Unknown status 'sleeping' in the search: use one of new,"),
        ("ip:not-an-ip", "'not-an-ip' is not a valid ip value"),
        ("hash:abc", "'abc' is not a valid hash value"),
    ],
)
def test_a_bad_field_is_explained_in_the_console_and_the_api(people, query, message):
    from tests.api.conftest import ApiClient, make_key

    html = client_for(people.alice).get("/tickets/", {"queue": "all", "q": query}).content.decode()
    assert message in html.replace("&#x27;", "'")
    api = ApiClient(make_key(["tickets:read"], agent=people.alice))
    response = api.get(f"/api/v1/tickets?q={query}")
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


# --- isolation -------------------------------------------------------------------------------------------


def test_another_departments_ticket_is_never_found(people):
    it_ticket = services.ticket_create(
        actor=people.actor(people.carol), subject="Printer 203.0.113.99 on fire", department=people.it
    )
    assert found(people.carol, "203.0.113.99") == [it_ticket.number]  # carol works in IT
    assert found(people.alice, "203.0.113.99") == []
    assert found(people.alice, "printer") == []
    assert found(people.alice, "printer OR fire") == []
    assert found(people.alice, it_ticket.number) == []
    client = client_for(people.alice)
    html = client.get("/tickets/", {"q": "printer", "queue": "all"}).content.decode()
    assert it_ticket.number not in html and "on fire" not in html


# --- snippets --------------------------------------------------------------------------------------------


def test_snippet_highlights_the_match_and_escapes_everything_else(people, soc_ticket):
    services.ticket_note(
        actor=people.actor(people.alice),
        ticket=soc_ticket,
        body="<script>alert(1)</script> the payload dropped kraken.exe <b>here</b>",
    )
    snippets = search_snippets(parse_query("kraken"), [soc_ticket.pk])
    html = str(snippets[soc_ticket.pk])
    assert "<mark>kraken</mark>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>" not in html
    page = client_for(people.alice).get("/tickets/", {"q": "kraken", "queue": "all"}).content.decode()
    assert "<mark>kraken</mark>" in page
    assert "<script>alert(1)</script>" not in page


def test_snippet_of_an_identifier_only_match(people):
    [ticket] = ingest(people, [{"title": "Hash seen", "observables": [["sha256", "ab" * 32]]}])
    snippets = search_snippets(parse_query("abababab"), [ticket.pk])
    assert "<mark>abababab</mark>" in str(snippets[ticket.pk])


def test_snippet_marks_a_whole_address_not_the_piece_a_cut_extract_ends_on(people):
    # Fourteen words in, FTS5's extract ended inside the address and marked only "203.0".
    ticket = new_ticket(
        people, subject="Outbound beacon from ws-0142.corp.example.test to 203.0.113.7 over HTTPS every 60 s"
    )
    html = str(search_snippets(parse_query("203.0.113[.]7"), [ticket.pk])[ticket.pk])
    assert "<mark>203.0.113.7</mark>" in html
    assert "<mark>203.0</mark>" not in html


def test_ranked_best_match_first(people):
    body_only = new_ticket(people, subject="Weekly report", body="mentions ransomware once")
    in_subject = new_ticket(people, subject="Ransomware on the file server")
    services.ticket_note(actor=people.actor(people.alice), ticket=body_only, body="newest activity")
    params = QueryDict("queue=all&q=ransomware")
    ticket_filter = TicketFilter.from_querydict(params)
    assert ticket_filter.sort == "relevance"
    numbers = [t.number for t in queue_tickets(people.alice, ticket_filter)]
    assert numbers == [in_subject.number, body_only.number]


# --- one search for the console, the queue filter and the API ----------------------------------------------


def test_console_search_box_queue_text_filter_and_api_agree(people, soc_ticket):
    from tests.api.conftest import ApiClient, make_key

    [alerted] = ingest(people, [{"title": "C2 beacon", "observables": [["ip", "203.0.113.7"]]}])
    new_ticket(people, subject="Unrelated")
    client = client_for(people.alice)
    api = ApiClient(make_key(["tickets:read"], agent=people.alice))
    for q in ["203.0.113.7", "powershell", soc_ticket.number, "ip:203.0.113.7", "-powershell"]:
        expected = found(people.alice, q)
        console = client.get("/tickets/", {"q": q}).content.decode()  # the global search box: open queue
        assert all(n in console for n in expected)
        api_numbers = sorted(t["number"] for t in api.get(f"/api/v1/tickets?q={q}").json()["items"])
        assert api_numbers == expected, q
    assert found(people.alice, "203.0.113.7") == [alerted.number]


def test_the_api_pages_through_every_match_by_activity_and_refuses_a_relevance_sort(people, monkeypatch):
    from socdesk.tickets.search import engine
    from tests.api.conftest import ApiClient, make_key

    monkeypatch.setattr(engine, "RANK_WINDOW", 1)  # the console ranks the newest 2; the API lists all
    tickets = [new_ticket(people, subject=f"Credential stuffing wave {n}") for n in range(3)]
    api = ApiClient(make_key(["tickets:read"], agent=people.alice))
    items = api.get("/api/v1/tickets?q=stuffing").json()["items"]
    assert [t["number"] for t in items] == [t.number for t in reversed(tickets)]
    response = api.get("/api/v1/tickets?q=stuffing&sort=relevance")
    assert response.status_code == 400
    assert "Unknown sort 'relevance'" in response.json()["error"]["message"]
    html = client_for(people.alice).get("/tickets/", {"q": "stuffing"}).content.decode()
    assert "data-ranked-subset" in html and " of 1+" in html


def test_queue_search_query_count_does_not_grow(people, django_assert_max_num_queries):
    client = client_for(people.alice)
    for n in range(3):
        new_ticket(people, subject=f"Malware sample {n}", body=f"sample body {n}")
    client.get("/tickets/", {"q": "malware"})
    with django_assert_max_num_queries(30) as few:
        client.get("/tickets/", {"q": "malware"})
    for n in range(10):
        new_ticket(people, subject=f"Malware sample x{n}", body=f"sample body {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/tickets/", {"q": "malware"})


# --- keeping the index current -----------------------------------------------------------------------------


def test_a_reply_is_searchable_in_the_same_transaction_and_gone_with_its_rollback(people, soc_ticket):
    actor = people.actor(people.alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_reply(actor=actor, ticket=soc_ticket, body="the word is quokkafish")
        assert found(people.alice, "quokkafish") == [soc_ticket.number]  # before commit
        raise RuntimeError("the caller's transaction fails afterwards")
    assert found(people.alice, "quokkafish") == []
    assert "quokkafish" not in TicketSearch.objects.get(ticket=soc_ticket).body


def test_an_ingest_batch_updates_the_index_in_its_transaction(people):
    [first] = ingest(
        people, [{"title": "Group", "fingerprint": "g-1", "observables": [["ip", "192.0.2.77"]]}]
    )
    assert found(people.alice, "192.0.2.77") == [first.number]
    tickets = ingest(
        people,
        [
            {
                "title": f"Batch alert {n}",
                "fingerprint": f"b-{n}",
                "observables": [["domain", f"host{n}.example"]],
            }
            for n in range(5)
        ],
    )
    assert len(tickets) == 5
    for n in range(5):
        assert len(found(people.alice, f"host{n}.example")) == 1


def test_a_failed_ingest_batch_leaves_no_search_document(people, monkeypatch):
    from socdesk.alerts.ingest import write

    def boom(*args, **kwargs):
        raise RuntimeError("audit storage unavailable")

    monkeypatch.setattr(write, "record_many", boom)
    integration = Integration.objects.create(adapter="generic", name="g2", department=people.soc)
    delivery = delivery_receive(
        adapter="generic", body=b'{"title": "Doomed walrus"}', integration=integration, client_ip="192.0.2.1"
    )
    delivery_process(delivery_id=delivery.pk)
    assert Ticket.objects.count() == 0
    assert TicketSearch.objects.count() == 0


def test_subject_tags_and_observables_added_by_an_agent_are_indexed(people, soc_ticket):
    actor = people.actor(people.alice)
    services.ticket_edit(actor=actor, ticket=soc_ticket, subject="Renamed narwhal incident")
    assert found(people.alice, "narwhal") == [soc_ticket.number]
    services.ticket_set_tags(actor=actor, ticket=soc_ticket, tags=["okapi"])
    assert found(people.alice, "okapi") == [soc_ticket.number]
    assert found(people.alice, "tag:okapi") == [soc_ticket.number]
    ticket_observable_add(actor=actor, ticket=soc_ticket, type="ip", value="198.51.100.201")
    assert found(people.alice, "198.51.100.201") == [soc_ticket.number]


# --- rebuild -----------------------------------------------------------------------------------------------


def test_rebuild_command_restores_a_lost_index(people, soc_ticket, capsys):
    services.ticket_note(actor=people.actor(people.alice), ticket=soc_ticket, body="axolotl")
    TicketSearch.objects.all().delete()
    assert found(people.alice, "axolotl") == []
    call_command("search", "rebuild")
    assert "Search index rebuilt: 1 tickets" in capsys.readouterr().out
    assert found(people.alice, "axolotl") == [soc_ticket.number]


def test_a_rebuild_larger_than_one_statement_writes_every_document(people, monkeypatch):
    from socdesk.tickets.search.sql import sqlite

    # SQLite writes documents a few hundred per statement: the rebuild's chunk spans several statements.
    monkeypatch.setattr(sqlite, "WRITE_CHUNK", 2)
    tickets = [new_ticket(people, subject=f"Quokka sighting {i}") for i in range(5)]
    TicketSearch.objects.all().delete()
    call_command("search", "rebuild")
    assert found(people.alice, "quokka") == sorted(t.number for t in tickets)


# --- any text is a search, never a server error ---------------------------------------------------------


SEARCH_SOUP = [*"abc019 .:-_/\\\"*()[]^+~@%'é中", "AND", "OR", "NOT", "NEAR", "ip:", "tag:", "-"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(st.sampled_from(SEARCH_SOUP), max_size=25).map("".join))
def test_any_text_runs_as_a_search_on_the_database(people, soc_ticket, text):
    """FTS5 and tsquery have their own syntax: typed text must never reach it unquoted."""
    params = QueryDict(mutable=True)
    params.update({"queue": "all", "q": text})
    ticket_filter = TicketFilter.from_querydict(params)
    tickets = queue_tickets(people.alice, ticket_filter)
    ids = [row["id"] for row in ticket_rows(tickets, 0, 51)]
    search_snippets(ticket_filter.search, ids)


def test_many_matches_take_the_subquery_path_with_the_same_results(people, monkeypatch):
    """Up to FEW_MATCHES, tickets are read by id; beyond, through a subquery: the same tickets."""
    from socdesk.tickets.search import engine

    tickets = [new_ticket(people, subject=f"Token theft {n}") for n in range(3)]
    new_ticket(people, subject="Unrelated")
    expected = sorted(t.number for t in tickets)
    assert found(people.alice, "theft") == expected
    monkeypatch.setattr(engine, "FEW_MATCHES", 1)
    assert found(people.alice, "theft") == expected
    assert found(people.alice, "token -2") == sorted(t.number for t in tickets if not t.subject.endswith("2"))
