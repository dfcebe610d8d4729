"""Preferences: defaults, setting them (audited), refusing an unknown kind without writing anything,
and the preferences page."""

from __future__ import annotations

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.notifications.choices import DEFAULTS, Kind
from socdesk.notifications.models import NotificationPreference
from socdesk.notifications.selectors import preferences_for
from socdesk.notifications.services import notification_preferences_set
from tests.console_helpers import client_for


def test_an_agent_who_set_nothing_has_the_defaults(people):
    assert preferences_for(people.bob) == DEFAULTS
    assert preferences_for(people.bob)[Kind.NEW_TICKET] == (False, False)


def test_setting_preferences_keeps_the_others_and_is_audited(people):
    result = notification_preferences_set(
        actor=people.actor(people.bob),
        choices={Kind.NEW_TICKET: (True, True), Kind.ASSIGNED: DEFAULTS[Kind.ASSIGNED]},
    )
    assert result[Kind.NEW_TICKET] == (True, True) and result[Kind.MENTIONED] == DEFAULTS[Kind.MENTIONED]
    assert preferences_for(people.bob) == result
    assert NotificationPreference.objects.filter(agent=people.bob).count() == 1  # only what changed
    event = AuditEvent.objects.get(action="notification.preferences_changed")
    assert event.target_label == "bob"
    assert event.before == {"new_ticket": {"in_app": False, "email": False}}
    assert event.after == {"new_ticket": {"in_app": True, "email": True}}


def test_saving_the_same_choices_records_nothing(people):
    notification_preferences_set(actor=people.actor(people.bob), choices=dict(DEFAULTS))
    assert not AuditEvent.objects.filter(action="notification.preferences_changed").exists()


def test_an_unknown_kind_is_refused_and_nothing_is_written(people):
    with pytest.raises(ServiceError) as refused:
        notification_preferences_set(
            actor=people.actor(people.bob), choices={Kind.ASSIGNED: (False, False), "lunch": (True, True)}
        )
    assert refused.value.message.startswith("Unknown notification kind(s): lunch; the kinds are: new_ticket")
    assert refused.value.fields == {"lunch": "unknown"}
    assert not NotificationPreference.objects.exists()
    assert not AuditEvent.objects.filter(action="notification.preferences_changed").exists()


def test_a_key_without_an_agent_has_no_preferences(db):
    with pytest.raises(ServiceError, match="Notifications belong to agents"):
        notification_preferences_set(actor=Actor.system("job"), choices={})


def test_the_preferences_page_shows_and_saves_the_choices(people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    client = client_for(people.bob)
    page = client.get("/notifications/preferences").content.decode()
    assert "Outbound mail is not configured on this server" in page
    assert 'id="assigned-in_app" name="assigned-in_app" checked' in page
    assert 'id="new_ticket-in_app" name="new_ticket-in_app">' in page
    # A browser leaves unticked boxes out: everything but new tickets in the app is off.
    response = client.post("/notifications/preferences", {"new_ticket-in_app": "on"}, follow=True)
    assert "Your notification preferences are saved." in response.content.decode()
    saved = preferences_for(people.bob)
    assert saved[Kind.NEW_TICKET] == (True, False)
    assert all(saved[kind] == (False, False) for kind in Kind.values if kind != Kind.NEW_TICKET)


def test_the_preferences_page_needs_a_signed_in_agent(db, client):
    response = client.get("/notifications/preferences")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_within_a_batch_who_asks_for_a_kind_is_read_once(people, django_assert_num_queries):
    from socdesk.notifications.selectors import agents_asking_for, preferences_remembered

    notification_preferences_set(actor=people.actor(people.bob), choices={Kind.NEW_TICKET: (True, False)})
    with preferences_remembered():
        with django_assert_num_queries(1):
            agents_asking_for(Kind.NEW_TICKET).clear()  # the caller's set is its own
            assert agents_asking_for(Kind.NEW_TICKET) == {people.bob.pk}
        with django_assert_num_queries(1):
            assert agents_asking_for(Kind.MENTIONED) == set()
    # Outside a batch each call reads the preferences as they are.
    notification_preferences_set(actor=people.actor(people.carol), choices={Kind.NEW_TICKET: (True, True)})
    with django_assert_num_queries(1):
        assert agents_asking_for(Kind.NEW_TICKET) == {people.bob.pk, people.carol.pk}


def test_who_asks_for_a_kind_counts_the_app_or_email_and_that_kind_only(people):
    from socdesk.notifications.selectors import agents_asking_for

    choose = notification_preferences_set
    choose(actor=people.actor(people.bob), choices={Kind.NEW_TICKET: (False, True)})
    choose(actor=people.actor(people.carol), choices={Kind.NEW_TICKET: (True, False)})
    # Alice turned new tickets off again, and chose for another kind only.
    choose(actor=people.actor(people.alice), choices={Kind.NEW_TICKET: (True, True)})
    choose(
        actor=people.actor(people.alice),
        choices={Kind.NEW_TICKET: (False, False), Kind.SLA_AT_RISK: (True, True)},
    )
    assert agents_asking_for(Kind.NEW_TICKET) == {people.bob.pk, people.carol.pk}
