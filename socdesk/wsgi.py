"""WSGI entry point used by gunicorn (`socdesk serve`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socdesk.settings")
application = get_wsgi_application()
