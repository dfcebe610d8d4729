"""Admin pages for accounts. Each change is written by an audited service or recorded by
AuditedAdminMixin; logins (users) go through the user_* services, and Django's groups are not used."""

from __future__ import annotations

from contextvars import ContextVar

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminPasswordChangeForm as AdminOwnPasswordChangeForm
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.template.response import TemplateResponse
from django.urls import reverse

from socdesk.accounts.forms import ApiKeyAddForm
from socdesk.accounts.models import (
    Agent,
    ApiKey,
    Contact,
    Department,
    DepartmentAccess,
    Organisation,
    Role,
    Team,
)
from socdesk.accounts.selectors import apikey_last_used, apikey_state
from socdesk.accounts.services import (
    USER_FLAGS,
    USER_PROFILE_FIELDS,
    agent_create,
    apikey_create,
    apikey_revoke,
    apikey_rotate,
    user_edit,
    user_set_flags,
    user_set_password,
)
from socdesk.audit.admin import AuditedAdminMixin, ServiceAdminMixin, admin_actor
from socdesk.core.errors import ServiceError


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
    """Agents' profiles and department roles. `is_admin` is read-only here: it mirrors the login's
    superuser flag and changes with it (Users page, user_set_flags), so the two never disagree; so is the
    availability, which agents switch themselves (top bar, REST)."""

    list_display = ["user", "display_name", "is_admin", "available", "limit_to_assigned", "time_zone"]
    list_select_related = ["user"]
    # Availability is the agent's own switch (agent_set_availability keeps its time and audits it).
    readonly_fields = ["is_admin", "available", "available_changed_at"]
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


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created through apikey_create (audited, key shown once) and revoked, never edited."""

    list_display = [
        "name",
        "prefix",
        "scope_list",
        "allow_list",
        "department",
        "state",
        "expires_at",
        "last_used",
    ]
    list_filter = ["department"]
    search_fields = ["name", "prefix"]
    list_select_related = ["department", "agent__user", "replaced_by"]
    actions = ["rotate_key", "revoke_keys"]
    readonly_fields = [
        "name",
        "prefix",
        "scopes",
        "allowed_cidrs",
        "department",
        "agent",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "last_used_ip",
        "replaced_by",
    ]
    # key_hash is never shown or editable, not even read-only.
    exclude = ["key_hash"]

    @admin.display(description="scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    @admin.display(description="allow-list")
    def allow_list(self, key: ApiKey) -> str:
        return ", ".join(key.allowed_cidrs) or "any address"

    @admin.display(description="last used", ordering="last_used_at")
    def last_used(self, key: ApiKey) -> str:
        return apikey_last_used(key)

    @admin.display(description="state")
    def state(self, key: ApiKey) -> str:
        return apikey_state(key)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApiKeyAddForm.Meta.fields
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        # A key's settings are fixed at creation (audited); rotate by creating a new one and revoking.
        return False

    def has_delete_permission(self, request, obj=None):
        # Revoked keys stay listed so the audit trail's actor labels keep pointing at something.
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        key, raw = apikey_create(
            actor=admin_actor(request),
            name=data["name"],
            scopes=data["scopes"],
            allowed_cidrs=data["allowed_cidrs"],
            expires_at=data.get("expires_at"),
            agent=data.get("agent"),
            department=data.get("department"),
        )
        obj.pk, obj.prefix = key.pk, key.prefix
        obj._state.adding = False
        request._socdesk_new_key = raw

    def save_related(self, request, form, formsets, change):
        pass  # nothing related; the service wrote everything

    def response_add(self, request, obj, post_url_continue=None):
        """Show the new key once, on a page of its own, instead of redirecting to the list."""
        return TemplateResponse(
            request,
            "admin/accounts/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "title": f"API key {obj.name} created",
                "key": obj,
                "raw_key": request._socdesk_new_key,
                "opts": self.model._meta,
            },
        )

    @admin.action(
        description="Rotate the selected API key (new key shown once; the old one works for a while)"
    )
    def rotate_key(self, request, queryset):
        keys = list(queryset[:2])
        if len(keys) != 1:
            self.message_user(
                request, "Select exactly one key to rotate: its new key is shown once.", messages.ERROR
            )
            return None
        old = keys[0]
        try:
            new, raw = apikey_rotate(actor=admin_actor(request), key=old)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        old.refresh_from_db()
        return TemplateResponse(
            request,
            "admin/accounts/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "title": f"API key {new.name} rotated",
                "key": new,
                "raw_key": raw,
                "rotated_from": old,
                "opts": self.model._meta,
            },
        )

    @admin.action(description="Revoke selected API keys")
    def revoke_keys(self, request, queryset):
        actor = admin_actor(request)
        revoked = 0
        for key in queryset:
            try:
                apikey_revoke(actor=actor, key=key)
                revoked += 1
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        if revoked:
            self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)


# --- logins --------------------------------------------------------------------------------------------

# SOCdesk grants rights with departments and roles; Django's groups and model permissions are unused
# (the admin site is for superusers only), so they are not offered.
admin.site.unregister(Group)

# Django builds the password form with (user, data) only; the admin view that does so sets the request.
_password_request: ContextVar = ContextVar("password_request")


class AuditedPasswordChangeForm(AdminPasswordChangeForm):
    """Django's admin password form, saving through user_set_password so the change is audited."""

    def save(self, commit=True):
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        return user_set_password(
            actor=admin_actor(_password_request.get()), user=self.user, password=password
        )


