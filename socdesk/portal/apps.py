from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "socdesk.portal"
    label = "portal"
    verbose_name = "Requester portal"
