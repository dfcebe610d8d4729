"""`/metrics`: Prometheus' scrape endpoint, for the platform team (docs/metrics.md).

Let in by the bearer token (SOCDESK_METRICS_TOKEN) or by the client's address (SOCDESK_METRICS_ALLOW,
loopback by default); anyone else gets the same 404 as any unknown path, so the endpoint is not
advertised to the internet.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache

from socdesk.core.actor import client_ip, forwarded_by_untrusted_proxy
from socdesk.core.metrics import exposition


def scrape_allowed(request: HttpRequest) -> bool:
    """True when the request carries the metrics token or comes from an allowed address."""
    token = settings.SOCDESK_METRICS_TOKEN
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode()):
        return True
    address = client_ip(request)
    # A proxy on this machine that is not in SOCDESK_TRUSTED_PROXIES makes every client look local: the
    # address says nothing then, only the token lets the scrape in.
    if not address or forwarded_by_untrusted_proxy(request):
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network) for network in settings.SOCDESK_METRICS_ALLOW)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """GET /metrics: every SOCdesk metric in Prometheus' text format (404 unless allowed)."""
    if not scrape_allowed(request):  # checked first: not even a 405 tells a stranger it exists
        raise Http404("No such page.")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
