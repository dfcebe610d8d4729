from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "socdesk.kb"
    label = "kb"
    verbose_name = "Knowledge base"
