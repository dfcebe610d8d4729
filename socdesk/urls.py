"""URL map: console, API, operational endpoints and the Django admin."""

from django.contrib import admin
from django.urls import include, path

from socdesk.accounts.views import login_view, logout_view
from socdesk.audit.views import audit_browser
from socdesk.core.views import healthz
from socdesk.tickets.views import home

admin.site.site_header = "SOCdesk administration"
admin.site.site_title = "SOCdesk admin"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("login", login_view, name="login"),
    path("logout", logout_view, name="logout"),
    path("", home, name="home"),
    path("tickets/", include("socdesk.tickets.urls")),
    path("audit/", audit_browser, name="audit"),
]
