"""The audit trail's reading for /metrics: events written but not yet sealed into the chain."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from socdesk.audit.models import AuditEvent


def unsealed_reading() -> Iterator[Metric]:
    """`socdesk_audit_events_unsealed`: a count over the partial index of unsealed rows (small by design)."""
    yield GaugeMetricFamily(
        "socdesk_audit_events_unsealed",
        "Audit events written but not yet linked into the hash chain by the sealer (growing: it is down).",
        value=AuditEvent.objects.filter(seq__isnull=True).order_by().count(),
    )
