from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Installed so that Django finds the `bootstrap` command and the admin site wiring in admin.py."""

    name = "socdesk.ops"
    label = "ops"
    verbose_name = "SOCdesk operations"

    def ready(self) -> None:
        # /metrics: open tickets and outgoing mail, read at scrape time (socdesk/ops/readings.py).
        from socdesk.core.metrics import reading_register
        from socdesk.ops.readings import mail_reading, tickets_reading

        reading_register("tickets", tickets_reading)
        reading_register("mail", mail_reading)
