from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "socdesk.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from socdesk.tickets import audit_names

        audit_names.register()
