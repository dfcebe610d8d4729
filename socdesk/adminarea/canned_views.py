"""The admin area's canned responses: list, add, edit with a preview on a sample ticket, files, delete
(administrators; everyone else gets a 404). Writes go through socdesk.mail.canned."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socdesk.accounts.models import Department
from socdesk.accounts.web import admin_view
from socdesk.adminarea.views import show_refusal
from socdesk.core.errors import ServiceError
from socdesk.mail.canned import canned_response_create, canned_response_delete, canned_response_update
from socdesk.mail.mail_templates import VARIABLES, text_check
from socdesk.mail.models import CannedResponse
from socdesk.tickets.forms import MultipleFileField, incoming_files


class CannedResponseForm(forms.Form):
    title = forms.CharField(max_length=200, help_text="The picker lists and searches it by its title.")
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"),
        required=False,
        empty_label="All departments",
        help_text="Offered on this department's tickets only; empty: on every ticket.",
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Plain text with the variables listed above; checked at save (a mistake names its line).",
    )
    attachments = MultipleFileField(label="Add files", help_text="Attached to every reply that uses it.")


@admin_view
@require_GET
def canned_responses(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/canned-responses: every canned response, by title."""
    rows = CannedResponse.objects.select_related("department").prefetch_related("attachments")
    return render(request, "adminarea/canned_responses.html", {"rows": rows, "section": "canned"})


def _form_page(request: HttpRequest, canned: CannedResponse | None) -> HttpResponse:
    initial = {}
    if canned is not None:
        initial = {"title": canned.title, "department": canned.department_id, "body": canned.body}
    form = CannedResponseForm(request.POST or None, request.FILES or None, initial=initial)
    preview = ""
    actor = request.actor  # type: ignore[attr-defined]
    if request.method == "GET" and canned is not None:
        preview = text_check(canned.body)
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "preview":
                preview = text_check(data["body"])
            else:
                fields = {"title": data["title"], "body": data["body"], "department": data["department"]}
                files = incoming_files(data["attachments"])
                if canned is None:
                    canned = canned_response_create(actor=actor, attachments=files, **fields)
                    messages.success(request, f"Canned response “{canned.title}” added.")
                else:
                    removed = [int(pk) for pk in request.POST.getlist("remove") if pk.isdigit()]
                    canned_response_update(
                        actor=actor, canned=canned, attachments=files, remove_attachment_ids=removed, **fields
                    )
                    messages.success(request, "Canned response saved.")
                return redirect("adminarea:canned-edit", pk=canned.pk)
        except ServiceError as exc:
            show_refusal(form, exc)
    context = {
        "form": form,
        "canned": canned,
        "preview": preview,
        "variables": VARIABLES.items(),
        "section": "canned",
    }
    return render(request, "adminarea/canned_response_form.html", context, status=400 if form.errors else 200)


@admin_view
@require_http_methods(["GET", "POST"])
def canned_new(request: HttpRequest) -> HttpResponse:
    """GET/POST /admin-area/canned-responses/new."""
    return _form_page(request, None)


@admin_view
@require_http_methods(["GET", "POST"])
def canned_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET/POST /admin-area/canned-responses/<id>: `preview` renders the body on a sample ticket."""
    canned = get_object_or_404(CannedResponse.objects.prefetch_related("attachments"), pk=pk)
    return _form_page(request, canned)


@admin_view
@require_POST
def canned_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """POST /admin-area/canned-responses/<id>/delete."""
    canned = get_object_or_404(CannedResponse, pk=pk)
    canned_response_delete(actor=request.actor, canned=canned)  # type: ignore[attr-defined]
    messages.success(request, f"Canned response “{canned.title}” deleted.")
    return redirect("adminarea:canned-responses")
