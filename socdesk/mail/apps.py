from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "socdesk.mail"
    label = "mail"
    verbose_name = "Email"
