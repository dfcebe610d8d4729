"""The audit trail: one append-only, hash-chained event per action by any person, key or job."""

from __future__ import annotations

from django.db import models

# The fields covered by an event's content hash, in the order they are documented.
HASHED_FIELDS = (
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "ip",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "before",
    "after",
)

# The action of the event retention writes when it deletes the oldest events: its `after` names the last
# purged event (`through_seq`, `through_hash`), so `audit verify` can start the chain there.
PURGE_CHECKPOINT_ACTION = "audit.purged"


class AuditEvent(models.Model):
    """Who did what to which object, when and from where, with before/after values.

    `content_hash` is written with the event. `seq`, `prev_hash` and `chain_hash` are filled in once,
    shortly after commit, by the sealer (see docs/audit.md for why chaining is deferred).
    """

    occurred_at = models.DateTimeField(db_index=True)
    actor_type = models.CharField(max_length=20)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200)
    ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    chain_hash = models.CharField(max_length=64, blank=True)

    # Not columns: the audit browser's compact before/after text and its fields in words, for its template
    # (socdesk.audit.views; the FieldChange list comes from socdesk.audit.describe).
    before_json: str
    after_json: str
    changes: list

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "id"], name="audit_target_idx"),
            models.Index(fields=["actor_type", "actor_id", "id"], name="audit_actor_idx"),
            models.Index(fields=["seq"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target_label}"

    def hashed_content(self) -> dict:
        return {name: getattr(self, name) for name in HASHED_FIELDS}
