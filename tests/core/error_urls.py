"""The project's URLs plus a view that fails, to see the 500 page (used with pytest.mark.urls)."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from socdesk.urls import handler403, handler404, handler500, urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def _boom(request):
    raise RuntimeError("database password is hunter2 (an internal detail that must never be shown)")


def _refused(request):
    raise PermissionDenied("row 42 of table accounts_role (an internal detail)")


urlpatterns = [
    path("test-boom", _boom),
    path("api/test-boom", _boom),
    path("test-refused", _refused),
    *urlpatterns,
]
