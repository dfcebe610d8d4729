"""`socdesk createsuperuser`: Django's command, plus the new superuser's agent profile and an audit event.

A login made here becomes a SOCdesk admin at once (an agent with is_admin, matching is_superuser), and
the creation is recorded as `agent.created` by `cli:createsuperuser`, like any other new login.
"""

from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.management.commands import createsuperuser

from socdesk.accounts.services import superuser_adopt
from socdesk.core.actor import Actor


class Command(createsuperuser.Command):
    help = createsuperuser.Command.help + " It is recorded in the audit trail with its agent profile."

    def handle(self, *args, **options):
        User = get_user_model()
        database = options.get("database")
        before = set(User._default_manager.db_manager(database).values_list("pk", flat=True))
        super().handle(*args, **options)
        actor = Actor.system(f"cli:createsuperuser ({getpass.getuser()})")
        for user in User._default_manager.db_manager(database).exclude(pk__in=before):
            superuser_adopt(actor=actor, user=user)
