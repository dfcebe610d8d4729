"""Admin: routing configuration, read-only until its editor exists.

Filters, topics, custom forms, schedules and plans are written through the validating, audited services
(socdesk.routing.services); the admin only shows what is configured.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from socdesk.routing.models import (
    AssignmentPolicy,
    CustomField,
    CustomForm,
    DepartmentSLA,
    EscalationLevel,
    FilterRule,
    FilterWebhookDelivery,
    HelpTopic,
    Holiday,
    Schedule,
    SLAPlan,
    SLATarget,
    TicketSLA,
    WorkingHours,
)


class ReadOnly:
    """Shown in the admin, never added, changed or deleted there (alerts' admin has the same rule)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WorkingHoursInline(ReadOnly, admin.TabularInline):
    model = WorkingHours
    extra = 0
    fields = ["weekday", "start", "end"]
    readonly_fields = ["start", "end"]


class HolidayInline(ReadOnly, admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Schedule)
class ScheduleAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "time_zone", "always"]
    inlines = [WorkingHoursInline, HolidayInline]


class SLATargetInline(ReadOnly, admin.TabularInline):
    model = SLATarget
    extra = 0


class EscalationLevelInline(ReadOnly, admin.TabularInline):
    model = EscalationLevel
    extra = 0


@admin.register(SLAPlan)
class SLAPlanAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "schedule", "at_risk_share", "is_default"]
    list_select_related = ["schedule"]
    inlines = [SLATargetInline, EscalationLevelInline]


@admin.register(HelpTopic)
class HelpTopicAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "parent", "department", "team", "sla_plan", "form", "portal_visible"]
    list_select_related = ["parent", "department", "team", "sla_plan", "form"]


class CustomFieldInline(ReadOnly, admin.TabularInline):
    model = CustomField
    extra = 0
    fields = [
        "order",
        "name",
        "label",
        "type",
        "choices",
        "agent_visible",
        "agent_required",
        "user_visible",
        "user_required",
    ]


@admin.register(CustomForm)
class CustomFormAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "description"]
    inlines = [CustomFieldInline]


@admin.register(FilterRule)
class FilterRuleAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "order", "enabled", "channel", "hit_count", "last_matched_at", "disabled_reason"]
    exclude = ["webhook_secret"]  # shown to nobody once saved
    list_filter = ["enabled", "channel"]


@admin.register(AssignmentPolicy)
class AssignmentPolicyAdmin(ReadOnly, admin.ModelAdmin):
    """Set on the admin area's department and team pages (assignment_policy_set, admins only, audited)."""

    list_display = ["__str__", "mode", "last_agent", "updated_at"]
    list_select_related = ["department", "team", "last_agent__user"]


@admin.register(FilterWebhookDelivery)
class FilterWebhookDeliveryAdmin(ReadOnly, admin.ModelAdmin):
    """The delivery log of filters' outgoing webhooks: what was sent where, and how it went."""

    # The URL and the next attempt are on each delivery's page: the list stays one screen wide.
    list_display = [
        "created_at",
        "filter_name",
        "ticket_number",
        "status",
        "attempts",
        "response_code",
        "last_error",
    ]
    list_filter = ["status", "event"]
    search_fields = ["ticket_number", "filter_name", "url"]
    date_hierarchy = "created_at"


@admin.register(DepartmentSLA)
class DepartmentSLAAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["department", "plan", "manager"]
    list_select_related = ["department", "plan", "manager__user"]


@admin.register(TicketSLA)
class TicketSLAAdmin(ReadOnly, admin.ModelAdmin):
    """Tickets' SLA clocks, written by the ticket hooks and the SLA scan only."""

    list_display = ["ticket", "plan", "state", "response_due_at", "resolution_due_at", "next_check_at"]
    list_select_related = ["ticket", "plan"]
    list_filter = ["state"]
    raw_id_fields = ["ticket"]
