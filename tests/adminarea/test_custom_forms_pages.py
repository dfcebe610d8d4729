"""The admin area's custom forms editor: forms and fields created, edited and deleted through the audited
routing services, each refusal shown next to what it names with nothing written, a form in use kept, the
help topic page picking a topic's form, admins only, and lists that take a fixed number of queries."""

from __future__ import annotations

import pytest

from socdesk.adminarea.custom_form_forms import name_from_label
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.routing.choices import FieldType
from socdesk.routing.models import CustomField, CustomForm, HelpTopic
from socdesk.routing.services.forms import FieldDefinition, custom_field_create, custom_form_create
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from tests.console_helpers import client_for

SETUP = Actor.system("test-setup")


def make_form(name: str = "Incident details", *fields: FieldDefinition) -> CustomForm:
    form = custom_form_create(actor=SETUP, name=name)
    for definition in fields:
        custom_field_create(actor=SETUP, form=form, definition=definition)
    return form


def field_post(label: str = "Affected host", **changes) -> dict:
    """The field form as a browser posts it (unticked boxes are left out)."""
    data = {
        "label": label,
        "name": "",
        "type": "text",
        "choices": "",
        "help_text": "",
        "agent_visible": "on",
        "user_visible": "on",
        "order": "",
    }
    return {key: value for key, value in {**data, **changes}.items() if value is not None}


def in_field(page: str, name: str) -> str:
    """The HTML of one field's box on the page (its label up to the end of its div)."""
    return page.split(f'for="id_{name}"')[1].split("</div>")[0]


# --- who may --------------------------------------------------------------------------------------------


def test_only_admins_reach_the_custom_form_pages(people, worker):
    form = make_form("Details", FieldDefinition(name="host", label="Host"))
    field = form.fields.get()
    pages = (
        "/admin-area/custom-forms",
        "/admin-area/custom-forms/new",
        f"/admin-area/custom-forms/{form.pk}",
        f"/admin-area/custom-forms/{form.pk}/delete",
        f"/admin-area/custom-forms/{form.pk}/fields/new",
        f"/admin-area/custom-forms/{form.pk}/fields/{field.pk}",
        f"/admin-area/custom-forms/{form.pk}/fields/{field.pk}/delete",
    )
    admin = client_for(people.admin)
    for url in pages:
        assert admin.get(url).status_code == 200, url
    before = AuditEvent.objects.count()
    # alice leads SOC (a role with `manage`): the people pages are hers, the forms are not.
    for persona in (people.alice, people.carol, worker):
        client = client_for(persona)
        for url in pages:
            assert client.get(url).status_code == 404, (persona, url)
        assert client.post("/admin-area/custom-forms/new", {"name": "Sneaky"}).status_code == 404
        assert client.post(f"/admin-area/custom-forms/{form.pk}/delete").status_code == 404
        assert client.post(f"/admin-area/custom-forms/{form.pk}/fields/new", field_post()).status_code == 404
        assert client.post(f"/admin-area/custom-forms/{form.pk}/fields/{field.pk}/delete").status_code == 404
    assert list(CustomForm.objects.values_list("name", flat=True)) == ["Details"]
    assert list(CustomField.objects.values_list("name", flat=True)) == ["host"]
    assert AuditEvent.objects.count() == before


def test_the_navigation_and_overview_link_to_custom_forms(people):
    make_form("Details")
    page = client_for(people.admin).get("/admin-area/").content.decode()
    assert 'href="/admin-area/custom-forms"' in page and "Custom forms" in page
    assert 'aria-current="page">Custom forms<' in (
        client_for(people.admin).get("/admin-area/custom-forms").content.decode()
    )


# --- forms ----------------------------------------------------------------------------------------------


