"""WSGI entry point served by granian (`socdesk serve`).

Webhook deliveries take a short way to their view (socdesk.alerts.hook_fastpath); everything else
goes through Django's full request cycle.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socdesk.settings")
django_application = get_wsgi_application()

from socdesk.alerts.hook_fastpath import HookFastPath  # noqa: E402  (needs Django set up)

application = HookFastPath(django_application)
