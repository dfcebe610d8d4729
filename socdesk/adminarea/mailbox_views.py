"""The admin area's pages for IMAP mailboxes: list (with each one's last fetch), create, edit, delete, and
"Test connection". Admins only (404 for anyone else); the mailbox services check every value."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socdesk.accounts.web import admin_view
from socdesk.adminarea.mailbox_forms import MailboxForm
from socdesk.adminarea.views import show_refusal
from socdesk.core.errors import ServiceError
from socdesk.mail.fetching import mailbox_test
from socdesk.mail.mailboxes import (
    EDITABLE,
    MailboxDefinition,
    mailbox_create,
    mailbox_delete,
    mailbox_update,
)
from socdesk.mail.models import Mailbox


@admin_view
@require_GET
def mailboxes(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/mailboxes: every mailbox with its server and last fetch."""
    rows = Mailbox.objects.select_related("department", "help_topic")
    return render(request, "adminarea/mailboxes.html", {"rows": rows, "section": "mailboxes"})


def _initial(mailbox: Mailbox) -> dict[str, object]:
    return {name: getattr(mailbox, name) for name in EDITABLE if name != "password"}


def _page(request: HttpRequest, mailbox: Mailbox | None) -> HttpResponse:
    initial = _initial(mailbox) if mailbox is not None else {}
    password_set = mailbox is not None and bool(mailbox.password)
    form = MailboxForm(request.POST or None, initial=initial, password_set=password_set)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        # Blank on an edit keeps the stored password (the page never holds it).
        data["password"] = data["password"] or (None if mailbox is not None else "")
        definition = MailboxDefinition(**data)
        try:
            if mailbox is None:
                saved = mailbox_create(actor=request.actor, definition=definition)  # type: ignore[attr-defined]
            else:
                saved = mailbox_update(actor=request.actor, mailbox=mailbox, definition=definition)  # type: ignore[attr-defined]
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Mailbox {saved.name} saved. Use “Test connection” to check it.")
            return redirect("adminarea:mailbox-edit", pk=saved.pk)
    status = 400 if form.errors else 200
    context = {"form": form, "mailbox": mailbox, "section": "mailboxes"}
    return render(request, "adminarea/mailbox_form.html", context, status=status)


@admin_view
@require_http_methods(["GET", "POST"])
def mailbox_new(request: HttpRequest) -> HttpResponse:
    """GET shows an empty mailbox; POST creates it."""
    return _page(request, None)


@admin_view
@require_http_methods(["GET", "POST"])
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the mailbox (never its password); POST saves it."""
    return _page(request, get_object_or_404(Mailbox, pk=pk))


@admin_view
@require_POST
def mailbox_check(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: connect, log in and open the folder with the stored settings; the result is the message."""
    mailbox = get_object_or_404(Mailbox, pk=pk)
    try:
        messages.success(request, mailbox_test(mailbox))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("adminarea:mailbox-edit", pk=pk)


@admin_view
@require_POST
def mailbox_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: delete a mailbox (the tickets it imported stay)."""
    mailbox = get_object_or_404(Mailbox, pk=pk)
    mailbox_delete(actor=request.actor, mailbox=mailbox)  # type: ignore[attr-defined]
    messages.success(request, f"Mailbox {mailbox.name} deleted; the tickets it imported stay.")
    return redirect("adminarea:mailboxes")
