"""Admin: integrations (with a 'try it on this sample' preview), deliveries, alerts and observables.

Integrations are written through their audited services, as over the API. Deliveries, alerts (with their
raw payloads) and observables are evidence written by the ingest engine and the ticket services: the
admin shows them and never edits or deletes them.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from socdesk.alerts.adapters import AdapterError
from socdesk.alerts.forms import IntegrationForm, PreviewForm
from socdesk.alerts.ingest import deliveries_requeue
from socdesk.alerts.integrations import (
    EDITABLE,
    integration_create,
    integration_preview,
    integration_remove,
    integration_rotate_token,
    integration_update,
)
from socdesk.alerts.models import Alert, AlertRaw, Integration, Observable, WebhookDelivery
from socdesk.audit.admin import ServiceAdminMixin, admin_actor
from socdesk.core.actor import Actor


@admin.register(Integration)
class IntegrationAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Saves, deletes and token rotations go through the integration services (audited, all or nothing)."""

    form = IntegrationForm
    list_display = [
        "name",
        "adapter",
        "enabled",
        "department",
        "auto_resolve",
        "rejected_count",
        "hook_url",
        "preview_link",
    ]
    list_filter = ["adapter", "enabled"]
    search_fields = ["name"]
    actions = ["rotate_tokens"]

    def get_readonly_fields(self, request, obj=None):
        return ["token"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        actor, data = admin_actor(request), form.cleaned_data
        # The form ran the services' checks already; a refusal here is a race (a name taken meanwhile).
        with self.service_writes(request):
            if change:
                changes = {name: data[name] for name in form.changed_data if name in EDITABLE}
                if changes:
                    integration_update(actor=actor, integration=obj, **changes)
            else:
                values = {name: data[name] for name in EDITABLE if name in data}
                created = integration_create(
                    actor=actor, adapter=values.pop("adapter"), name=values.pop("name"), **values
                )
                obj.pk, obj.token = created.pk, created.token
                obj._state.adding = False

    def delete_model(self, request, obj):
        if not integration_remove(actor=admin_actor(request), integration=obj):
            request._socdesk_kept = [*getattr(request, "_socdesk_kept", []), obj.name]

    def delete_queryset(self, request, queryset):
        for integration in queryset:
            self.delete_model(request, integration)
        self._report_kept(request)

    def response_delete(self, request, obj_display, obj_id):
        if self._report_kept(request):
            return HttpResponseRedirect(reverse("admin:alerts_integration_changelist"))
        return super().response_delete(request, obj_display, obj_id)

    def _report_kept(self, request) -> bool:
        kept = getattr(request, "_socdesk_kept", [])
        if kept:
            self.message_user(
                request,
                f"Disabled, not deleted, because alerts or deliveries name them: {', '.join(kept)}.",
                messages.WARNING,
            )
        return bool(kept)

    @admin.action(description="Rotate the webhook token of the selected integrations")
    def rotate_tokens(self, request, queryset):
        actor = admin_actor(request)
        for integration in queryset:
            integration_rotate_token(actor=actor, integration=integration)
        self.message_user(
            request, f"New tokens for {queryset.count()} integration(s); update the senders' URLs."
        )

    @admin.display(description="Webhook URL (token)")
    def hook_url(self, obj):
        return f"/api/v1/hooks/{obj.adapter}/{obj.token}"

    @admin.display(description="Try it")
    def preview_link(self, obj):
        return format_html(
            '<a href="{}">try it on a sample</a>', reverse("admin:alerts_integration_preview", args=[obj.pk])
        )

    def get_urls(self):
        extra = [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="alerts_integration_preview",
            )
        ]
        return extra + super().get_urls()

    def preview_view(self, request, pk: int):
        """Paste a payload and see the normalised alerts this integration would make (nothing is stored)."""
        integration = get_object_or_404(Integration, pk=pk)
        if not self.has_view_permission(request, integration):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = PreviewForm(request.POST or None)
        alerts, error = None, ""
        if request.method == "POST" and form.is_valid():
            try:
                alerts = integration_preview(integration, form.cleaned_data["payload"])
            except AdapterError as exc:
                error = exc.message
        context = {
            **self.admin_site.each_context(request),
            "title": f"Try {integration.name} on a sample",
            "integration": integration,
            "form": form,
            "alerts": alerts,
            "error": error,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "alerts/admin/preview.html", context)


@admin.action(description="Re-run the selected failed deliveries")
def requeue_deliveries(modeladmin, request, queryset):
    count = deliveries_requeue(
        actor=Actor.for_request(request), delivery_ids=list(queryset.values_list("id", flat=True))
    )
    modeladmin.message_user(request, f"{count} failed deliveries were put back in the queue.")


class ReadOnlyAdminMixin:
    """Shown in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Acknowledged deliveries are the record of what was received: re-run a failed one, never edit it."""

    actions = [requeue_deliveries]
    list_display = [
        "id",
        "adapter",
        "integration",
        "status",
        "attempts",
        "alert_count",
        "received_at",
        "client_ip",
    ]
    list_filter = ["status", "adapter"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields if f.name != "body"] + ["body_text"]
    exclude = ["body"]

    @admin.display(description="Body")
    def body_text(self, obj):
        return format_html("<pre>{}</pre>", bytes(obj.body)[:200_000].decode("utf-8", "replace"))


class AlertRawInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = AlertRaw
    readonly_fields = ["payload"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Alerts and their raw payloads are evidence: read-only, and never deleted by hand."""

    list_display = ["title", "source", "severity", "status", "occurrence_count", "ticket", "last_seen"]
    list_filter = ["source", "status", "severity"]
    list_select_related = ["ticket"]
    search_fields = ["title", "fingerprint", "external_id"]
    readonly_fields = [f.name for f in Alert._meta.fields]
    inlines = [AlertRawInline]


@admin.register(Observable)
class ObservableAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: an observable's IOC and sighted flags summarise its ticket links, which agents change
    on the ticket page (ticket_observable_add / _flag / _remove, audited)."""

    list_display = ["type", "value", "ioc", "sighted", "first_seen", "last_seen"]
    list_filter = ["type", "ioc", "sighted"]
    search_fields = ["value"]
    readonly_fields = ["value_hash", "first_seen", "last_seen"]
