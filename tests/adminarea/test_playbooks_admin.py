"""The admin area's playbooks over HTTP: create, edit into a new version, refusals with nothing saved,
delete, and a 404 for anyone but admins."""

from __future__ import annotations

import pytest

from socdesk.cases.models import Playbook, PlaybookVersion
from socdesk.cases.services import playbook_apply
from tests.cases.helpers import make_playbook
from tests.console_helpers import client_for

pytestmark = pytest.mark.django_db


def editor_post(name="Lost device", rows=(("Wipe it", "60", True),), **fields) -> dict:
    data = {
        "name": name,
        "description": "",
        "required_fields": "",
        "tasks-TOTAL_FORMS": str(len(rows) + 1),
        "tasks-INITIAL_FORMS": "0",
        "tasks-MIN_NUM_FORMS": "0",
        "tasks-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for index, (title, minutes, required) in enumerate(rows):
        data[f"tasks-{index}-title"] = title
        data[f"tasks-{index}-due_minutes"] = minutes
        if required:
            data[f"tasks-{index}-required"] = "on"
    return data


def test_admins_create_and_edit_into_a_new_version(people, soc_ticket):
    admin = client_for(people.admin)
    response = admin.post("/admin-area/playbooks/new", editor_post(block_resolution="on"))
    playbook = Playbook.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin-area/playbooks/{playbook.pk}"
    assert playbook.block_resolution and [t.title for t in playbook.current.templates.all()] == ["Wipe it"]
    playbook_apply(actor=people.actor(people.alice), ticket=soc_ticket, playbook=playbook)
    rows = (("Wipe it", "60", True), ("Tell insurance", "", False))
    response = admin.post(f"/admin-area/playbooks/{playbook.pk}", editor_post(rows=rows), follow=True)
    html = response.content.decode()
    assert "saved as version 2; tickets it was applied to keep their tasks" in html
    assert 'data-version="1"' in html and 'data-version="2"' in html and "Applied to 1 ticket." in html
    assert "Tell insurance" in html and not Playbook.objects.get().block_resolution
    assert admin.get("/admin-area/playbooks").status_code == 200


def test_refusals_save_nothing(people):
    admin = client_for(people.admin)
    make_playbook()
    response = admin.post("/admin-area/playbooks/new", editor_post(name="Phishing Triage"))
    assert response.status_code == 400 and "already exists" in response.content.decode()
    response = admin.post("/admin-area/playbooks/new", editor_post(rows=()))
    assert response.status_code == 400 and "give it at least one task" in response.content.decode()
    response = admin.post("/admin-area/playbooks/new", editor_post(required_fields="verdict"))
    assert "no custom field is named verdict" in response.content.decode()
    assert Playbook.objects.count() == 1 and PlaybookVersion.objects.count() == 1


def test_delete_only_when_never_applied(people, soc_ticket):
    admin = client_for(people.admin)
    used, unused = make_playbook(), make_playbook(name="Unused")
    playbook_apply(actor=people.actor(people.alice), ticket=soc_ticket, playbook=used)
    html = admin.post(f"/admin-area/playbooks/{used.pk}/delete", follow=True).content.decode()
    assert "was applied to 1 ticket(s)" in html
    admin.post(f"/admin-area/playbooks/{unused.pk}/delete")
    assert list(Playbook.objects.values_list("name", flat=True)) == ["Phishing triage"]


def test_not_admins_get_404(people):
    playbook = make_playbook()
    for agent in (people.alice, people.carol):
        client = client_for(agent)
        assert client.get("/admin-area/playbooks").status_code == 404
        assert client.post(f"/admin-area/playbooks/{playbook.pk}", editor_post()).status_code == 404
    assert Playbook.objects.get().name == "Phishing triage"
