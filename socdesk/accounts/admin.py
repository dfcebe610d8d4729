from django.contrib import admin

from socdesk.accounts.models import Agent, Contact, Department, DepartmentAccess, Organisation, Role, Team
from socdesk.core.admin import AuditedAdminMixin


class AccessInline(admin.TabularInline):
    model = DepartmentAccess
    extra = 1
    autocomplete_fields = ["department"]


@admin.register(Department)
class DepartmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "email"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Role)
class RoleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "permissions"]


@admin.register(Agent)
class AgentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "display_name", "is_admin", "limit_to_assigned", "time_zone"]
    list_select_related = ["user"]
    search_fields = ["user__username", "display_name", "user__email"]
    inlines = [AccessInline]

    def audit_snapshot(self, obj) -> dict:
        # An agent's department roles live in inline rows; they are the part of an agent that matters most.
        data = super().audit_snapshot(obj)
        data["accesses"] = sorted(
            f"{a.department.name}: {a.role.name}" for a in obj.accesses.select_related("department", "role")
        )
        return data


@admin.register(Team)
class TeamAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "department", "lead"]
    filter_horizontal = ["members"]


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "domain"]
    search_fields = ["name", "domain"]


@admin.register(Contact)
class ContactAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["email", "name", "organisation"]
    search_fields = ["email", "name"]
