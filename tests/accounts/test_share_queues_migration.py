"""The migration that added `share_queues` gave it to the roles that manage a department, and only them."""

from __future__ import annotations

import importlib

from django.apps import apps

from socdesk.accounts.models import Role

migration = importlib.import_module("socdesk.accounts.migrations.0006_share_queues_permission")


def test_roles_that_manage_get_share_queues_and_others_do_not(db):
    lead = Role.objects.create(name="Lead", permissions=["manage", "view"])
    analyst = Role.objects.create(name="Analyst", permissions=["reply", "view"])
    migration.grant_to_managers(apps, None)
    lead.refresh_from_db()
    analyst.refresh_from_db()
    assert lead.permissions == ["manage", "share_queues", "view"]
    assert analyst.permissions == ["reply", "view"]
    migration.grant_to_managers(apps, None)  # running it twice adds nothing twice
    lead.refresh_from_db()
    assert lead.permissions.count("share_queues") == 1
    migration.revoke(apps, None)
    lead.refresh_from_db()
    assert lead.permissions == ["manage", "view"]
