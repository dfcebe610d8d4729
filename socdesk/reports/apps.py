from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "socdesk.reports"
    label = "reports"
    verbose_name = "Reports"
