"""Admin: integrations (with a 'try it on this sample' preview), deliveries, alerts and observables."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from socdesk.alerts import adapters
from socdesk.alerts import observables as obs
from socdesk.alerts.adapters import AdapterError
from socdesk.alerts.adapters.generic import compile_map
from socdesk.alerts.models import Alert, AlertRaw, Integration, Observable, WebhookDelivery
from socdesk.alerts.services import deliveries_requeue, integration_settings
from socdesk.core.actor import Actor
from socdesk.tickets.choices import Severity


class IntegrationForm(forms.ModelForm):
    class Meta:
        model = Integration
        fields = [
            "adapter",
            "name",
            "token",
            "enabled",
            "department",
            "team",
            "default_severity",
            "default_tags",
            "severity_map",
            "grouping_key",
            "field_map",
            "auto_resolve",
            "hmac_secret",
            "hmac_header",
            "hmac_timestamp_header",
        ]

    def clean_severity_map(self):
        value = self.cleaned_data.get("severity_map") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError('Use a JSON object, e.g. {"warning": "low"}.')
        bad = {k: v for k, v in value.items() if v not in Severity.values}
        if bad:
            raise forms.ValidationError(
                f"These map to unknown severities: {bad}; use one of {', '.join(Severity.values)}."
            )
        return value

    def clean_default_tags(self):
        value = self.cleaned_data.get("default_tags") or []
        if not isinstance(value, list):
            raise forms.ValidationError('Use a JSON list, e.g. ["prometheus", "infra"].')
        return value

    def clean_field_map(self):
        value = self.cleaned_data.get("field_map") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError('Use a JSON object, e.g. {"title": "alert.name"}.')
        try:
            compile_map(value)
        except AdapterError as exc:
            raise forms.ValidationError(exc.message) from None
        return value

    def clean_grouping_key(self):
        value = self.cleaned_data.get("grouping_key", "")
        try:
            adapters.base.group_key_from(value, {})
        except AdapterError as exc:
            raise forms.ValidationError(exc.message) from None
        return value


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
                settings = integration_settings(integration)
                payload = adapters.check(integration.adapter, form.cleaned_data["payload"].encode(), settings)
                alerts = [
                    {"alert": a, "observables": obs.extract(a.observables, f"{a.title}\n{a.description}")}
                    for a in adapters.normalise(integration.adapter, payload, settings)
                ]
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