class AuditedOwnPasswordChangeForm(AdminOwnPasswordChangeForm):
    """The admin site's "change password" form (an admin's own, old password required), saving through
    user_set_password so the change is audited."""

    def save(self, commit=True):
        return user_set_password(
            actor=admin_actor(_password_request.get()),
            user=self.user,
            password=self.cleaned_data["new_password1"],
        )


def audited_password_change(request, extra_context=None):
    """AdminSite.password_change with the audited form (Django's names its form class inline)."""
    from django.contrib.auth.views import PasswordChangeView

    token = _password_request.set(request)
    try:
        request.current_app = admin.site.name
        return PasswordChangeView.as_view(
            form_class=AuditedOwnPasswordChangeForm,
            success_url=reverse("admin:password_change_done", current_app=admin.site.name),
            extra_context={**admin.site.each_context(request), **(extra_context or {})},
        )(request)
    finally:
        _password_request.reset(token)


# Replaced on the instance, like socdesk.ops.admin's permission check (mypy refuses assigning to a method).
admin.site.password_change = audited_password_change  # type: ignore[method-assign]

admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class LoginAdmin(ServiceAdminMixin, UserAdmin):
    """Logins: a new one is created with its agent profile (agent_create); name, email, flags and
    password changes go through the user_* services. Logins are deactivated, never deleted, so the
    audit trail and the tickets keep naming who acted."""

    change_password_form = AuditedPasswordChangeForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": USER_FLAGS}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined"]
    list_filter = list(USER_FLAGS)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        actor, data = admin_actor(request), form.cleaned_data
        with self.service_writes(request):
            if change:
                edits = {name: data[name] for name in USER_PROFILE_FIELDS if name in form.changed_data}
                flags = {name: data[name] for name in USER_FLAGS if name in form.changed_data}
                if edits:
                    user_edit(actor=actor, user=obj, **edits)
                if flags:
                    user_set_flags(actor=actor, user=obj, **flags)
            else:
                password = data["password1"] if data.get("set_usable_password", True) else None
                agent = agent_create(actor=actor, username=data["username"], email="", password=password)
                obj.pk = agent.user.pk
                obj._state.adding = False

    def user_change_password(self, request, id, form_url=""):
        token = _password_request.set(request)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_request.reset(token)
