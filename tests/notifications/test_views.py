"""The console: the bell and its count on every page, the dropdown (htmx), the full page, opening and
marking read; only one's own notifications, about tickets one may still see; no N+1."""

from __future__ import annotations

from django.utils import timezone

from socdesk.core.actor import Actor
from socdesk.notifications.choices import Kind
from socdesk.notifications.models import Notification
from socdesk.notifications.selectors import UNREAD_COUNT_CAP
from socdesk.tickets import services
from tests.console_helpers import client_for


def notify(agent, ticket, n: int = 1, kind: str = Kind.ASSIGNED) -> list[Notification]:
    now = timezone.now()
    return Notification.objects.bulk_create(
        Notification(
            recipient=agent, kind=kind, ticket=ticket, text=f"Note {i}", actor_label="alice", created_at=now
        )
        for i in range(n)
    )


def tickets(people, n: int):
    actor = Actor.for_agent(people.alice)
    return [
        services.ticket_create(actor=actor, subject=f"Ticket {i}", department=people.soc) for i in range(n)
    ]


def test_the_bell_shows_the_unread_count_on_every_page(people, soc_ticket):
    client = client_for(people.bob)
    page = client.get("/").content.decode()
    assert 'aria-label="Notifications, 0 unread"' in page and "data-unread-count" not in page
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    page = client.get("/tickets/").content.decode()
    assert 'aria-label="Notifications, 1 unread"' in page
    assert '<span class="bell-count" data-unread-count>1</span>' in page
    assert 'hx-get="/notifications/bell?next=/tickets/"' in page


def test_the_count_stops_at_the_cap(people, soc_ticket):
    notify(people.bob, soc_ticket, UNREAD_COUNT_CAP + 5)
    page = client_for(people.bob).get("/").content.decode()
    assert f"data-unread-count>{UNREAD_COUNT_CAP - 1}+</span>" in page


def test_the_dropdown_lists_the_newest_with_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    for ticket in tickets(people, 12):
        notify(people.bob, ticket)
    client = client_for(people.bob)
    client.get("/notifications/bell")  # warm the session and the agent's caches
    # session, user, agent, department roles, teams, the rows with their tickets, the count
    with django_assert_max_num_queries(9):
        page = client.get("/notifications/bell?next=/tickets/").content.decode()
    assert page.count('class="bell-item"') == 10 and "12 unread" in page
    assert "Ticket 11" in page and "Ticket 0" not in page  # newest first
    assert '<input type="hidden" name="next" value="/tickets/">' in page


def test_the_full_page_with_many_rows_runs_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    for ticket in tickets(people, 30):
        notify(people.bob, ticket, 2)
    client = client_for(people.bob)
    with django_assert_max_num_queries(12):
        page = client.get("/notifications/").content.decode()
    assert page.count('<tr class="unread">') == 50 and "Page 1 of 2" in page


def test_opening_a_notification_marks_it_read_and_goes_to_the_ticket(people, soc_ticket):
    [note] = notify(people.bob, soc_ticket)
    response = client_for(people.bob).post(f"/notifications/{note.pk}/open")
    assert response.status_code == 302 and response["Location"] == f"/tickets/{soc_ticket.number}/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_mark_one_and_mark_all_read(people, soc_ticket):
    first, *_ = notify(people.bob, soc_ticket, 3)
    [carols] = notify(people.carol, soc_ticket)
    client = client_for(people.bob)
    response = client.post(f"/notifications/{first.pk}/read", {"next": "/notifications/?unread=1"})
    assert response["Location"] == "/notifications/?unread=1"
    assert Notification.objects.filter(recipient=people.bob, read_at=None).count() == 2
    response = client.post("/notifications/read-all", {"next": "https://evil.example/"}, follow=True)
    assert response.redirect_chain[0][0] == "/notifications/"  # another host is never a way back
    assert "Marked 2 notifications read." in response.content.decode()
    assert not Notification.objects.filter(recipient=people.bob, read_at=None).exists()
    carols.refresh_from_db()
    assert carols.read_at is None  # someone else's stays unread


def test_someone_elses_notification_is_a_404(people, soc_ticket):
    [bobs] = notify(people.bob, soc_ticket)
    client = client_for(people.alice)
    assert client.post(f"/notifications/{bobs.pk}/open").status_code == 404
    assert client.post(f"/notifications/{bobs.pk}/read").status_code == 404
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_notifications_of_a_ticket_out_of_sight_are_hidden(people, soc_ticket):
    notify(people.bob, soc_ticket)
    services.ticket_transfer(
        actor=people.actor(people.admin), ticket=soc_ticket, department=people.it, reason="Not ours"
    )
    client = client_for(people.bob)
    assert 'aria-label="Notifications, 0 unread"' in client.get("/").content.decode()
    assert "Suspicious PowerShell" not in client.get("/notifications/").content.decode()


def test_marking_read_needs_a_post(people, soc_ticket):
    [note] = notify(people.bob, soc_ticket)
    assert client_for(people.bob).get(f"/notifications/{note.pk}/open").status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


def test_the_unread_tab_and_the_empty_page(people, soc_ticket):
    client = client_for(people.bob)
    assert "No notifications yet." in client.get("/notifications/").content.decode()
    [note] = notify(people.bob, soc_ticket)
    note.read_at = timezone.now()
    note.save()
    page = client.get("/notifications/?unread=1").content.decode()
    assert "No unread notifications." in page and "Unread (0)" in page
