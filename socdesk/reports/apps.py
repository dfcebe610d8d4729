from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """SOC metrics: the per-ticket facts, the daily roll-ups kept from them, and the figures read off them."""

    name = "socdesk.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        # Every ticket created or changed, and every change the tickets app does not see as one (alert
        # repeats, SLA targets decided by the scan, deletion), marks the ticket for the next fold.
        from socdesk.reports.journal import mark_changed, mark_created, mark_touched
        from socdesk.tickets.hooks import hook_register

        hook_register(created=mark_created, changed=mark_changed, touched=mark_touched)
