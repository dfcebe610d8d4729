"""The admin area's mail pages: the ban list and the templates of the mail sent to requesters (admins only;
everyone else gets a 404). Writes go through socdesk.mail.bans and socdesk.mail.mail_templates."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from socdesk.accounts.models import Department
from socdesk.accounts.web import admin_view
from socdesk.adminarea.views import show_refusal
from socdesk.core.errors import ServiceError
from socdesk.mail.bans import ban_add, ban_remove, bans_all
from socdesk.mail.mail_templates import (
    VARIABLES,
    RenderedMail,
    TemplateSource,
    mail_template_reset,
    mail_template_save,
    template_check,
    template_source,
)
from socdesk.mail.models import MailTemplate, TemplateKind

# --- the ban list ---------------------------------------------------------------------------------------


class BanForm(forms.Form):
    entry = forms.CharField(
        label="Address or domain",
        max_length=254,
        help_text="spam@example.com bans one address; example.com or *@example.com every address there.",
    )
    note = forms.CharField(label="Why (optional)", max_length=300, required=False)


@admin_view
@require_http_methods(["GET", "POST"])
def bans(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/banned-senders: the ban list with the add form; POST adds an entry (ban_add)."""
    form = BanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ban = ban_add(
                actor=request.actor,  # type: ignore[attr-defined]
                entry=form.cleaned_data["entry"],
                note=form.cleaned_data["note"],
            )
        except ServiceError as exc:
            exc.fields = {"entry": exc.message}
            show_refusal(form, exc)
        else:
            messages.success(request, f"{ban.value} is banned: its mail is refused from now on.")
            return redirect("adminarea:bans")
    status = 400 if form.errors else 200
    context = {"rows": bans_all(), "form": form, "section": "bans"}
    return render(request, "adminarea/bans.html", context, status=status)


@admin_view
@require_POST
def ban_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: take an entry off the ban list (ban_remove)."""
    try:
        ban_remove(actor=request.actor, ban_id=pk)  # type: ignore[attr-defined]
    except ServiceError as exc:
        raise Http404(exc.message) from exc
    messages.success(request, "Removed from the ban list.")
    return redirect("adminarea:bans")


# --- templates ------------------------------------------------------------------------------------------


class TemplateForm(forms.Form):
    subject = forms.CharField(max_length=255, help_text="The ticket's [#number] is added when it is missing.")
    text_body = forms.CharField(label="Text body", widget=forms.Textarea(attrs={"rows": 10}))
    html_body = forms.CharField(
        label="HTML body",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Values are escaped. Empty: the mail is plain text only.",
    )


def _department(department_pk: int) -> Department | None:
    """0 is the global template; any other id must be a department."""
    return None if department_pk == 0 else get_object_or_404(Department, pk=department_pk)


@admin_view
@require_http_methods(["GET"])
def templates(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/mail-templates: each kind of mail, globally and per department, and whether it is
    the default, the global template or the department's own."""
    stored = {(t.kind, t.department_id) for t in MailTemplate.objects.all()}
    departments = list(Department.objects.order_by("name"))
    rows: list[tuple[str, str, Department | None, str]] = []
    for kind, label in TemplateKind.choices:
        rows.append((kind, label, None, "custom" if (kind, None) in stored else "default"))
        for department in departments:
            if (kind, department.pk) in stored:
                state = "own"
            else:
                state = "global" if (kind, None) in stored else "default"
            rows.append((kind, label, department, state))
    return render(request, "adminarea/mail_templates.html", {"rows": rows, "section": "mail_templates"})


@admin_view
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, kind: str, department_pk: int) -> HttpResponse:
    """GET shows the template in use with its preview; POST `preview` renders the posted texts against a
    sample ticket, `save` stores them (mail_template_save, refused with the line and error), `reset` goes
    back to what applies without this one (mail_template_reset)."""
    if kind not in TemplateKind.values:
        raise Http404("There is no such mail template.")
    department = _department(department_pk)
    source, row = template_source(kind, department)
    own = row is not None and row.department_id == (department.pk if department else None)
    action = request.POST.get("action", "preview") if request.method == "POST" else ""
    actor = request.actor  # type: ignore[attr-defined]
    if action == "reset":
        if mail_template_reset(actor=actor, kind=kind, department=department):
            messages.success(request, "Back to the default for this mail.")
        return redirect("adminarea:mail-template-edit", kind=kind, department_pk=department_pk)
    initial = {"subject": source.subject, "text_body": source.text_body, "html_body": source.html_body}
    form = TemplateForm(request.POST or None, initial=initial)
    preview: RenderedMail | None = None
    if not request.POST:
        preview = template_check(source)
    elif form.is_valid():
        posted = TemplateSource(**{name: form.cleaned_data[name] for name in initial})
        try:
            if action == "save":
                mail_template_save(actor=actor, kind=kind, department=department, source=posted)
                messages.success(request, "Template saved; mail sent from now on uses it.")
                return redirect("adminarea:mail-template-edit", kind=kind, department_pk=department_pk)
            preview = template_check(posted)
        except ServiceError as exc:
            for field, sentence in exc.fields.items():
                form.add_error(field if field in form.fields else None, sentence)
    context = {
        "form": form,
        "kind": kind,
        "kind_label": TemplateKind(kind).label,
        "department": department,
        "department_pk": department_pk,
        "own": own,
        "inherits": "the department's own" if own else ("the global template" if row else "the default"),
        "preview": preview,
        "variables": VARIABLES.items(),
        "section": "mail_templates",
    }
    return render(request, "adminarea/mail_template_form.html", context, status=400 if form.errors else 200)