def test_a_form_is_created_then_renamed(people):
    admin = client_for(people.admin)
    response = admin.post(
        "/admin-area/custom-forms/new", {"name": "Incident details", "description": "What the SOC asks"}
    )
    form = CustomForm.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin-area/custom-forms/{form.pk}"
    assert form.description == "What the SOC asks"
    created = AuditEvent.objects.get(action="custom_form.created", target_id=str(form.pk))
    assert created.after == {"name": "Incident details", "description": "What the SOC asks"}

    response = admin.post(f"/admin-area/custom-forms/{form.pk}", {"name": "Phishing details"})
    assert response.status_code == 302
    form.refresh_from_db()
    assert (form.name, form.description) == ("Phishing details", "")
    updated = AuditEvent.objects.get(action="custom_form.updated", target_id=str(form.pk))
    assert updated.before["name"] == "Incident details" and updated.after["name"] == "Phishing details"


def test_a_taken_form_name_is_refused_next_to_the_name(people):
    make_form("Incident details")
    before = AuditEvent.objects.count()
    response = client_for(people.admin).post("/admin-area/custom-forms/new", {"name": "incident DETAILS"})
    assert response.status_code == 400
    assert "A custom form named &#x27;incident DETAILS&#x27; already exists." in in_field(
        response.content.decode(), "name"
    )
    assert CustomForm.objects.count() == 1 and AuditEvent.objects.count() == before


def test_an_empty_form_name_is_refused(people):
    response = client_for(people.admin).post("/admin-area/custom-forms/new", {"name": "   "})
    assert response.status_code == 400
    assert "This field is required." in in_field(response.content.decode(), "name")
    assert not CustomForm.objects.exists()


def test_the_list_shows_fields_and_the_topics_using_each_form(people):
    used = make_form(
        "Incident details",
        FieldDefinition(name="host", label="Host"),
        FieldDefinition(name="impact", label="Impact", type="choice", choices=["Low", "High"]),
    )
    make_form("Spare")
    help_topic_create(actor=SETUP, definition=TopicDefinition(name="Phishing", form=used))
    help_topic_create(actor=SETUP, definition=TopicDefinition(name="Malware", form=used))
    page = client_for(people.admin).get("/admin-area/custom-forms").content.decode()
    row = page.split(">Incident details</a>")[1].split("</tr>")[0]
    assert "<td>2</td>" in row
    assert row.index(">Malware<") < row.index(">Phishing<")
    spare = page.split(">Spare</a>")[1].split("</tr>")[0]
    assert "<td>0</td>" in spare and "none" in spare


def test_the_form_page_lists_its_fields_in_order_with_type_and_flags(people):
    form = make_form(
        "Incident details",
        FieldDefinition(name="notes", label="Analyst notes", type="long_text", user_visible=False, order=20),
        FieldDefinition(name="host", label="Host IP", type="ip", agent_required=True, order=10),
    )
    page = client_for(people.admin).get(f"/admin-area/custom-forms/{form.pk}").content.decode()
    assert page.index('data-field="host"') < page.index('data-field="notes"')
    host = page.split('data-field="host"')[1].split("</tr>")[0]
    assert "IP address" in host and ">required<" in host and ">optional<" in host
    notes = page.split('data-field="notes"')[1].split("</tr>")[0]
    assert "Long text" in notes and ">hidden<" in notes
    field = form.fields.get(name="host")
    assert f'href="/admin-area/custom-forms/{form.pk}/fields/{field.pk}"' in host
    assert f'href="/admin-area/custom-forms/{form.pk}/fields/{field.pk}/delete"' in host
    assert f'href="/admin-area/custom-forms/{form.pk}/fields/new"' in page


