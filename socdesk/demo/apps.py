from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Installed only so that Django finds the `demo` management command; the app has no models."""

    name = "socdesk.demo"
    label = "demo"
    verbose_name = "SOCdesk demo data"
