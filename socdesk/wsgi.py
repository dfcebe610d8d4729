"""WSGI entry point served by granian (`socdesk serve`).

Webhook deliveries and osTicket-API tickets take a short way to their views (socdesk.api.fastpath);
everything else goes through Django's full request cycle. `socdesk serve` runs `served_application`:
the same with the access log (socdesk.core.access_log) unless SOCDESK_ACCESS_LOG is off; `runserver`
and the tests use `application`, which logs nothing of its own.
"""

import os

from socdesk.core.clients import skip_unconfigured_clients

skip_unconfigured_clients()  # before Django (and huey) load

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socdesk.settings")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from socdesk.api.fastpath import MachineFastPath  # noqa: E402  (needs Django set up)
from socdesk.core.access_log import access_logged  # noqa: E402

application = MachineFastPath(django_application)
served_application = access_logged(application, enabled=settings.SOCDESK_ACCESS_LOG)