def test_a_form_in_use_is_not_deleted_and_a_spare_one_is(people):
    used = make_form("Incident details", FieldDefinition(name="host", label="Host"))
    help_topic_create(actor=SETUP, definition=TopicDefinition(name="Phishing", form=used))
    admin = client_for(people.admin)
    confirm = admin.get(f"/admin-area/custom-forms/{used.pk}/delete").content.decode()
    assert "use this form: give them another form first" in confirm and ">Phishing<" in confirm
    before = AuditEvent.objects.count()
    response = admin.post(f"/admin-area/custom-forms/{used.pk}/delete", follow=True)
    assert (
        "Custom form &#x27;Incident details&#x27; is used by help topic(s) Phishing; "
        "give them another form first." in response.content.decode()
    )
    assert response.redirect_chain[-1][0] == f"/admin-area/custom-forms/{used.pk}"
    assert CustomForm.objects.filter(pk=used.pk).exists() and used.fields.count() == 1
    assert AuditEvent.objects.count() == before

    spare = make_form("Spare", FieldDefinition(name="host", label="Host"))
    confirm = admin.get(f"/admin-area/custom-forms/{spare.pk}/delete").content.decode()
    assert "Its 1 field goes with it." in confirm and "give them another form" not in confirm
    assert CustomForm.objects.filter(pk=spare.pk).exists()  # asking is not deleting
    response = admin.post(f"/admin-area/custom-forms/{spare.pk}/delete")
    assert response.status_code == 302 and response["Location"] == "/admin-area/custom-forms"
    assert not CustomForm.objects.filter(pk=spare.pk).exists()
    deleted = AuditEvent.objects.get(action="custom_form.deleted", target_id=str(spare.pk))
    assert deleted.before["fields"] == ["host"]


# --- fields ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [t for t in FieldType.values if t not in ("choice", "multi_choice")])
def test_a_field_of_each_plain_type_is_added(people, kind):
    form = make_form()
    response = client_for(people.admin).post(
        f"/admin-area/custom-forms/{form.pk}/fields/new", field_post(f"My {kind} field", type=kind)
    )
    assert response.status_code == 302 and response["Location"] == f"/admin-area/custom-forms/{form.pk}"
    field = form.fields.get()
    assert (field.name, field.type, field.choices) == (f"my_{kind}_field", kind, [])
    assert AuditEvent.objects.filter(action="custom_field.created", target_id=str(field.pk)).exists()


@pytest.mark.parametrize("kind", ["choice", "multi_choice"])
def test_a_choice_field_takes_one_choice_a_line(people, kind):
    form = make_form()
    post = field_post(
        "Business impact",
        name="impact",
        type=kind,
        choices="Low\r\n  Medium \r\n\r\nHigh\r\n",
        help_text="As the requester sees it.",
        agent_required="on",
        user_required="on",
        order="5",
    )
    assert (
        client_for(people.admin).post(f"/admin-area/custom-forms/{form.pk}/fields/new", post).status_code
        == 302
    )
    field = form.fields.get()
    assert (field.name, field.label, field.type, field.choices) == (
        "impact",
        "Business impact",
        kind,
        ["Low", "Medium", "High"],
    )
    assert (field.help_text, field.order) == ("As the requester sees it.", 5)
    assert (field.agent_visible, field.agent_required, field.user_visible, field.user_required) == (
        True,
        True,
        True,
        True,
    )
    event = AuditEvent.objects.get(action="custom_field.created", target_id=str(field.pk))
    assert event.after["choices"] == ["Low", "Medium", "High"]


def test_a_new_field_goes_after_the_others_unless_given_a_position(people):
    admin = client_for(people.admin)
    empty = make_form("Empty")
    assert (
        'name="order" value="10"'
        in admin.get(f"/admin-area/custom-forms/{empty.pk}/fields/new").content.decode()
    )
    form = make_form("Details", FieldDefinition(name="first", label="First", order=30))
    page = admin.get(f"/admin-area/custom-forms/{form.pk}/fields/new").content.decode()
    assert 'name="order" value="40"' in page
    admin.post(f"/admin-area/custom-forms/{form.pk}/fields/new", field_post("Second"))
    admin.post(f"/admin-area/custom-forms/{form.pk}/fields/new", field_post("Zeroth", order="-5"))
    assert list(form.fields.values_list("name", "order")) == [("zeroth", -5), ("first", 30), ("second", 40)]


