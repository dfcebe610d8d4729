"""URL map: console, API, operational endpoints and the Django admin."""

from django.contrib import admin
from django.urls import path, re_path

from socdesk.api.v1.api import not_found as api_v1_not_found
from socdesk.api.v1.api import urls as api_v1_urls
from socdesk.core.views import healthz

admin.site.site_header = "SOCdesk administration"
admin.site.site_title = "SOCdesk admin"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1_urls()),
]

# Keep LAST: anything under /api/v1/ that no route above claimed is a JSON 404, not an HTML page.
# Other /api/v1/ routes (webhooks, TheHive-compatible alerts) must be listed above this line.
urlpatterns += [re_path(r"^api/v1/", api_v1_not_found)]
