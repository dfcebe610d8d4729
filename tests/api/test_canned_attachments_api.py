"""REST for a canned response's files: listed as the response is (scoped), uploaded as multipart and
deleted by administrators, stored by SHA-256 like the admin page stores them; refusals write nothing."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from socdesk.accounts.services import apikey_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.mail.canned import canned_response_create
from socdesk.mail.models import CannedAttachment
from tests.api.conftest import SETUP, ApiClient, make_key

pytestmark = pytest.mark.django_db

REPORT = b"%PDF-1.4\n% the phishing guide\n"
NOTE = b"Forward the message as an attachment.\n"


def stored_path(content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    return f"{digest[:2]}/{digest}"


@pytest.fixture
def soc_response(people):
    return canned_response_create(
        actor=Actor.for_agent(people.admin),
        title="Phishing guide",
        body="See the guide.",
        department=people.soc,
    )


@pytest.fixture
def admin_api(people):
    return ApiClient(make_key(["admin"], agent=people.admin, name="adm"))


def upload(api: ApiClient, canned_id: int, *files: tuple[str, bytes]):
    """POST the files as multipart/form-data, one `files` part each."""
    parts = []
    for name, content in files:
        handle = io.BytesIO(content)
        handle.name = name
        parts.append(handle)
    return api.client.post(
        f"/api/v1/canned-responses/{canned_id}/attachments", data={"files": parts}, headers=api.headers
    )


def nothing_written(content: bytes) -> bool:
    return not CannedAttachment.objects.exists() and not default_storage.exists(stored_path(content))


def test_admins_upload_list_and_delete_files_stored_by_sha256(people, soc_response, admin_api, alice_api):
    added = upload(admin_api, soc_response.pk, ("guide.pdf", REPORT), ("note.txt", NOTE))
    assert added.status_code == 201, added.content
    items = added.json()["items"]
    assert [(f["filename"], f["size"], f["sha256"]) for f in items] == [
        ("guide.pdf", len(REPORT), hashlib.sha256(REPORT).hexdigest()),
        ("note.txt", len(NOTE), hashlib.sha256(NOTE).hexdigest()),
    ]
    assert items[0]["content_type"] == "application/pdf"  # sniffed from the bytes
    with default_storage.open(stored_path(REPORT), "rb") as handle:
        assert handle.read() == REPORT

    listed = alice_api.get(f"canned-responses/{soc_response.pk}/attachments")
    assert listed.status_code == 200
    assert [f["filename"] for f in listed.json()["items"]] == ["guide.pdf", "note.txt"]
    assert [
        f["filename"] for f in alice_api.get(f"canned-responses/{soc_response.pk}").json()["attachments"]
    ] == [
        "guide.pdf",
        "note.txt",
    ]
    event = AuditEvent.objects.get(action="canned_response.files_added")
    assert event.after["files"][0] == f"guide.pdf ({hashlib.sha256(REPORT).hexdigest()})"

    # The same bytes again: a second file row, one stored copy.
    assert upload(admin_api, soc_response.pk, ("copy.pdf", REPORT)).status_code == 201
    assert CannedAttachment.objects.filter(sha256=hashlib.sha256(REPORT).hexdigest()).count() == 2

    gone = admin_api.delete(f"canned-responses/{soc_response.pk}/attachments/{items[1]['id']}")
    assert gone.status_code == 204
    assert sorted(CannedAttachment.objects.values_list("filename", flat=True)) == ["copy.pdf", "guide.pdf"]
    removed = AuditEvent.objects.get(action="canned_response.file_removed")
    assert removed.before == {"file": f"note.txt ({hashlib.sha256(NOTE).hexdigest()})"}
    again = admin_api.delete(f"canned-responses/{soc_response.pk}/attachments/{items[1]['id']}")
    assert again.status_code == 404
    assert "has no file" in again.json()["error"]["message"]


def test_a_file_over_the_limit_is_a_clear_400_and_none_is_stored(people, soc_response, admin_api, settings):
    settings.ATTACHMENT_MAX_BYTES = 64
    big = b"x" * 65
    refused = upload(admin_api, soc_response.pk, ("note.txt", NOTE), ("big.bin", big))
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["message"] == "The file 'big.bin' is 65 bytes; the limit is 64 bytes."
    assert error["fields"] == {"attachments": "too_large"}
    assert nothing_written(NOTE)
    assert not AuditEvent.objects.filter(action="canned_response.files_added").exists()


def test_a_request_without_files_is_refused(people, soc_response, admin_api):
    refused = admin_api.client.post(
        f"/api/v1/canned-responses/{soc_response.pk}/attachments", data={}, headers=admin_api.headers
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {"files": "Field required"}
    assert not CannedAttachment.objects.exists()


def test_wrong_keys_are_refused_and_write_nothing(people, soc_response, alice_api, anon):
    # An agent's token without the admin scope (alice is no administrator): 403.
    forbidden = upload(alice_api, soc_response.pk, ("note.txt", NOTE))
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["message"] == "This API key lacks the admin scope."
    # No key, and a key that does not exist: 401.
    unauthorised = upload(anon, soc_response.pk, ("note.txt", NOTE))
    assert unauthorised.status_code == 401
    assert unauthorised.json()["error"]["code"] == "unauthorized"
    assert upload(ApiClient("sdk_nope_secret"), soc_response.pk, ("note.txt", NOTE)).status_code == 401
    assert anon.get(f"canned-responses/{soc_response.pk}/attachments").status_code == 401
    assert nothing_written(NOTE)


def test_another_departments_response_is_not_found_and_untouched(people, soc_response, admin_api, carol_api):
    added = upload(admin_api, soc_response.pk, ("guide.pdf", REPORT)).json()["items"][0]
    # carol (IT) does not see SOC's canned response, nor its files.
    assert carol_api.get(f"canned-responses/{soc_response.pk}/attachments").status_code == 404
    # An administrators' key of the IT department: SOC's response is out of its sight.
    key = apikey_create(actor=SETUP, name="it-admin", scopes=["admin"], department=people.it)[1]
    it_admin = ApiClient(key)
    hidden = upload(it_admin, soc_response.pk, ("note.txt", NOTE))
    assert hidden.status_code == 404
    assert hidden.json()["error"]["message"] == "There is no such canned response."
    gone = it_admin.delete(f"canned-responses/{soc_response.pk}/attachments/{added['id']}")
    assert gone.status_code == 404
    assert list(CannedAttachment.objects.values_list("filename", flat=True)) == ["guide.pdf"]
    assert not default_storage.exists(stored_path(NOTE))


def test_the_upload_is_documented_as_multipart_in_openapi():
    schema = Client().get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/canned-responses/{canned_id}/attachments"]["post"]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["properties"]["files"]["items"]["format"] == "binary"
    assert "files" in body["required"]
