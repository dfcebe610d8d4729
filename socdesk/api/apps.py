from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "socdesk.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        # Requests reach the database through the API and the views; the check of an idle connection
        # applies to all of them.
        from socdesk.core import conn_health  # noqa: F401  (connects its request signals)