def test_the_machine_name_is_made_from_the_label():
    assert name_from_label("Affected host") == "affected_host"
    assert name_from_label("Host IP (v4/v6)") == "host_ip_v4_v6"
    assert name_from_label("2nd opinion") == "f_2nd_opinion"
    assert name_from_label("Café hours") == "cafe_hours"
    assert name_from_label("!!!") == ""


def test_a_choice_field_without_choices_is_refused_next_to_the_choices(people):
    form = make_form()
    before = AuditEvent.objects.count()
    response = client_for(people.admin).post(
        f"/admin-area/custom-forms/{form.pk}/fields/new", field_post("Impact", type="choice", choices="\n \n")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "a choice field needs 1 to 200 choices of 1 to 100 characters each." in in_field(page, "choices")
    assert 'value="Impact"' in page  # what was typed comes back
    assert not CustomField.objects.exists() and AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("changes", "where", "says"),
    [
        ({"name": "Host-IP"}, "name", "a machine name is 1 to 64 lower-case letters, digits and _"),
        ({"name": "host"}, "name", "the form already has a field with that name."),
        ({"choices": "a\nb"}, "choices", "only choice and multiple-choice fields have choices."),
        ({"type": "choice", "choices": "Low\nlow"}, "choices", "a choice is listed twice."),
        (
            {"agent_visible": None, "agent_required": "on"},
            "agent_required",
            "a field hidden from agents cannot be required of them.",
        ),
        (
            {"user_visible": None, "user_required": "on"},
            "user_required",
            "a field hidden from end users cannot be required of them.",
        ),
        ({"type": "colour"}, "type", "Select a valid choice."),
        ({"label": ""}, "label", "This field is required."),
    ],
)
def test_a_refused_field_says_why_next_to_what_is_wrong_and_writes_nothing(people, changes, where, says):
    form = make_form("Details", FieldDefinition(name="host", label="Host"))
    before = (AuditEvent.objects.count(), list(CustomField.objects.values_list("name", "label", "choices")))
    response = client_for(people.admin).post(
        f"/admin-area/custom-forms/{form.pk}/fields/new", field_post(**{"label": "Host IP", **changes})
    )
    assert response.status_code == 400
    assert says in in_field(response.content.decode(), where)
    assert (
        AuditEvent.objects.count(),
        list(CustomField.objects.values_list("name", "label", "choices")),
    ) == before


def test_a_field_is_edited_and_its_choices_shown_one_a_line(people):
    form = make_form(
        "Details", FieldDefinition(name="impact", label="Impact", type="choice", choices=["Low", "High"])
    )
    field = form.fields.get()
    admin = client_for(people.admin)
    page = admin.get(f"/admin-area/custom-forms/{form.pk}/fields/{field.pk}").content.decode()
    assert "Low\nHigh</textarea>" in page and 'value="impact"' in page
    post = field_post("Business impact", name="impact", type="multi_choice", choices="Low\nMedium\nHigh")
    response = admin.post(f"/admin-area/custom-forms/{form.pk}/fields/{field.pk}", post)
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.type, field.choices) == (
        "Business impact",
        "multi_choice",
        ["Low", "Medium", "High"],
    )
    event = AuditEvent.objects.get(action="custom_field.updated", target_id=str(field.pk))
    assert event.before["choices"] == ["Low", "High"] and event.after["type"] == "multi_choice"


