from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Installed so that Django finds the `bootstrap` command and the admin site wiring in admin.py."""

    name = "socdesk.ops"
    label = "ops"
    verbose_name = "SOCdesk operations"
