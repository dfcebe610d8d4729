"""The health endpoint (`/healthz`) for load balancers and monitors: the database, and the ingest backlog."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from socdesk import __version__
from socdesk.alerts.selectors import ingest_backlog


@never_cache
@require_GET
def healthz(request):
    """200 when the database answers, 503 with the reason otherwise (for load balancers and monitors).

    Also says how many webhook deliveries wait for the worker's ingest loop and for how long: a
    backlog is not a reason to take a web server out of rotation, but a monitor should page on an
    oldest delivery minutes old (the worker is down or cannot keep up).
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return JsonResponse(
            {"status": "error", "database": "unreachable", "detail": str(exc)[:200]}, status=503
        )
    try:
        ingest = ingest_backlog()
    except DatabaseError:  # e.g. not migrated yet: the web server is up all the same
        ingest = None
    return JsonResponse(
        {"status": "ok", "database": connection.vendor, "version": __version__, "ingest": ingest}
    )
