from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "socdesk.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from socdesk.audit.metrics import unsealed_reading
        from socdesk.core.metrics import reading_register

        reading_register("audit", unsealed_reading)
