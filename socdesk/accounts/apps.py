from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "socdesk.accounts"
    label = "accounts"
    verbose_name = "Agents, departments and requesters"

    def ready(self) -> None:
        from socdesk.accounts import audit_names, checks  # noqa: F401  (checks registers the deploy checks)

        audit_names.register()
