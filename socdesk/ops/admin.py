"""The Django admin site as a whole: its titles, and who may use it (SOCdesk admins only).

The ModelAdmins stay with the apps that own the models; changes made through them are audited by
socdesk.audit.admin.AuditedAdminMixin.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

admin.site.site_header = "SOCdesk administration"
admin.site.site_title = "SOCdesk admin"


def admins_only(request) -> bool:
    """The admin site is for SOCdesk admins (superusers) only, not for every staff login."""
    return request.user.is_active and request.user.is_superuser


def sign_in_at_the_console(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The admin's sign-in page is the console's: one form, one throttle, one second step, one audit.

    Django's own admin login would check passwords outside the sign-in throttle; it checks none here.
    """
    target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
    return redirect(f"{reverse('login')}?{urlencode({'next': target})}")


# The default site's permission check and sign-in page, replaced on the instance (mypy refuses assigning
# to a method).
admin.site.has_permission = admins_only  # type: ignore[method-assign]
admin.site.login = sign_in_at_the_console  # type: ignore[method-assign]


# django-otp's plugins register their devices in the admin, where a change would skip the audit trail
# and could show secrets: agents manage their own devices on their Security page
# (socdesk/accounts/twofactor.py), every change audited. Done here because this app's admin module is
# imported last, after the plugins' own.
for _model in (apps.get_model("otp_totp", "TOTPDevice"), apps.get_model("otp_static", "StaticDevice")):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
