"""WSGI entry point served by granian (`socdesk serve`).

Webhook deliveries and osTicket-API tickets take a short way to their views (socdesk.api.fastpath);
everything else goes through Django's full request cycle.
"""

import os

from socdesk.core.clients import skip_unconfigured_clients

skip_unconfigured_clients()  # before Django (and huey) load

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socdesk.settings")
django_application = get_wsgi_application()

from socdesk.api.fastpath import MachineFastPath  # noqa: E402  (needs Django set up)

application = MachineFastPath(django_application)
