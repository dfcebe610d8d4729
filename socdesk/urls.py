"""URL map: console, API, operational endpoints and the Django admin."""

from django.contrib import admin
from django.urls import include, path

from socdesk.core.views import healthz

admin.site.site_header = "SOCdesk administration"
admin.site.site_title = "SOCdesk admin"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("socdesk.alerts.urls")),
]
