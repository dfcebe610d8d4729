"""Errors that services raise; every interface turns them into a message a person can act on."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused change, with a sentence for the person who asked for it."""

    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class PermissionDenied(ServiceError):
    """The actor may see the object but lacks the permission for this change."""

    code = "forbidden"


class NotFound(ServiceError):
    """The object does not exist, or the actor may not see it (the two are never told apart)."""

    code = "not_found"


class StaleVersion(ServiceError):
    """The change was based on an older version of the object than the stored one."""

    code = "conflict"
