"""URL map: console, API, operational endpoints and the Django admin."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from socdesk.accounts.oidc import oidc_callback, oidc_start
from socdesk.accounts.twofactor_views import verify_view
from socdesk.accounts.views import login_view, logout_view
from socdesk.accounts.web import admin_view
from socdesk.api.osticket import create_ticket
from socdesk.api.v1.api import not_found as api_v1_not_found
from socdesk.api.v1.api import urls as api_v1_urls
from socdesk.api.v1.api import view as api_v1_view
from socdesk.audit.views import audit_browser
from socdesk.ops.metrics import metrics
from socdesk.ops.views import healthz
from socdesk.tickets.views import home

# Error pages in the console's style; API paths get the JSON error shape (socdesk/core/error_pages.py).
handler403 = "socdesk.core.error_pages.permission_denied"
handler404 = "socdesk.core.error_pages.page_not_found"
handler500 = "socdesk.core.error_pages.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Prometheus' scrape endpoint (docs/metrics.md): a token or an allowed address, else 404.
    path("metrics", metrics, name="metrics"),
    # Browsers and tools that ask for /favicon.ico without reading the page's <link rel="icon">.
    path("favicon.ico", RedirectView.as_view(url=static("socdesk/favicon.svg"), permanent=True)),
    # osTicket-compatible ticket API, at osTicket's own paths so existing integrations only change host.
    re_path(r"^api/(?:http\.php/)?tickets\.(?P<fmt>json|xml|email)$", create_ticket, name="osticket-create"),
    # TheHive 3/4's legacy alert path (ElastAlert2's hivealerter): the same operation as /api/v1/alert.
    path("api/alert", api_v1_view("thehive_alert_create"), name="thehive-legacy-alert"),
    path("admin/", admin.site.urls),
    # The console's admin area (agents, departments, teams, roles, integrations, API keys).
    path("admin-area/", include("socdesk.adminarea.urls")),
    path("login", login_view, name="login"),
    path("logout", logout_view, name="logout"),
    # Two-factor sign-in: the second step, and the agent's Security page.
    path("login/verify", verify_view, name="login-verify"),
    path("account/", include("socdesk.accounts.urls")),
    # OpenID Connect sign-in (404 unless SOCDESK_OIDC_CLIENT_ID is set); the callback is the redirect URI.
    path("oidc/authenticate/", oidc_start, name="oidc_authentication_init"),
    path("oidc/callback/", oidc_callback, name="oidc_authentication_callback"),
    path("", home, name="home"),
    # Webhook receivers (/api/v1/hooks/...) and the ticket observables panel (/tickets/<n>/observables).
    path("", include("socdesk.alerts.urls")),
    # Help topics and custom fields: the new-ticket form's topic section and the ticket page's panel.
    path("", include("socdesk.routing.urls")),
    path("tickets/", include("socdesk.tickets.urls")),
    # The SOC dashboard (docs/console.md#dashboard) and its charts' CSV.
    path("", include("socdesk.reports.urls")),
    path("notifications/", include("socdesk.notifications.urls")),
    path("mail/", include("socdesk.mail.urls")),
    # Wrapped here, not in socdesk/audit: the audit app sits below accounts, which knows who is an admin.
    path("audit/", admin_view(audit_browser), name="audit"),
    path("api/v1/", api_v1_urls()),
]

# Keep LAST: anything under /api/v1/ that no route above claimed is a JSON 404, not an HTML page.
# Other /api/v1/ routes (webhooks, TheHive-compatible alerts) must be listed above this line.
urlpatterns += [re_path(r"^api/v1/", api_v1_not_found)]
