"""Permissions that a role grants within a department."""

from django.db import models


class Perm(models.TextChoices):
    VIEW = "view", "View tickets"
    CREATE = "create", "Create tickets"
    EDIT = "edit", "Edit tickets"
    ASSIGN = "assign", "Assign tickets"
    TRANSFER = "transfer", "Transfer tickets"
    REPLY = "reply", "Reply and add notes"
    CLOSE = "close", "Resolve and close tickets"
    DELETE = "delete", "Delete tickets"
    MANAGE = "manage", "Manage the department"
    SHARE_QUEUES = "share_queues", "Share saved searches with the department"


ALL_PERMS = frozenset(Perm.values)
# What an agent may do on a ticket assigned to them (or their team) in a department where they hold no role.
ASSIGNEE_PERMS = frozenset({Perm.VIEW, Perm.REPLY, Perm.EDIT, Perm.CLOSE})


class ClosedReply(models.TextChoices):
    """What a requester's e-mail to a closed ticket does (a department's setting; "" = the default)."""

    DEFAULT = "", "Installation default"
    REOPEN = "reopen", "Reopen it"
    NEW = "new", "Open a new linked ticket"
