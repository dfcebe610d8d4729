from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "socdesk.accounts"
    label = "accounts"
    verbose_name = "Agents, departments and requesters"
