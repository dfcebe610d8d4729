from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "socdesk.alerts"
    label = "alerts"
    verbose_name = "Alerts"