def test_a_refused_edit_leaves_the_field_as_it_was(people):
    form = make_form(
        "Details",
        FieldDefinition(name="host", label="Host"),
        FieldDefinition(name="impact", label="Impact", type="choice", choices=["Low", "High"]),
    )
    field = form.fields.get(name="impact")
    before = AuditEvent.objects.count()
    response = client_for(people.admin).post(
        f"/admin-area/custom-forms/{form.pk}/fields/{field.pk}",
        field_post("Renamed", name="host", type="choice", choices="Low"),
    )
    assert response.status_code == 400
    assert "the form already has a field with that name." in in_field(response.content.decode(), "name")
    field.refresh_from_db()
    assert (field.name, field.label, field.choices) == ("impact", "Impact", ["Low", "High"])
    assert AuditEvent.objects.count() == before


def test_a_field_of_another_form_is_404(people):
    mine = make_form("Mine", FieldDefinition(name="host", label="Host"))
    other = make_form("Other")
    field = mine.fields.get()
    admin = client_for(people.admin)
    assert admin.get(f"/admin-area/custom-forms/{other.pk}/fields/{field.pk}").status_code == 404
    assert admin.post(f"/admin-area/custom-forms/{other.pk}/fields/{field.pk}/delete").status_code == 404
    assert CustomField.objects.filter(pk=field.pk).exists()


def test_a_field_is_deleted_after_a_confirm(people):
    form = make_form("Details", FieldDefinition(name="host", label="Host"))
    field = form.fields.get()
    admin = client_for(people.admin)
    confirm = admin.get(f"/admin-area/custom-forms/{form.pk}/fields/{field.pk}/delete").content.decode()
    assert "Delete the field Host from Details?" in confirm and 'method="post"' in confirm
    assert CustomField.objects.filter(pk=field.pk).exists()
    response = admin.post(f"/admin-area/custom-forms/{form.pk}/fields/{field.pk}/delete")
    assert response.status_code == 302 and response["Location"] == f"/admin-area/custom-forms/{form.pk}"
    assert not CustomField.objects.filter(pk=field.pk).exists()
    deleted = AuditEvent.objects.get(action="custom_field.deleted", target_id=str(field.pk))
    assert deleted.before["name"] == "host"


# --- the help topic page picks the form -------------------------------------------------------------------


def test_the_help_topic_page_picks_and_keeps_a_topics_form(people):
    form = make_form("Incident details")
    admin = client_for(people.admin)
    assert ">Incident details</option>" in admin.get("/admin-area/help-topics/new").content.decode()
    response = admin.post("/admin-area/help-topics/new", {"name": "Phishing", "form": form.pk})
    assert response.status_code == 302
    topic = HelpTopic.objects.get(name="Phishing")
    assert topic.form == form
    event = AuditEvent.objects.get(action="help_topic.created", target_id=str(topic.pk))
    assert event.after["form_id"] == form.pk
    page = admin.get(f"/admin-area/help-topics/{topic.pk}").content.decode()
    assert f'<option value="{form.pk}" selected>Incident details</option>' in page
    # Saving the topic's other settings keeps its form (the page sends what it showed).
    admin.post(f"/admin-area/help-topics/{topic.pk}", {"name": "Phishing mail", "form": form.pk})
    topic.refresh_from_db()
    assert (topic.name, topic.form) == ("Phishing mail", form)
    assert ">Incident details<" in admin.get("/admin-area/help-topics").content.decode()
    admin.post(f"/admin-area/help-topics/{topic.pk}", {"name": "Phishing mail", "form": ""})
    topic.refresh_from_db()
    assert topic.form is None


def test_the_pages_take_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    forms = [
        make_form(f"Form {n}", *(FieldDefinition(name=f"f{i}", label=f"F{i}") for i in range(n + 1)))
        for n in range(4)
    ]
    for n in range(6):
        help_topic_create(actor=SETUP, definition=TopicDefinition(name=f"T{n}", form=forms[n % 4]))
    admin = client_for(people.admin)
    for url in ("/admin-area/custom-forms", f"/admin-area/custom-forms/{forms[3].pk}"):
        admin.get(url)
        with django_assert_max_num_queries(10):
            assert admin.get(url).status_code == 200, url
