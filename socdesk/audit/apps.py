from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "socdesk.audit"
    label = "audit"
    verbose_name = "Audit trail"
