from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "socdesk.accounts"
    label = "accounts"
    verbose_name = "Agents, departments and requesters"

    def ready(self) -> None:
        # django-otp's plugins register their devices in the admin, where a change would skip the audit
        # trail and could show secrets: agents manage their own devices on their Security page
        # (socdesk/accounts/twofactor.py), every change audited.
        from django.apps import apps
        from django.contrib import admin

        from socdesk.accounts import checks  # noqa: F401  (registers the deploy checks)

        for model in (apps.get_model("otp_totp", "TOTPDevice"), apps.get_model("otp_static", "StaticDevice")):
            if admin.site.is_registered(model):
                admin.site.unregister(model)
