"""Admin: integrations (with a 'try it on this sample' preview), deliveries, alerts and observables."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from socdesk.alerts.adapters import AdapterError
from socdesk.alerts.ingest import deliveries_requeue
from socdesk.alerts.integrations import (
    EDITABLE,
    default_tags_problem,
    field_map_problem,
    grouping_key_problem,
    integration_preview,
    severity_map_problem,
)
from socdesk.alerts.models import Alert, AlertRaw, Integration, Observable, WebhookDelivery
from socdesk.core.actor import Actor


class IntegrationForm(forms.ModelForm):
    class Meta:
        model = Integration
        # What the API may set, plus the token (which the admin shows and can replace).
        fields = [*EDITABLE[:2], "token", *EDITABLE[2:]]

    # The same checks as the REST API (socdesk.alerts.integrations).
    def _checked(self, name, check, empty):
        value = self.cleaned_data.get(name) or empty
        problem = check(value)
        if problem:
            raise forms.ValidationError(problem)
        return value

    def clean_severity_map(self):
        return self._checked("severity_map", severity_map_problem, {})

    def clean_default_tags(self):
        return self._checked("default_tags", default_tags_problem, [])

    def clean_field_map(self):
        return self._checked("field_map", field_map_problem, {})

    def clean_grouping_key(self):
        return self._checked("grouping_key", grouping_key_problem, "")


class PreviewForm(forms.Form):
    payload = forms.CharField(widget=forms.Textarea(attrs={"rows": 18, "cols": 100}), label="Sample payload")


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationForm
    list_display = ["name", "adapter", "enabled", "department", "auto_resolve", "hook_url", "preview_link"]
    list_filter = ["adapter", "enabled"]
    search_fields = ["name"]

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


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # acknowledged deliveries are never deleted


class AlertRawInline(admin.StackedInline):
    model = AlertRaw
    readonly_fields = ["payload"]
    can_delete = False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "severity", "status", "occurrence_count", "ticket", "last_seen"]
    list_filter = ["source", "status", "severity"]
    list_select_related = ["ticket"]
    search_fields = ["title", "fingerprint", "external_id"]
    readonly_fields = [f.name for f in Alert._meta.fields]
    inlines = [AlertRawInline]

    def has_add_permission(self, request):
        return False


@admin.register(Observable)
class ObservableAdmin(admin.ModelAdmin):
    list_display = ["type", "value", "ioc", "sighted", "first_seen", "last_seen"]
    list_filter = ["type", "ioc", "sighted"]
    search_fields = ["value"]
    readonly_fields = ["value_hash", "first_seen", "last_seen"]
