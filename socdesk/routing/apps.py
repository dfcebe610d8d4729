from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "socdesk.routing"
    label = "routing"
    verbose_name = "Routing"
