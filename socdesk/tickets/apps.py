from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "socdesk.tickets"
    label = "tickets"
    verbose_name = "Tickets"
