"""The requester portal's own rows: the one-time sign-in links mailed to requesters."""

from __future__ import annotations

from django.db import models


class SignInLink(models.Model):
    """A one-time link that signs a requester in to the portal: only its SHA-256 is kept, it works once
    and for a few minutes (SOCDESK_PORTAL_LINK_MINUTES)."""

    # The address it was mailed to (lower-case); the requester's contact is found or created on use.
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the link's secret.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    requested_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["expires_at"], name="portal_link_expires_idx")]

    def __str__(self) -> str:
        return f"sign-in link for {self.email}"
