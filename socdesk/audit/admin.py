"""Django admin changes are audited like every other change: a mixin for every app's ModelAdmins."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.forms.models import model_to_dict
from django.http import HttpResponseRedirect

from socdesk.audit.services import record
from socdesk.core.actor import Actor, client_ip
from socdesk.core.errors import ServiceError

# The mixins below go before admin.ModelAdmin in a class's bases; for mypy they are ModelAdmins.
if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


def admin_actor(request) -> Actor:
    """The admin making a change, as an Actor (an admin without an agent profile is still named)."""
    try:
        return Actor.for_agent(request.user.agent, ip=client_ip(request))
    except ObjectDoesNotExist:  # Agent.DoesNotExist, named without importing accounts (above audit)
        return Actor(kind="agent", label=request.user.get_username(), ident="", ip=client_ip(request))


class AuditedAdminMixin(_ModelAdmin):
    """Records admin.<model>_added / _changed / _deleted with before/after values via record().

    The "after" snapshot is taken once the related objects (many-to-many, inlines) are saved, so it
    shows what the admin really ended up with.
    """

    audit_exclude = ("password",)

    def audit_snapshot(self, obj) -> dict:
        data = model_to_dict(obj)
        for name in self.audit_exclude:
            data.pop(name, None)
        for key, value in list(data.items()):
            if isinstance(value, list):  # many-to-many: model instances -> ids
                data[key] = sorted(getattr(v, "pk", v) for v in value)
        return data

    def _audit_action(self, obj, suffix: str) -> str:
        return f"admin.{obj._meta.model_name}_{suffix}"

    def save_model(self, request, obj, form, change):
        before = None
        if change and obj.pk:
            old = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = self.audit_snapshot(old) if old else None
        request._audit_before = before
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before = getattr(request, "_audit_before", None)
        after = self.audit_snapshot(type(obj)._default_manager.get(pk=obj.pk))
        if change and before == after:
            return
        record(
            actor=admin_actor(request),
            action=self._audit_action(obj, "changed" if change else "added"),
            target=obj,
            before=before if change else None,
            after=after,
        )

    def delete_model(self, request, obj):
        before = self.audit_snapshot(obj)
        action, label, pk = self._audit_action(obj, "deleted"), str(obj)[:200], obj.pk
        super().delete_model(request, obj)
        record(
            actor=admin_actor(request),
            action=action,
            target_type=obj._meta.model_name,
            target_id=str(pk),
            target_label=label,
            before=before,
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class ServiceAdminMixin(_ModelAdmin):
    """For admin pages whose save_model calls audited services: a refusal (ServiceError) undoes every
    write of that save and comes back as an error message instead of "changed successfully"."""

    @contextmanager
    def service_writes(self, request):
        """Run a save's service calls in one savepoint; on a refusal keep none of them and report it."""
        try:
            with transaction.atomic():
                yield
        except ServiceError as exc:
            request._socdesk_refused = exc.message

    def save_related(self, request, form, formsets, change):
        pass  # the services wrote everything, related rows included

    def log_addition(self, request, obj, message):
        if not self._refusal(request):
            super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if not self._refusal(request):
            super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        return self._refused(request) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        return self._refused(request) or super().response_change(request, obj)

    def _refusal(self, request) -> str:
        return getattr(request, "_socdesk_refused", "")

    def _refused(self, request):
        if not self._refusal(request):
            return None
        self.message_user(request, f"Nothing was saved: {self._refusal(request)}", messages.ERROR)
        return HttpResponseRedirect(request.path)
