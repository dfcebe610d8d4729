from django.contrib import admin

from socdesk.accounts.models import Agent, Contact, Department, DepartmentAccess, Organisation, Role, Team


class AccessInline(admin.TabularInline):
    model = DepartmentAccess
    extra = 1
    autocomplete_fields = ["department"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "email"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "permissions"]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "is_admin", "limit_to_assigned", "time_zone"]
    list_select_related = ["user"]
    search_fields = ["user__username", "display_name", "user__email"]
    inlines = [AccessInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "lead"]
    filter_horizontal = ["members"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "domain"]
    search_fields = ["name", "domain"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "organisation"]
    search_fields = ["email", "name"]
