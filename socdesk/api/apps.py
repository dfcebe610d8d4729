from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "socdesk.api"
    label = "api"
    verbose_name = "API"
