"""Alert vocabularies: adapters (sources), alert status, grouping, delivery status, observable types."""

from django.db import models


class Adapter(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    GRAFANA = "grafana", "Grafana"
    SPLUNK = "splunk", "Splunk"
    ELASTIC = "elastic", "Elastic / Kibana"
    WAZUH = "wazuh", "Wazuh"
    SURICATA = "suricata", "Suricata EVE"
    AZURE_MONITOR = "azure-monitor", "Azure Monitor"
    GENERIC = "generic", "Generic JSON"
    THEHIVE = "thehive", "TheHive API"


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class GroupBy(models.TextChoices):
    """How an Alertmanager integration puts alerts into tickets."""

    GROUP = "group", "One ticket per Alertmanager notification group (groupKey)"
    FINGERPRINT = "fingerprint", "One ticket per alert (fingerprint)"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class ObservableType(models.TextChoices):
    IP = "ip", "IP address"
    DOMAIN = "domain", "Domain"
    HOSTNAME = "hostname", "Hostname"
    URL = "url", "URL"
    EMAIL = "email", "Email address"
    MD5 = "md5", "MD5"
    SHA1 = "sha1", "SHA-1"
    SHA256 = "sha256", "SHA-256"
    CVE = "cve", "CVE"
    USER = "user", "User account"
    FILENAME = "filename", "File name"
    OTHER = "other", "Other"
