"""URL map: console, API, operational endpoints and the Django admin."""

from django.contrib import admin
from django.urls import path, re_path

from socdesk.api.osticket import create_ticket
from socdesk.core.views import healthz

admin.site.site_header = "SOCdesk administration"
admin.site.site_title = "SOCdesk admin"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # osTicket-compatible ticket API, at osTicket's own paths so existing integrations only change host.
    re_path(r"^api/(?:http\.php/)?tickets\.(?P<fmt>json|xml|email)$", create_ticket, name="osticket-create"),
    path("admin/", admin.site.urls),
]
