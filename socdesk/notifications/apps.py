from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "socdesk.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # After routing's hooks (INSTALLED_APPS order): the assignee and team a rule or auto-assignment
        # chose are on the draft by the time these read it.
        from socdesk.notifications import triggers

        triggers.register()
