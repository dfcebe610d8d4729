"""The admin area's pages for tools: integrations (with the "try it on a sample" preview) and API keys.

The forms and services are the Django admin's and the REST API's own (socdesk.alerts.forms,
socdesk.accounts.forms, the integration_* and apikey_* services), so a value accepted in one is accepted
in all. A new API key is shown once, in the response that created it, and never again.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socdesk.accounts.forms import ApiKeyAddForm
from socdesk.accounts.models import ApiKey
from socdesk.accounts.selectors import apikey_last_used, apikey_state, apikeys_for_admin
from socdesk.accounts.services import apikey_create, apikey_revoke
from socdesk.accounts.web import admin_view
from socdesk.adminarea.views import show_refusal
from socdesk.alerts.adapters import AdapterError
from socdesk.alerts.forms import IntegrationForm, PreviewForm
from socdesk.alerts.integrations import EDITABLE, integration_create, integration_preview, integration_update
from socdesk.alerts.models import Integration
from socdesk.core.errors import ServiceError

# --- integrations ----------------------------------------------------------------------------------------


@admin_view
@require_GET
def integrations(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/integrations: every alert source with its webhook path."""
    rows = Integration.objects.select_related("department", "team").order_by("name")
    return render(request, "adminarea/integrations.html", {"rows": rows, "section": "integrations"})


@admin_view
@require_http_methods(["GET", "POST"])
def integration_new(request: HttpRequest) -> HttpResponse:
    """GET shows the integration form; POST creates it (integration_create) and opens it."""
    form = IntegrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        try:
            created = integration_create(
                actor=request.actor,  # type: ignore[attr-defined]
                adapter=values.pop("adapter"),
                name=values.pop("name"),
                **values,
            )
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Integration {created.name} created; point the tool at its URL.")
            return redirect("adminarea:integration-edit", pk=created.pk)
    status = 400 if form.errors else 200
    context = {"form": form, "integration": None, "section": "integrations"}
    return render(request, "adminarea/integration_form.html", context, status=status)


@admin_view
@require_http_methods(["GET", "POST"])
def integration_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the integration's settings, webhook URL and the preview; POST saves changed settings."""
    integration = get_object_or_404(Integration, pk=pk)
    form = IntegrationForm(request.POST or None, instance=integration)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE}
        try:
            if changes:
                integration_update(actor=request.actor, integration=integration, **changes)  # type: ignore[attr-defined]
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Integration {integration.name} saved.")
            return redirect("adminarea:integration-edit", pk=integration.pk)
    status = 400 if form.errors else 200
    context = {
        "form": form,
        "integration": integration,
        "hook_url": request.build_absolute_uri(f"/api/v1/hooks/{integration.adapter}/{integration.token}"),
        "preview_form": PreviewForm(),
        "section": "integrations",
    }
    return render(request, "adminarea/integration_form.html", context, status=status)


@admin_view
@require_POST
def integration_try(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: the alerts this integration would make from a pasted sample (nothing is stored); htmx swaps
    the result under the form, a plain POST gets it on a page of its own."""
    integration = get_object_or_404(Integration, pk=pk)
    form = PreviewForm(request.POST)
    alerts, error = None, ""
    if form.is_valid():
        try:
            alerts = integration_preview(integration, form.cleaned_data["payload"])
        except AdapterError as exc:
            error = exc.message
    else:
        error = "Paste a sample payload to try."
    context = {"integration": integration, "alerts": alerts, "error": error, "preview_form": form}
    template = "adminarea/_preview.html" if request.htmx else "adminarea/preview_page.html"  # type: ignore[attr-defined]
    return render(request, template, {**context, "section": "integrations"})


# --- API keys ------------------------------------------------------------------------------------------


@admin_view
@require_GET
def apikeys(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/api-keys: every key with its state and last use (never the key itself)."""
    rows = [(key, apikey_state(key), apikey_last_used(key)) for key in apikeys_for_admin()]
    return render(request, "adminarea/apikeys.html", {"rows": rows, "section": "apikeys"})


@admin_view
@require_http_methods(["GET", "POST"])
def apikey_new(request: HttpRequest) -> HttpResponse:
    """GET shows the new-key form; POST creates the key and shows it once (this response only)."""
    form = ApiKeyAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            key, raw_key = apikey_create(
                actor=request.actor,  # type: ignore[attr-defined]
                name=data["name"],
                scopes=data["scopes"],
                allowed_cidrs=data["allowed_cidrs"],
                expires_at=data.get("expires_at"),
                agent=data.get("agent"),
                department=data.get("department"),
            )
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            context = {"key": key, "raw_key": raw_key, "section": "apikeys"}
            response = render(request, "adminarea/apikey_created.html", context)
            response["Cache-Control"] = "no-store"  # the key must not be kept by a browser or proxy cache
            return response
    status = 400 if form.errors else 200
    return render(request, "adminarea/apikey_form.html", {"form": form, "section": "apikeys"}, status=status)


@admin_view
@require_POST
def apikey_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: revoke the key at once; requests with it are refused from now on."""
    key = get_object_or_404(ApiKey, pk=pk)
    try:
        apikey_revoke(actor=request.actor, key=key)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"API key {key.name} ({key.prefix}) revoked; it is refused from now on.")
    return redirect("adminarea:apikeys")
