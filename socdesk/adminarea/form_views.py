"""The admin area's custom forms editor: the forms, a form's page with its fields, add/edit/delete a field.

Admins only (404 for anyone else). Every change goes through the audited services of
socdesk/routing/services/forms.py; a refusal (a name taken, a choice field without choices, a form a help
topic still uses) is shown next to the field it names, or as a message, and nothing is saved.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Max, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from socdesk.accounts.web import admin_view
from socdesk.adminarea.custom_form_forms import CustomFieldForm, CustomFormForm, field_initial
from socdesk.adminarea.views import show_refusal
from socdesk.core.errors import ServiceError
from socdesk.routing.models import CustomField, CustomForm, HelpTopic
from socdesk.routing.services.forms import (
    custom_field_create,
    custom_field_delete,
    custom_field_update,
    custom_form_create,
    custom_form_delete,
    custom_form_update,
)

SECTION = "custom_forms"


def _topics_first() -> Prefetch:
    return Prefetch("topics", queryset=HelpTopic.objects.order_by("name"), to_attr="topic_list")


@admin_view
@require_GET
def custom_forms(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/custom-forms: every form with its number of fields and the help topics using it."""
    rows = CustomForm.objects.annotate(field_count=Count("fields")).prefetch_related(_topics_first())
    return render(request, "adminarea/custom_forms.html", {"rows": rows, "section": SECTION})


@admin_view
@require_http_methods(["GET", "POST"])
def custom_form_new(request: HttpRequest) -> HttpResponse:
    """GET shows an empty form; POST creates it and opens its page, where fields are added."""
    form = CustomFormForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = custom_form_create(actor=request.actor, **form.cleaned_data)  # type: ignore[attr-defined]
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Custom form {made.name} created: add its fields.")
            return redirect("adminarea:custom-form-edit", pk=made.pk)
    status = 400 if form.errors else 200
    context = {"form": form, "custom_form": None, "section": SECTION}
    return render(request, "adminarea/custom_form.html", context, status=status)


@admin_view
@require_http_methods(["GET", "POST"])
def custom_form_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the form's name, description and fields in order; POST renames it."""
    custom_form = get_object_or_404(CustomForm.objects.prefetch_related(_topics_first()), pk=pk)
    initial = {"name": custom_form.name, "description": custom_form.description}
    form = CustomFormForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = custom_form_update(actor=request.actor, form=custom_form, **form.cleaned_data)  # type: ignore[attr-defined]
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Custom form {saved.name} saved.")
            return redirect("adminarea:custom-form-edit", pk=saved.pk)
    status = 400 if form.errors else 200
    context = {
        "form": form,
        "custom_form": custom_form,
        "fields": custom_form.fields.all(),
        "section": SECTION,
    }
    return render(request, "adminarea/custom_form.html", context, status=status)


@admin_view
@require_http_methods(["GET", "POST"])
def custom_form_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes the form, unless a help topic still uses it (the service says)."""
    custom_form = get_object_or_404(CustomForm.objects.prefetch_related(_topics_first()), pk=pk)
    if request.method == "POST":
        try:
            custom_form_delete(actor=request.actor, form=custom_form)  # type: ignore[attr-defined]
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("adminarea:custom-form-edit", pk=pk)
        messages.success(request, f"Custom form {custom_form.name} deleted.")
        return redirect("adminarea:custom-forms")
    context = {
        "custom_form": custom_form,
        "field_count": custom_form.fields.count(),
        "section": SECTION,
    }
    return render(request, "adminarea/custom_form_delete.html", context)


def _field_page(
    request: HttpRequest, custom_form: CustomForm, custom_field: CustomField | None
) -> HttpResponse:
    highest = custom_form.fields.aggregate(highest=Max("order"))["highest"]
    next_order = 10 if highest is None else highest + 10
    initial = field_initial(custom_field) if custom_field is not None else {"order": next_order}
    form = CustomFieldForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        definition = form.definition(next_order=next_order)
        actor = request.actor  # type: ignore[attr-defined]
        try:
            if custom_field is None:
                saved = custom_field_create(actor=actor, form=custom_form, definition=definition)
            else:
                saved = custom_field_update(actor=actor, custom_field=custom_field, definition=definition)
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Field {saved.label} saved.")
            return redirect("adminarea:custom-form-edit", pk=custom_form.pk)
    status = 400 if form.errors else 200
    context = {
        "form": form,
        "custom_form": custom_form,
        "custom_field": custom_field,
        "section": SECTION,
    }
    return render(request, "adminarea/custom_field_form.html", context, status=status)


@admin_view
@require_http_methods(["GET", "POST"])
def custom_field_new(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows an empty field; POST adds it to the form."""
    return _field_page(request, get_object_or_404(CustomForm, pk=pk), None)


@admin_view
@require_http_methods(["GET", "POST"])
def custom_field_edit(request: HttpRequest, pk: int, field_pk: int) -> HttpResponse:
    """GET shows the field; POST replaces its settings (values on tickets stay as stored)."""
    custom_field = get_object_or_404(CustomField.objects.select_related("form"), pk=field_pk, form_id=pk)
    return _field_page(request, custom_field.form, custom_field)


@admin_view
@require_http_methods(["GET", "POST"])
def custom_field_remove(request: HttpRequest, pk: int, field_pk: int) -> HttpResponse:
    """GET asks to confirm; POST removes the field (tickets keep the values they hold under its name)."""
    custom_field = get_object_or_404(CustomField.objects.select_related("form"), pk=field_pk, form_id=pk)
    if request.method == "POST":
        custom_field_delete(actor=request.actor, custom_field=custom_field)  # type: ignore[attr-defined]
        messages.success(request, f"Field {custom_field.label} deleted.")
        return redirect("adminarea:custom-form-edit", pk=pk)
    context = {"custom_form": custom_field.form, "custom_field": custom_field, "section": SECTION}
    return render(request, "adminarea/custom_field_delete.html", context)
