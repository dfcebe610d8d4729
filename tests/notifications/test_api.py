"""REST v1: /api/v1/me/notifications for the calling agent (personal token or session)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from socdesk.notifications.models import Notification
from socdesk.tickets import services
from tests.api.conftest import ApiClient, make_key
from tests.console_helpers import client_for

SCOPES = ["tickets:read"]


def notify(agent, ticket, n: int) -> list[Notification]:
    start = timezone.now()
    return Notification.objects.bulk_create(
        Notification(
            recipient=agent,
            kind="assigned",
            ticket=ticket,
            text=f"Note {i}",
            actor_label="alice",
            created_at=start + timedelta(seconds=i),
        )
        for i in range(n)
    )


def test_list_newest_first_with_cursor_pages(people, soc_ticket, django_assert_max_num_queries):
    notify(people.bob, soc_ticket, 5)
    api = ApiClient(make_key(SCOPES, agent=people.bob))
    with django_assert_max_num_queries(12):
        first = api.get("me/notifications?limit=3").json()
    assert [n["text"] for n in first["items"]] == ["Note 4", "Note 3", "Note 2"]
    assert first["unread"] == 5
    item = first["items"][0]
    assert item["kind"] == "assigned" and item["kind_label"] == "Assigned to me or my team"
    assert item["ticket"] == {
        "number": soc_ticket.number,
        "subject": "Suspicious PowerShell on WS-042",
        "url": f"/api/v1/tickets/{soc_ticket.number}",
    }
    assert item["actor"] == "alice" and item["read_at"] is None
    second = api.get(f"me/notifications?limit=3&cursor={first['next']}").json()
    assert [n["text"] for n in second["items"]] == ["Note 1", "Note 0"] and second["next"] is None


def test_mark_one_read_then_all(people, soc_ticket):
    first, *_ = notify(people.bob, soc_ticket, 3)
    api = ApiClient(make_key(SCOPES, agent=people.bob))
    response = api.post(f"me/notifications/{first.pk}/read")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    unread = api.get("me/notifications?unread=true").json()
    assert [n["text"] for n in unread["items"]] == ["Note 2", "Note 1"] and unread["unread"] == 2
    assert api.post("me/notifications/read-all").json() == {"marked": 2}
    assert api.get("me/notifications").json()["unread"] == 0


def test_someone_elses_notification_is_a_404(people, soc_ticket):
    [bobs] = notify(people.bob, soc_ticket, 1)
    api = ApiClient(make_key(SCOPES, agent=people.alice))
    response = api.post(f"me/notifications/{bobs.pk}/read")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert api.get("me/notifications").json()["items"] == []
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_a_key_without_an_agent_is_told_to_use_a_personal_token(people):
    response = ApiClient(make_key(SCOPES)).get("me/notifications")
    assert response.status_code == 403
    assert "not an agent's personal token" in response.json()["error"]["message"]


def test_a_forged_cursor_is_refused(people):
    response = ApiClient(make_key(SCOPES, agent=people.bob)).get("me/notifications?cursor=abc")
    assert response.status_code == 400 and response.json()["error"]["fields"] == {"cursor": "invalid"}


def test_the_console_session_works_too(people, soc_ticket):
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    api = ApiClient(client=client_for(people.bob))
    assert [n["text"] for n in api.get("me/notifications").json()["items"]] == [
        "alice assigned the ticket to you."
    ]
